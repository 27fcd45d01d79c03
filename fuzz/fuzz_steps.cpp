// Fuzz target "steps": the bytes as a steps.csv, read as `repro report` reads it, written back
// and read again (the same rows), and drawn as the report's per-step chart.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "record/steps.h"
#include "report/chart.h"

namespace {

// The same bits, or NaN both (steps.csv writes every NaN as "nan").
bool same_value(float a, float b) {
  return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  repro_fuzz::expect_input_error([&] {
    const std::vector<repro::StepRecord> rows = repro::parse_steps_csv(text, "steps.csv");
    const std::vector<repro::StepRecord> again =
        repro::parse_steps_csv(repro::steps_to_csv(rows), "steps.csv");
    if (again.size() != rows.size()) repro_fuzz::finding("steps.csv rows lost in a round trip");
    for (size_t i = 0; i < rows.size(); ++i) {
      if (again[i].step != rows[i].step || !same_value(again[i].loss, rows[i].loss) ||
          !same_value(again[i].accuracy, rows[i].accuracy))
        repro_fuzz::finding("a steps.csv row changed in a round trip");
    }
    repro::Chart chart{"Loss per step", "optimizer step", "loss", false, {}, {}};
    chart.series.push_back({"run", "red", false, false, {}});
    for (const repro::StepRecord& r : rows)
      chart.series[0].points.push_back({static_cast<double>(r.step), r.loss});
    if (!rows.empty()) chart.markers.push_back({static_cast<double>(rows.back().step), "m"});
    const std::string svg = repro::chart_svg(chart);
    if (svg.find("nan") != std::string::npos || svg.find("inf") != std::string::npos)
      repro_fuzz::finding("the chart holds a non-finite coordinate");
  });
  return 0;
}
