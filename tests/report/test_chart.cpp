// The SVG chart without a browser: ticks, where each data point lands, gaps at non-finite values,
// dashed validation curves, markers, legends and escaping of every label.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "report/chart.h"
#include "report/html.h"

using repro::Chart;
using repro::ChartPoint;
using repro::ChartSeries;

namespace {

// The d attributes of the curves (not the legend samples), in drawing order.
std::vector<std::string> curve_paths(const std::string& svg) {
  std::vector<std::string> out;
  const std::regex path("<path class=\"curve[^\"]*\" d=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), path); it != std::sregex_iterator();
       ++it)
    out.push_back((*it)[1]);
  return out;
}

// "M1.00,2.00 L3.00,4.00" -> {{1, 2}, {3, 4}}; a new "M" starts a new run of points.
std::vector<std::vector<ChartPoint>> path_points(const std::string& d) {
  std::vector<std::vector<ChartPoint>> runs;
  const std::regex step("([ML])(-?[0-9.]+),(-?[0-9.]+)");
  for (auto it = std::sregex_iterator(d.begin(), d.end(), step); it != std::sregex_iterator();
       ++it) {
    if ((*it)[1] == "M") runs.emplace_back();
    runs.back().push_back({std::stod((*it)[2]), std::stod((*it)[3])});
  }
  return runs;
}

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

Chart two_point_chart() {
  Chart chart{"Loss", "step", "loss", false, {}, {}};
  chart.series.push_back(
      ChartSeries{"runs/a loss", "var(--run-0)", false, false, {{0, 0}, {10, 1}}});
  return chart;
}

}  // namespace

TEST_CASE("nice ticks are 1, 2 or 5 times a power of ten and cover the range") {
  CHECK(repro::nice_ticks(0, 1, 5, false) == std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1});
  CHECK(repro::nice_ticks(0, 0.003, 3, false) == std::vector<double>{0, 0.001, 0.002, 0.003});
  CHECK(repro::nice_ticks(0, 100, 5, false) == std::vector<double>{0, 20, 40, 60, 80, 100});
  CHECK(repro::nice_ticks(1, 3, 8, true) == std::vector<double>{1, 2, 3});  // never 1.5
  CHECK(repro::nice_ticks(13, 987, 8, false) ==
        std::vector<double>{100, 200, 300, 400, 500, 600, 700, 800, 900});
  CHECK(repro::nice_ticks(2, 2, 5, false) == std::vector<double>{2});
}

TEST_CASE("the frame maps the data's extremes onto the plot's edges, y growing upwards") {
  const repro::ChartFrame frame = repro::chart_frame(two_point_chart());
  CHECK(frame.x.pixel(0) == repro::kPlotLeft);
  CHECK(frame.x.pixel(10) == repro::kPlotRight);
  CHECK(frame.y.pixel(0) == repro::kPlotBottom);
  CHECK(frame.y.pixel(1) == repro::kPlotTop);
  CHECK(frame.y_ticks == std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1});
  CHECK(frame.x_ticks.front() == 0);
  CHECK(frame.x_ticks.back() == 10);
}

TEST_CASE("a curve's path holds one point per value, at the frame's coordinates") {
  CHECK(curve_paths(repro::chart_svg(two_point_chart())) ==
        std::vector<std::string>{"M72.00,260.00 L624.00,40.00"});

  Chart chart{"Loss per epoch", "epoch", "loss", true, {}, {}};
  const std::vector<double> loss = {0.77, 0.26, 0.19, 0.151};
  ChartSeries series{"runs/a loss", "var(--run-0)", false, true, {}};
  for (size_t e = 0; e < loss.size(); ++e) series.points.push_back({double(e + 1), loss[e]});
  chart.series.push_back(series);
  const repro::ChartFrame frame = repro::chart_frame(chart);
  const std::string svg = repro::chart_svg(chart);
  const auto paths = curve_paths(svg);
  REQUIRE(paths.size() == 1);
  const auto runs = path_points(paths[0]);
  REQUIRE(runs.size() == 1);
  REQUIRE(runs[0].size() == loss.size());
  for (size_t e = 0; e < loss.size(); ++e) {
    CHECK(runs[0][e].x == Approx(frame.x.pixel(double(e + 1))).margin(0.005));
    CHECK(runs[0][e].y == Approx(frame.y.pixel(loss[e])).margin(0.005));
  }
  // Falling loss: each point lower on the page than the last is higher (SVG y grows down).
  for (size_t e = 1; e < loss.size(); ++e) CHECK(runs[0][e].y > runs[0][e - 1].y);
  // Epochs tick at whole numbers only, with a dot at every epoch.
  CHECK(frame.x_ticks == std::vector<double>{1, 2, 3, 4});
  CHECK(count(svg, "<circle class=\"dot\"") == loss.size() + 1);  // + the legend's sample
}

TEST_CASE("a non-finite value breaks the line instead of drawing through it") {
  Chart chart{"Loss", "step", "loss", false, {}, {}};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  chart.series.push_back(
      ChartSeries{"a", "red", false, false, {{0, 1}, {1, 0.5}, {2, nan}, {3, 0.25}, {4, 0.2}}});
  const auto paths = curve_paths(repro::chart_svg(chart));
  REQUIRE(paths.size() == 1);
  const auto runs = path_points(paths[0]);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].size() == 2);
  CHECK(runs[1].size() == 2);
  // Only NaN everywhere: a frame, no curve, and a word saying why.
  Chart empty{"Loss", "step", "loss", false, {ChartSeries{"a", "red", false, false, {{1, nan}}}},
              {}};
  const std::string svg = repro::chart_svg(empty);
  CHECK(curve_paths(svg).empty());
  CHECK(svg.find("no finite values to draw") != std::string::npos);
}

TEST_CASE("validation curves are dashed, in the plot and in the legend") {
  Chart chart{"Loss per epoch", "epoch", "loss", true, {}, {}};
  chart.series.push_back(
      ChartSeries{"runs/a loss", "var(--run-0)", false, true, {{1, 0.7}, {2, 0.3}}});
  chart.series.push_back(
      ChartSeries{"runs/a val_loss", "var(--run-0)", true, true, {{1, 0.2}, {2, 0.1}}});
  const std::string svg = repro::chart_svg(chart);
  CHECK(count(svg, "<path class=\"curve\" ") == 1);
  CHECK(count(svg, "<path class=\"curve dashed\" ") == 1);
  CHECK(count(svg, "<line class=\"curve dashed\" ") == 1);  // the legend's sample
  CHECK(count(svg, "stroke-dasharray=\"6 4\"") == 2);
  CHECK(count(svg, "class=\"dot hollow\"") == 3);  // two epochs and the legend's sample
  CHECK(svg.find(">runs/a val_loss</text>") != std::string::npos);
  CHECK(svg.find(">runs/a loss</text>") != std::string::npos);
}

TEST_CASE("axes carry tick labels and their names") {
  const std::string svg = repro::chart_svg(two_point_chart());
  CHECK(count(svg, "class=\"tick y-tick\"") == 6);
  CHECK(svg.find(">0.2</text>") != std::string::npos);
  CHECK(svg.find(">10</text>") != std::string::npos);
  CHECK(svg.find("class=\"axis-label x-label\"") != std::string::npos);
  CHECK(svg.find(">step</text>") != std::string::npos);
  CHECK(svg.find("rotate(-90)\" text-anchor=\"middle\">loss</text>") != std::string::npos);
}

TEST_CASE("a marker is a vertical line at its x, labelled, and widens the x range to reach it") {
  Chart chart = two_point_chart();
  chart.markers.push_back({15, "first divergence: epoch 1 step 15, dense kernel"});
  const repro::ChartFrame frame = repro::chart_frame(chart);
  CHECK(frame.x.hi >= 15);
  const std::string x = repro::svg_number(frame.x.pixel(15));
  const std::string svg = repro::chart_svg(chart);
  CHECK(svg.find("<g class=\"marker\"><line x1=\"" + x + "\" y1=\"40.00\" x2=\"" + x +
                 "\" y2=\"260.00\"/>") != std::string::npos);
  CHECK(svg.find(">first divergence: epoch 1 step 15, dense kernel</text>") != std::string::npos);
}

TEST_CASE("every label is escaped: a hostile name cannot become markup") {
  Chart chart{"<b>t</b>", "x & y", "\"y\"", false, {}, {}};
  chart.series.push_back(
      ChartSeries{"runs/<script>alert('x')</script>", "red", false, false, {{0, 1}, {1, 2}}});
  chart.markers.push_back({0.5, "<img src=x onerror=alert(1)>"});
  const std::string svg = repro::chart_svg(chart);
  CHECK(svg.find("<script") == std::string::npos);
  CHECK(svg.find("<img") == std::string::npos);
  CHECK(svg.find("<b>") == std::string::npos);
  CHECK(svg.find("runs/&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") != std::string::npos);
  CHECK(svg.find("x &amp; y") != std::string::npos);
  CHECK(svg.find("&quot;y&quot;") != std::string::npos);
}

TEST_CASE("html_escape escapes the five markup characters and control bytes") {
  CHECK(repro::html_escape("a<b>&\"c\"'d'") == "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
  CHECK(repro::html_escape(std::string("x\x01y\x7f", 4)) == "x&#xFFFD;y&#xFFFD;");
  CHECK(repro::html_escape("tab\tand\nline, caf\xc3\xa9") == "tab\tand\nline, caf\xc3\xa9");
}

TEST_CASE("long curves are thinned evenly, keeping the first and last point") {
  std::vector<ChartPoint> points;
  for (int i = 0; i < 10001; ++i) points.push_back({double(i), double(i % 7)});
  const auto thin = repro::thin_points(points, 2000);
  CHECK(thin.size() <= 2000);
  CHECK(thin.size() > 1000);
  CHECK(thin.front().x == 0);
  CHECK(thin.back().x == 10000);
  for (size_t i = 1; i < thin.size(); ++i) CHECK(thin[i].x > thin[i - 1].x);
  CHECK(repro::thin_points({{0, 0}, {1, 1}, {2, 2}}, 2000).size() == 3);
  const auto five = repro::thin_points({{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}}, 4);
  CHECK(five.size() == 3);
  CHECK(five.back().x == 4);
}

TEST_CASE("the legend names every series and wraps below the plot") {
  Chart chart{"Loss", "step", "loss", false, {}, {}};
  for (int r = 0; r < 6; ++r)
    chart.series.push_back(ChartSeries{"runs/a-rather-long-folder-name-" + std::to_string(r),
                                       "red",
                                       false,
                                       false,
                                       {{0, 1}, {1, 2}}});
  const std::string svg = repro::chart_svg(chart);
  CHECK(count(svg, "<g class=\"legend-entry\">") == 6);
  for (int r = 0; r < 6; ++r)
    CHECK(svg.find(">runs/a-rather-long-folder-name-" + std::to_string(r) + "</text>") !=
          std::string::npos);
  // Six labels of ~37 characters do not fit one 640-unit row: the chart grows taller.
  const std::regex height("height=\"([0-9.]+)\"");
  std::smatch m;
  REQUIRE(std::regex_search(svg, m, height));
  CHECK(std::stod(m[1]) > repro::kPlotBottom + 58 + 2 * 18);
}
