// The report page: one HTML file with its CSS inline and its charts as inline SVG; no script, no
// font, no image, nothing fetched (its Content-Security-Policy forbids it). Every string taken
// from a file or the command line goes through html_escape.
#include <algorithm>
#include <cstdio>

#include "compare/describe.h"
#include "report/html.h"
#include "report/report.h"
#include "report/run_table.h"

namespace repro {
namespace {

// Light colours first, dark ones under prefers-color-scheme; --run-N are the runs' colours
// (Okabe-Ito hues, lightened for a dark background).
constexpr const char* kStyle = R"css(
:root { color-scheme: light dark;
  --bg: #ffffff; --fg: #1d1f23; --muted: #5f6570; --grid: #e7e9ec; --axis: #6f7580;
  --card: #f6f7f9; --border: #d8dbe0; --differ-bg: #fff0bf; --differ-fg: #6b4400;
  --same: #1e7b34; --bad: #b3261e; --marker: #b3261e; --link: #0b57d0;
  --run-0: #0b6bcb; --run-1: #d1480b; --run-2: #138a5b; --run-3: #a8449a;
  --run-4: #a67600; --run-5: #2a8db4; --run-6: #5b5bd6; --run-7: #6b6b6b; }
@media (prefers-color-scheme: dark) { :root {
  --bg: #15171a; --fg: #e8eaed; --muted: #9aa0a8; --grid: #2b2f34; --axis: #8a919b;
  --card: #1d2025; --border: #353a41; --differ-bg: #4a3a0c; --differ-fg: #ffd866;
  --same: #5cc87a; --bad: #ff7a70; --marker: #ff7a70; --link: #8ab4f8;
  --run-0: #5aa9ff; --run-1: #ff8a4c; --run-2: #3ecf8e; --run-3: #e07ad3;
  --run-4: #f2c14e; --run-5: #6fd3f5; --run-6: #a3a3ff; --run-7: #b0b0b0; } }
body { background: var(--bg); color: var(--fg); margin: 0 auto; max-width: 1320px;
  padding: 16px 24px 40px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 4px 0 8px; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
a { color: var(--link); }
ul.runs { list-style: none; padding: 0; margin: 8px 0; }
ul.runs li { margin: 3px 0; }
.swatch { display: inline-block; width: 22px; height: 4px; border-radius: 2px;
  vertical-align: middle; margin-right: 6px; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 8px;
  padding: 12px 16px; margin: 10px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 700; color: var(--bg); }
.badge.same { background: var(--same); } .badge.differ { background: var(--bad); }
.verdict { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
table { border-collapse: collapse; margin: 6px 0; }
th, td { text-align: left; padding: 3px 10px; border-bottom: 1px solid var(--border);
  vertical-align: top; }
th { font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.value { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px;
  word-break: break-all; max-width: 520px; }
td.flag { width: 1.2em; text-align: center; font-weight: 700; }
tr.differ td { background: var(--differ-bg); color: var(--differ-fg); }
tr.differ td.key { font-weight: 700; }
tr.timing td.flag { color: var(--muted); }
.status-differ { color: var(--bad); font-weight: 700; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr));
  gap: 12px 20px; }
figure { margin: 0; }
svg.chart { width: 100%; max-width: 640px; height: auto; display: block; }
svg text { fill: var(--fg); font: 12px system-ui, -apple-system, "Segoe UI", sans-serif; }
svg .chart-title { font-size: 14px; font-weight: 600; }
svg .tick, svg .no-data { fill: var(--muted); }
svg .grid line { stroke: var(--grid); stroke-width: 1; }
svg .axis line { stroke: var(--axis); stroke-width: 1; }
svg .marker line { stroke: var(--marker); stroke-width: 1.5; stroke-dasharray: 3 3; }
svg .marker-label { fill: var(--marker); font-weight: 600; }
footer { margin-top: 32px; font-size: 12px; color: var(--muted); }
)css";

std::string escaped_code(const std::string& text) {
  return "<code>" + html_escape(text) + "</code>";
}

// "A runs/a" with the run's colour swatch.
std::string run_name(const Report& report, size_t run) {
  return "<span class=\"swatch\" style=\"background:" + run_color(run) + "\"></span><b>" +
         run_letter(run) + "</b> " + escaped_code(report.runs[run].folder.path);
}

// What run.json says about a run in a few words, for the list of runs.
std::string run_summary(const ReportRun& run) {
  const RunRecord& r = run.folder.run;
  char accuracy[32];
  std::snprintf(accuracy, sizeof accuracy, "%.2f%%", r.test_accuracy * 100.0);
  std::string out = "seed " + std::to_string(r.seed) + ", " + std::to_string(r.epochs.size()) +
                    " epoch(s), " + r.backend + " on " + r.device + ", " +
                    std::to_string(r.threads) + " thread(s), " +
                    (r.tested ? std::string("test accuracy ") + accuracy : "not tested");
  if (r.stopped)
    out += ", stopped at epoch " + std::to_string(r.stopped->epoch) + " step " +
           std::to_string(r.stopped->step) + " (" +
           (r.stopped->reason == "signal" ? "interrupted" : "--steps") + ")";
  else if (!r.completed)
    out += ", not completed";
  if (r.early_stopping && r.early_stopping->stopped_epoch > 0)
    out += ", early stopping after epoch " + std::to_string(r.early_stopping->stopped_epoch) +
           " (best epoch " + std::to_string(r.early_stopping->best_epoch) +
           (r.early_stopping->restored ? ", its weights restored)" : ")");
  if (r.best_checkpoint_epoch && *r.best_checkpoint_epoch > 0)
    out += ", best.safetensors from epoch " + std::to_string(*r.best_checkpoint_epoch);
  for (const std::string& c : run.folder.changed) out += "; " + c;
  out +=
      run.steps ? ", " + std::to_string(run.steps->size()) + " steps.csv rows" : ", no steps.csv";
  return html_escape(out);
}

std::string runs_section(const Report& report) {
  std::string out = "<ul class=\"runs\">\n";
  for (size_t r = 0; r < report.runs.size(); ++r)
    out += "<li>" + run_name(report, r) + " <span class=\"muted\">" + run_summary(report.runs[r]) +
           "</span></li>\n";
  return out + "</ul>\n";
}

std::string verdict_card(const Report& report, size_t i) {
  const CompareReport& c = report.comparisons[i];
  std::string out = "<div class=\"card pair " + std::string(c.same ? "same" : "differ") +
                    "\">\n<h3>" + run_letter(0) + " vs " + run_letter(i + 1) +
                    " <span class=\"badge " + (c.same ? "same\">SAME" : "differ\">DIFFER") +
                    "</span></h3>\n<p class=\"verdict\">" +
                    html_escape(verdict_line(c, report.options)) + "</p>\n";
  out +=
      "<table class=\"keys\"><thead><tr><th>key</th><th>compared</th><th>max abs diff</th>"
      "<th>max rel diff</th><th>first diff</th><th>status</th></tr></thead><tbody>\n";
  for (const KeyComparison& row : c.keys) {
    const auto cells = key_row_cells(row, "DIFFER");
    out += std::string("<tr") + (row.same ? "" : " class=\"differ\"") + "><td class=\"key\">" +
           html_escape(cells[0]) + "</td>";
    for (size_t k = 1; k < 5; ++k) out += "<td class=\"num\">" + html_escape(cells[k]) + "</td>";
    out += std::string("<td") + (row.same ? "" : " class=\"status-differ\"") + ">" +
           html_escape(cells[5]) + "</td></tr>\n";
  }
  out += "</tbody></table>\n<ul>\n";
  if (!architecture_line(c).empty()) out += "<li>" + html_escape(architecture_line(c)) + "</li>\n";
  for (const std::string& line : run_folder_lines(c, report.options))
    out += "<li>" + html_escape(line) + "</li>\n";
  if (!c.environment.empty()) {
    std::string keys;
    for (const EnvironmentDifference& d : c.environment)
      keys += (keys.empty() ? "" : ", ") + escaped_code(d.key);
    out += "<li>run.json differs in " + keys +
           (c.same && c.weights.sha256_a == c.weights.sha256_b && !c.first_weights_epoch &&
                    !c.divergence
                ? " (results agree anyway)"
                : " (likely cause)") +
           "</li>\n";
  }
  for (const std::string& note : c.notes) out += "<li>note: " + html_escape(note) + "</li>\n";
  return out + "</ul>\n</div>\n";
}

std::string charts_block(const std::vector<Chart>& charts) {
  std::string out = "<div class=\"charts\">\n";
  for (const Chart& chart : charts) out += "<figure>" + chart_svg(chart) + "</figure>\n";
  return out + "</div>\n";
}

std::string curves_section(const Report& report) {
  std::string out =
      "<h2>Learning curves</h2>\n<p class=\"muted\">history.json per epoch: training solid, "
      "validation dashed. Colours are runs, as listed above.</p>\n" +
      charts_block(epoch_charts(report));
  const std::vector<Chart> steps = step_charts(report);
  if (steps.empty()) {
    out +=
        "<p class=\"muted\">No run has steps.csv (training.log every 0): no per-step "
        "curves.</p>\n";
  } else {
    out +=
        "<p class=\"muted\">steps.csv per logged optimizer step: the epoch's running mean, as "
        "the progress bar shows it; a red line marks where the traces first differ.</p>\n" +
        charts_block(steps);
  }
  return out;
}

std::string run_json_section(const Report& report) {
  std::vector<const RunRecord*> records;
  for (const ReportRun& run : report.runs) records.push_back(&run.folder.run);
  const std::vector<RunTableRow> rows = run_table(records);
  std::string out = "<h2>run.json side by side</h2>\n";
  if (rows.empty()) return out + "<p class=\"muted\">No run has run.json.</p>\n";

  std::string differing;
  size_t count = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].differ || rows[i].timing) continue;
    ++count;
    differing += std::string(differing.empty() ? "" : ", ") + "<a href=\"#row-" +
                 std::to_string(i) + "\">" + escaped_code(rows[i].key) + "</a>";
  }
  out += "<p>" +
         (count == 0 ? std::string("All entries agree")
                     : std::to_string(count) + " of " + std::to_string(rows.size()) +
                           " entries differ (highlighted, marked &#8800;): " + differing) +
         ". <span class=\"muted\">Wall times (&#8776;) differ between any two runs.</span></p>\n";
  out += "<table class=\"run-json\"><thead><tr><th></th><th>entry</th>";
  for (size_t r = 0; r < report.runs.size(); ++r) out += "<th>" + run_name(report, r) + "</th>";
  out += "</tr></thead><tbody>\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const RunTableRow& row = rows[i];
    const bool highlight = row.differ && !row.timing;
    out += "<tr id=\"row-" + std::to_string(i) + "\"" +
           (highlight    ? " class=\"differ\""
            : row.timing ? " class=\"timing\""
                         : "") +
           "><td class=\"flag\">" +
           (highlight    ? "&#8800;"
            : row.timing ? "&#8776;"
                         : "") +
           "</td><td class=\"key\">" + html_escape(row.key) + "</td>";
    for (size_t r = 0; r < row.values.size(); ++r) {
      if (!records[r])
        out += "<td class=\"value muted\">(no run.json)</td>";
      else if (!row.values[r])
        out += "<td class=\"value muted\">(absent)</td>";
      else
        out += "<td class=\"value\">" + html_escape(*row.values[r]) + "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

// History keys that no chart shows (a Keras history may hold other metrics).
std::string notes_section(const Report& report) {
  std::vector<std::string> notes;
  for (const ReportRun& run : report.runs) {
    for (const auto& [key, values] : run.folder.history) {
      if (key == "loss" || key == "val_loss" || key == "accuracy" || key == "val_accuracy")
        continue;
      notes.push_back(run.folder.path + "/history.json: key \"" + key + "\" is not drawn");
    }
  }
  if (notes.empty()) return "";
  std::string out = "<h2>Notes</h2>\n<ul>\n";
  for (const std::string& note : notes) out += "<li>" + html_escape(note) + "</li>\n";
  return out + "</ul>\n";
}

}  // namespace

std::string report_html(const Report& report) {
  std::string title = "repro report:";
  for (const ReportRun& run : report.runs) title += " " + run.folder.path;
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n<meta name=\"color-scheme\" content=\"light dark\">\n"
      "<title>" +
      html_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  out += "<h1>repro report</h1>\n" + runs_section(report);
  if (!report.comparisons.empty()) {
    out += "<h2>Verdict</h2>\n";
    for (size_t i = 0; i < report.comparisons.size(); ++i) out += verdict_card(report, i);
  }
  out += curves_section(report) + run_json_section(report) + notes_section(report);
  out += "<footer>Written by repro " + html_escape(REPRO_VERSION) +
         " (repro report): one file, no scripts, nothing loaded from the network.</footer>\n"
         "</body>\n</html>\n";
  return out;
}

}  // namespace repro
