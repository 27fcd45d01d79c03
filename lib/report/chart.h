// Line charts as inline SVG for the report page: a frame with ticked, labelled axes, solid and
// dashed curves, vertical markers on the x axis, and a legend. It draws what it is given: it
// reads no files, picks no colours and knows nothing of runs.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace repro {

struct ChartPoint {
  double x = 0, y = 0;
};

struct ChartSeries {
  std::string label;               // legend text (escaped when drawn)
  std::string color;               // a CSS colour written by the caller, e.g. "var(--run-0)"
  bool dashed = false;             // validation curves
  bool dots = false;               // a dot at every point, so that a one-epoch curve still shows
  std::vector<ChartPoint> points;  // in x order; a value that is not finite (or past 1e300)
                                   // breaks the line there
};

// A vertical line across the plot at x, labelled at its top (the first trace divergence).
struct ChartMarker {
  double x = 0;
  std::string label;
};

struct Chart {
  std::string title, x_label, y_label;
  bool integer_x = false;  // x ticks at whole numbers only (epochs)
  std::vector<ChartSeries> series;
  std::vector<ChartMarker> markers;
};

// Maps a value in [lo, hi] onto pixels [pixel_lo, pixel_hi] (pixel_hi < pixel_lo for y, which
// grows downwards).
struct Scale {
  double lo = 0, hi = 1;
  double pixel_lo = 0, pixel_hi = 1;
  double pixel(double value) const;
};

// Where a chart's data lands: the scales and the tick values, for drawing and for tests.
struct ChartFrame {
  Scale x, y;
  std::vector<double> x_ticks, y_ticks;
};

// Fixed geometry of every chart, in SVG user units.
constexpr double kChartWidth = 640;
constexpr double kPlotLeft = 72, kPlotRight = 624, kPlotTop = 40, kPlotBottom = 260;

// Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi], about `target` of them;
// with `integer` no step below 1.
std::vector<double> nice_ticks(double lo, double hi, int target, bool integer);

// The frame for a chart's finite points and markers: y widened to round ticks, x too unless
// integer_x (then a quarter step beyond the first and last value).
ChartFrame chart_frame(const Chart& chart);

// At most `max_points` of `points`, evenly strided, always the first and the last.
std::vector<ChartPoint> thin_points(const std::vector<ChartPoint>& points, size_t max_points);

// The chart as one <svg> element (no XML prolog), to be inlined in an HTML page whose CSS gives
// the classes their colours (chart, grid, axis, curve, dashed, marker, legend).
std::string chart_svg(const Chart& chart);

}  // namespace repro
