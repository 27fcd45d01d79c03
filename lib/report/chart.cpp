// The SVG line chart. Geometry is fixed (kChartWidth wide, the legend below the plot grows the
// height); coordinates are written with two decimals. Styling beyond the essentials (dashes,
// widths) is left to the page's CSS so that light and dark schemes both read well.
#include "report/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "report/html.h"

namespace repro {
namespace {

// Values past 1e300 are not drawn (a diverged loss): spans and tick steps then stay finite.
bool drawable(double value) { return std::isfinite(value) && std::fabs(value) <= 1e300; }

constexpr double kLegendRow = 18;     // height of a legend row
constexpr double kCharWidth = 6.8;    // rough width of a 12px character, for the legend's flow
constexpr double kLegendSample = 30;  // the line sample before a legend label

// A tick step, units * 10^exponent with units 1, 2 or 5, and its multiples computed so that they
// are the doubles nearest the decimal values (0.6, not 3 * 0.2 = 0.6000000000000001).
struct TickStep {
  double units = 1;
  int exponent = 0;
  double times(double k) const {
    const double power = std::pow(10.0, std::abs(exponent));
    return exponent < 0 ? k * units / power : k * units * power;
  }
};

// The tick step for [lo, hi]: about `target` ticks; a span too small for a step of 1e-300 or
// more gets a step of 1.
TickStep nice_step(double lo, double hi, int target, bool integer) {
  const double raw = (hi - lo) / std::max(1, target);
  if (!(raw >= 1e-300)) return {1, 0};
  int exponent = static_cast<int>(std::floor(std::log10(raw)));
  const double norm = raw / std::pow(10.0, exponent);
  double units = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  if (units == 10) units = 1, exponent += 1;
  if (integer && exponent < 0) units = 1, exponent = 0;
  return {units, exponent};
}

// [lo, hi] made a range that can be drawn: a single value gets room around it.
void widen_flat(double& lo, double& hi) {
  if (hi > lo) return;
  const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.05;
  lo -= pad;
  hi += pad;
}

// The domain widened to whole tick steps, and its ticks.
void round_to_ticks(double& lo, double& hi, std::vector<double>& ticks, int target) {
  widen_flat(lo, hi);
  const TickStep step = nice_step(lo, hi, target, false);
  const double unit = step.times(1);
  lo = step.times(std::floor(lo / unit + 1e-9));
  hi = step.times(std::ceil(hi / unit - 1e-9));
  ticks = nice_ticks(lo, hi, target, false);
}

// Tick text with as many decimals as the tick step needs ("0.25", "1500"); "2e+08" and "5e-09"
// for steps too large or small for that to read well.
std::string tick_text(double value, const std::vector<double>& ticks) {
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  char buffer[64];
  if (step >= 1e6 || step < 1e-6) {
    std::snprintf(buffer, sizeof buffer, "%.6g", value == 0 ? 0.0 : value);
    return buffer;
  }
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value == 0 ? 0.0 : value);
  return buffer;
}

size_t code_points(const std::string& text) {
  size_t count = 0;
  for (const char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  return count;
}

// The presentation attributes every curve and legend sample carries, so the SVG keeps its
// shape even where the page's CSS is gone (saved on its own).
std::string stroke_attributes(const ChartSeries& series) {
  std::string out = " fill=\"none\" stroke-width=\"2\" style=\"stroke:" + series.color + "\"";
  if (series.dashed) out += " stroke-dasharray=\"6 4\"";
  return out;
}

std::string dot(const ChartSeries& series, double cx, double cy) {
  return "<circle class=\"dot" + std::string(series.dashed ? " hollow" : "") + "\" cx=\"" +
         svg_number(cx) + "\" cy=\"" + svg_number(cy) +
         "\" r=\"3.5\" stroke-width=\"1.5\" style=\"stroke:" + series.color +
         ";fill:" + (series.dashed ? std::string("var(--bg)") : series.color) + "\"/>";
}

// "M x,y L x,y ..." with a new "M" after every non-finite value.
std::string path_data(const std::vector<ChartPoint>& points, const ChartFrame& frame) {
  std::string d;
  bool pen_down = false;
  for (const ChartPoint& p : points) {
    if (!drawable(p.x) || !drawable(p.y)) {
      pen_down = false;
      continue;
    }
    if (!d.empty()) d += ' ';
    d += pen_down ? "L" : "M";
    d += svg_number(frame.x.pixel(p.x)) + "," + svg_number(frame.y.pixel(p.y));
    pen_down = true;
  }
  return d;
}

std::string line(double x1, double y1, double x2, double y2) {
  return "<line x1=\"" + svg_number(x1) + "\" y1=\"" + svg_number(y1) + "\" x2=\"" +
         svg_number(x2) + "\" y2=\"" + svg_number(y2) + "\"/>";
}

std::string text(const std::string& cls, double x, double y, const std::string& anchor,
                 const std::string& content) {
  return "<text class=\"" + cls + "\" x=\"" + svg_number(x) + "\" y=\"" + svg_number(y) +
         "\" text-anchor=\"" + anchor + "\">" + html_escape(content) + "</text>";
}

}  // namespace

double Scale::pixel(double value) const {
  return pixel_lo + (value - lo) / (hi - lo) * (pixel_hi - pixel_lo);
}

std::vector<double> nice_ticks(double lo, double hi, int target, bool integer) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo)) return {lo};
  const TickStep step = nice_step(lo, hi, target, integer);
  const double unit = step.times(1);
  std::vector<double> ticks;
  const double first = std::ceil(lo / unit - 1e-9), last = std::floor(hi / unit + 1e-9);
  for (double k = first; k <= last && ticks.size() < 100; k += 1) {
    const double value = step.times(k);
    ticks.push_back(value == 0 ? 0.0 : value);  // no "-0"
  }
  return ticks;
}

ChartFrame chart_frame(const Chart& chart) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const ChartSeries& series : chart.series) {
    for (const ChartPoint& p : series.points) {
      if (!drawable(p.x) || !drawable(p.y)) continue;
      x_lo = std::min(x_lo, p.x);
      x_hi = std::max(x_hi, p.x);
      y_lo = std::min(y_lo, p.y);
      y_hi = std::max(y_hi, p.y);
    }
  }
  for (const ChartMarker& m : chart.markers) {
    if (!drawable(m.x)) continue;
    x_lo = std::min(x_lo, m.x);
    x_hi = std::max(x_hi, m.x);
  }
  if (x_lo > x_hi) x_lo = x_hi = chart.integer_x ? 1 : 0;
  if (y_lo > y_hi) y_lo = 0, y_hi = 1;

  ChartFrame frame;
  if (chart.integer_x) {
    frame.x_ticks = x_hi > x_lo ? nice_ticks(x_lo, x_hi, 8, true) : std::vector<double>{x_lo};
    x_lo -= 0.25;
    x_hi += 0.25;
  } else {
    round_to_ticks(x_lo, x_hi, frame.x_ticks, 8);
  }
  round_to_ticks(y_lo, y_hi, frame.y_ticks, 5);
  frame.x = Scale{x_lo, x_hi, kPlotLeft, kPlotRight};
  frame.y = Scale{y_lo, y_hi, kPlotBottom, kPlotTop};
  return frame;
}

std::vector<ChartPoint> thin_points(const std::vector<ChartPoint>& points, size_t max_points) {
  if (points.size() <= max_points || max_points < 2) return points;
  const size_t stride = (points.size() - 1 + max_points - 2) / (max_points - 1);
  std::vector<ChartPoint> out;
  for (size_t i = 0; i + 1 < points.size(); i += stride) out.push_back(points[i]);
  out.push_back(points.back());  // ceil((n - 1) / stride) <= max_points - 1 before it
  return out;
}

std::string chart_svg(const Chart& chart) {
  const ChartFrame frame = chart_frame(chart);

  // The legend flows left to right below the axis label, a new row where a label would not fit.
  struct Place {
    double x, y;
  };
  std::vector<Place> legend;
  double lx = kPlotLeft, ly = kPlotBottom + 58;
  for (const ChartSeries& series : chart.series) {
    const double width =
        kLegendSample + 8 + kCharWidth * static_cast<double>(code_points(series.label)) + 18;
    if (lx > kPlotLeft && lx + width > kChartWidth) {
      lx = kPlotLeft;
      ly += kLegendRow;
    }
    legend.push_back({lx, ly});
    lx += width;
  }
  const double height = (chart.series.empty() ? kPlotBottom + 46 : ly + 10);

  const std::string title = html_escape(chart.title);
  std::string out = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    svg_number(kChartWidth) + " " + svg_number(height) + "\" width=\"" +
                    svg_number(kChartWidth) + "\" height=\"" + svg_number(height) +
                    "\" role=\"img\" aria-label=\"" + title + "\">\n<title>" + title + "</title>\n";
  out += text("chart-title", kPlotLeft, 22, "start", chart.title) + "\n";

  out += "<g class=\"grid\">";
  for (const double t : frame.y_ticks) {
    const double py = frame.y.pixel(t);
    out += line(kPlotLeft, py, kPlotRight, py);
  }
  for (const double t : frame.x_ticks) {
    const double px = frame.x.pixel(t);
    out += line(px, kPlotTop, px, kPlotBottom);
  }
  out += "</g>\n<g class=\"axis\">";
  out += line(kPlotLeft, kPlotBottom, kPlotRight, kPlotBottom);
  out += line(kPlotLeft, kPlotTop, kPlotLeft, kPlotBottom);
  for (const double t : frame.y_ticks) {
    const double py = frame.y.pixel(t);
    out += line(kPlotLeft - 5, py, kPlotLeft, py);
    out += text("tick y-tick", kPlotLeft - 8, py + 4, "end", tick_text(t, frame.y_ticks));
  }
  for (const double t : frame.x_ticks) {
    const double px = frame.x.pixel(t);
    out += line(px, kPlotBottom, px, kPlotBottom + 5);
    out += text("tick x-tick", px, kPlotBottom + 18, "middle", tick_text(t, frame.x_ticks));
  }
  out += "</g>\n";
  out += text("axis-label x-label", (kPlotLeft + kPlotRight) / 2, kPlotBottom + 38, "middle",
              chart.x_label) +
         "\n";
  out += "<text class=\"axis-label y-label\" transform=\"translate(16," +
         svg_number((kPlotTop + kPlotBottom) / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         html_escape(chart.y_label) + "</text>\n";

  bool drawn = false;
  for (const ChartSeries& series : chart.series) {
    const std::vector<ChartPoint> points = thin_points(series.points, 2000);
    const std::string d = path_data(points, frame);
    if (d.empty()) continue;
    drawn = true;
    out += "<path class=\"curve" + std::string(series.dashed ? " dashed" : "") + "\" d=\"" + d +
           "\"" + stroke_attributes(series) + "><title>" + html_escape(series.label) +
           "</title></path>\n";
    if (!series.dots) continue;
    for (const ChartPoint& p : points)
      if (drawable(p.x) && drawable(p.y))
        out += dot(series, frame.x.pixel(p.x), frame.y.pixel(p.y));
    out += "\n";
  }
  if (!drawn)
    out += text("no-data", (kPlotLeft + kPlotRight) / 2, (kPlotTop + kPlotBottom) / 2, "middle",
                "no finite values to draw") +
           "\n";

  for (size_t i = 0; i < chart.markers.size(); ++i) {
    const ChartMarker& m = chart.markers[i];
    if (!drawable(m.x)) continue;
    const double px = frame.x.pixel(m.x);
    const bool right_half = px > (kPlotLeft + kPlotRight) / 2;
    out +=
        "<g class=\"marker\">" + line(px, kPlotTop, px, kPlotBottom) +
        text("marker-label", right_half ? px - 5 : px + 5,
             kPlotTop + 14 + 15 * static_cast<double>(i), right_half ? "end" : "start", m.label) +
        "</g>\n";
  }

  out += "<g class=\"legend\">";
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const ChartSeries& series = chart.series[i];
    const Place& at = legend[i];
    out += "<g class=\"legend-entry\"><line class=\"curve" +
           std::string(series.dashed ? " dashed" : "") + "\" x1=\"" + svg_number(at.x) +
           "\" y1=\"" + svg_number(at.y - 4) + "\" x2=\"" + svg_number(at.x + kLegendSample) +
           "\" y2=\"" + svg_number(at.y - 4) + "\"" + stroke_attributes(series) + "/>";
    if (series.dots) out += dot(series, at.x + kLegendSample / 2, at.y - 4);
    out += text("legend-label", at.x + kLegendSample + 6, at.y, "start", series.label) + "</g>";
  }
  out += "</g>\n</svg>";
  return out;
}

}  // namespace repro
