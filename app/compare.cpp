// repro compare A B: prints lib/compare's report as a table (or JSON) and sets the exit code:
// 0 same, 1 different, 2 input error. It does no comparing of its own.
#include "compare/compare.h"
#include "compare/describe.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "commands.h"
#include "core/error.h"

namespace repro::app {

struct CompareCliOptions {
  std::string a, b;
  CompareOptions compare;
  std::string format = "text";  // text | json | markdown
  bool json = false;            // the same as --format json
  bool quiet = false;
};

namespace {

void print_table(const CompareReport& report, const CompareOptions& options) {
  if (!architecture_line(report).empty()) std::printf("%s\n", architecture_line(report).c_str());
  std::printf("%-20s %9s %13s %13s %11s  %s\n", "key", "compared", "max abs diff", "max rel diff",
              "first diff", "status");
  for (const KeyComparison& row : report.keys) {
    const auto c = key_row_cells(row, "DIFFER");
    std::printf("%-20s %9s %13s %13s %11s  %s\n", c[0].c_str(), c[1].c_str(), c[2].c_str(),
                c[3].c_str(), c[4].c_str(), c[5].c_str());
  }
  for (const std::string& line : run_folder_lines(report, options))
    std::printf("%s\n", line.c_str());
  if (!report.environment.empty()) {
    bool differ = !report.same || report.first_weights_epoch || report.divergence ||
                  report.weights.sha256_a != report.weights.sha256_b;
    std::printf("%s\n", differ ? "run.json differences (likely cause):"
                               : "run.json differences (results agree anyway):");
    for (const EnvironmentDifference& d : report.environment) {
      std::printf("  %-28s A: %s   B: %s\n", d.key.c_str(), d.a.c_str(), d.b.c_str());
    }
  }
  for (const std::string& note : report.notes) std::printf("note: %s\n", note.c_str());

  std::printf("%s\n", verdict_line(report, options).c_str());
}

// A cell of a Markdown table: `|` escaped, no line breaks.
std::string md_cell(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// GitHub-flavoured Markdown for a CI job's summary page ($GITHUB_STEP_SUMMARY, a GitLab MR note):
// the verdict, the per-key table, then weights, trace and likely causes as a list.
void print_markdown(const CompareReport& report, const CompareOptions& options,
                    const std::string& a, const std::string& b) {
  std::printf("### repro compare: %s\n\n", report.same ? "SAME" : "DIFFER");
  std::printf("`%s` vs `%s` (%s)\n\n", md_cell(a).c_str(), md_cell(b).c_str(),
              compare_mode_text(options).c_str());
  if (!architecture_line(report).empty())
    std::printf("**%s**\n\n", md_cell(architecture_line(report)).c_str());
  std::printf("| key | compared | max abs diff | max rel diff | first diff | status |\n");
  std::printf("|---|---:|---:|---:|---:|---|\n");
  for (const KeyComparison& row : report.keys) {
    std::string line = "|";
    for (const std::string& cell : key_row_cells(row, "**DIFFER**"))
      line.append(" ").append(md_cell(cell)).append(" |");
    std::printf("%s\n", line.c_str());
  }
  std::printf("\n");
  for (const std::string& line : run_folder_lines(report, options))
    std::printf("- %s\n", md_cell(line).c_str());
  for (const EnvironmentDifference& d : report.environment) {
    std::printf("- run.json `%s`: A `%s`, B `%s`%s\n", md_cell(d.key).c_str(), md_cell(d.a).c_str(),
                md_cell(d.b).c_str(), report.same ? "" : " (likely cause)");
  }
  for (const std::string& note : report.notes) std::printf("- note: %s\n", md_cell(note).c_str());
}

// NaN and inf become null in JSON; the table shows them.
nlohmann::ordered_json number_json(double value) {
  return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

void print_json(const CompareReport& report, const CompareOptions& options) {
  using Json = nlohmann::ordered_json;
  Json keys = Json::array();
  for (const KeyComparison& row : report.keys) {
    keys.push_back({{"key", row.key},
                    {"in_a", row.in_a},
                    {"in_b", row.in_b},
                    {"length_a", row.length_a},
                    {"length_b", row.length_b},
                    {"compared", row.compared},
                    {"max_abs_diff", number_json(row.max_abs_diff)},
                    {"max_rel_diff", number_json(row.max_rel_diff)},
                    {"first_differing_epoch",
                     row.first_differing_epoch ? Json(row.first_differing_epoch) : Json(nullptr)},
                    {"same", row.same},
                    {"note", row.note}});
  }
  Json out = {{"same", report.same},
              {"mode", options.exact ? "exact" : "allclose"},
              {"rtol", options.rtol},
              {"atol", options.atol},
              {"equal_nan", options.equal_nan},
              {"keys", keys}};
  out["values_compared"] = report.values_compared;
  if (report.runs) {
    out["architecture_difference"] = report.architecture_difference.empty()
                                         ? Json(nullptr)
                                         : Json(report.architecture_difference);
    out["changed_after_run"] = report.changed;
    const WeightsComparison& w = report.weights;
    out["final_weights"] = w.compared ? Json{{"same", w.same},
                                             {"sha256_a", w.sha256_a},
                                             {"sha256_b", w.sha256_b},
                                             {"values", w.values},
                                             {"differing", w.differing},
                                             {"max_abs_diff", number_json(w.max_abs_diff)},
                                             {"first_tensor", w.first_tensor}}
                                      : Json(nullptr);
    out["initial_weights_differ"] = report.initial_weights_differ;
    out["first_weights_epoch"] =
        report.first_weights_epoch ? Json(report.first_weights_epoch) : Json(nullptr);
    Json env = Json::array();
    for (const EnvironmentDifference& d : report.environment)
      env.push_back({{"key", d.key}, {"a", d.a}, {"b", d.b}});
    out["environment_differences"] = env;
  }
  if (report.traced) {
    out["trace_digests_compared"] = report.trace_steps_compared;
    if (report.divergence) {
      const TraceDivergence& d = *report.divergence;
      out["first_divergence"] = {
          {"epoch", d.epoch}, {"step", d.step}, {"batch", d.batch}, {"tensor", d.tensor}};
    } else {
      out["first_divergence"] = nullptr;
    }
  }
  out["notes"] = report.notes;
  std::cout << out.dump(2) << "\n";
}

}  // namespace

int run_compare(const CompareCliOptions& options) {
  if (!(options.compare.rtol >= 0) || !(options.compare.atol >= 0)) {
    throw InputError("--rtol and --atol must be non-negative numbers (defaults 1e-05 and 1e-08)");
  }
  CompareReport report = compare_paths(options.a, options.b, options.compare);
  const std::string format = options.json ? "json" : options.format;
  if (format == "json") {
    print_json(report, options.compare);
  } else if (format == "markdown") {
    print_markdown(report, options.compare, options.a, options.b);
  } else if (!options.quiet) {
    print_table(report, options.compare);
    if (std::filesystem::is_directory(options.a) && std::filesystem::is_directory(options.b))
      std::printf("curves side by side: repro report %s %s\n", shell_word(options.a).c_str(),
                  shell_word(options.b).c_str());
  }
  return report.same ? 0 : 1;
}

void setup_compare(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<CompareCliOptions>();
  auto* cmd = app.add_subcommand(
      "compare",
      "Compare two history.json files or run folders: exit 0 same, 1 different, 2 input error");
  cmd->add_option("A", options->a, "history.json or run folder")->required();
  cmd->add_option("B", options->b,
                  "history.json or run folder (the reference: tolerance scales with |B|)")
      ->required();
  add_compare_flags(cmd, options->compare);
  cmd->add_option("--keys", options->compare.keys, "compare only these keys, e.g. loss,val_loss")
      ->delimiter(',');
  cmd->add_option("--format", options->format,
                  "text (a table), json, or markdown (for a CI job's summary page)")
      ->check(CLI::IsMember({"text", "json", "markdown"}))
      ->capture_default_str();
  cmd->add_flag("--json", options->json, "print the report as JSON (--format json)");
  cmd->add_flag("--quiet", options->quiet, "print nothing; the exit code tells");
  cmd->callback([options, &exit_code] { exit_code = run_compare(*options); });
}

}  // namespace repro::app
