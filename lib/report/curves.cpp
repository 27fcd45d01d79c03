// The report's charts from its runs: which values go on which chart, in which colour and style.
// Drawing is chart.cpp's.
#include "compare/compare.h"
#include "record/steps.h"
#include "report/report.h"

namespace repro {
namespace {

// One history key of every run that has it, as an epoch curve.
void add_history_series(Chart& chart, const Report& report, const std::string& key,
                        bool validation) {
  for (size_t r = 0; r < report.runs.size(); ++r) {
    const History& history = report.runs[r].folder.history;
    const auto it = history.find(key);
    if (it == history.end()) continue;
    ChartSeries series{report.runs[r].folder.path + " " + key, run_color(r), validation, true, {}};
    for (size_t e = 0; e < it->second.size(); ++e)
      series.points.push_back({static_cast<double>(e + 1), it->second[e]});
    chart.series.push_back(std::move(series));
  }
}

}  // namespace

std::vector<Chart> epoch_charts(const Report& report) {
  Chart loss{"Loss per epoch", "epoch", "loss", true, {}, {}};
  add_history_series(loss, report, "loss", false);
  add_history_series(loss, report, "val_loss", true);
  Chart accuracy{"Accuracy per epoch", "epoch", "accuracy", true, {}, {}};
  add_history_series(accuracy, report, "accuracy", false);
  add_history_series(accuracy, report, "val_accuracy", true);
  // Where EarlyStopping ended a run and its best epoch, on both charts.
  for (size_t r = 0; r < report.runs.size(); ++r) {
    const RunRecord& run = report.runs[r].folder.run;
    if (!run.early_stopping || run.early_stopping->stopped_epoch == 0) continue;
    const std::string who = report.runs.size() > 1 ? " (" + run_letter(r) + ")" : "";
    for (Chart* chart : {&loss, &accuracy}) {
      chart->markers.push_back(
          {static_cast<double>(run.early_stopping->best_epoch),
           "best epoch " + std::to_string(run.early_stopping->best_epoch) + who});
      chart->markers.push_back({static_cast<double>(run.early_stopping->stopped_epoch),
                                "early stopping after epoch " +
                                    std::to_string(run.early_stopping->stopped_epoch) + who});
    }
  }
  return {loss, accuracy};
}

std::vector<Chart> step_charts(const Report& report) {
  bool any = false;
  for (const ReportRun& run : report.runs) any = any || run.steps.has_value();
  if (!any) return {};
  Chart loss{"Loss per step (running mean of the epoch)", "optimizer step", "loss", false, {}, {}};
  Chart accuracy{
      "Accuracy per step (running mean of the epoch)", "optimizer step", "accuracy", false, {}, {}};
  for (size_t r = 0; r < report.runs.size(); ++r) {
    const ReportRun& run = report.runs[r];
    if (!run.steps) continue;
    ChartSeries l{run.folder.path + " loss", run_color(r), false, false, {}};
    ChartSeries a{run.folder.path + " accuracy", run_color(r), false, false, {}};
    for (const StepRecord& s : *run.steps) {
      l.points.push_back({static_cast<double>(s.step), s.loss});
      a.points.push_back({static_cast<double>(s.step), s.accuracy});
    }
    loss.series.push_back(std::move(l));
    accuracy.series.push_back(std::move(a));
  }
  for (size_t i = 0; i < report.comparisons.size(); ++i) {
    const CompareReport& c = report.comparisons[i];
    if (!c.divergence) continue;
    const std::string pair = report.comparisons.size() > 1
                                 ? std::string(" ") + run_letter(0) + " vs " + run_letter(i + 1)
                                 : std::string();
    const ChartMarker marker{static_cast<double>(c.divergence->step),
                             "first divergence" + pair + ": " + describe_divergence(*c.divergence)};
    loss.markers.push_back(marker);
    accuracy.markers.push_back(marker);
  }
  return {loss, accuracy};
}

}  // namespace repro
