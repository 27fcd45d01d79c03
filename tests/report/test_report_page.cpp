// The report page without a browser: run.json rows side by side with the differing ones
// highlighted, the compare verdict, curves for every run, the first divergence on the step axis,
// escaping, and the one-line errors for folders that are not runs.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/fs.h"
#include "record/history.h"
#include "record/run_record.h"
#include "record/safetensors.h"
#include "record/steps.h"
#include "record/trace.h"
#include "report/html.h"
#include "report/junit.h"
#include "report/report.h"
#include "report/run_table.h"

namespace fs = std::filesystem;

namespace {

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

repro::RunRecord run_record(int64_t seed) {
  repro::RunRecord r;
  r.repro_version = "0.1.0";
  r.config_path = "configs/tiny.yaml";
  r.seed = seed;
  r.rng = "jax";
  r.backend = "onednn";
  r.device = "cpu";
  r.threads = 2;
  r.environment = {{"cpu_isa", "avx512f"}};
  r.config = {{"seed", std::to_string(seed)}, {"training.epochs", "2"}};
  r.epochs = {{1, 1.25, "aa" + std::to_string(seed)}, {2, 1.5, "bb" + std::to_string(seed)}};
  r.tested = true;
  r.test_loss = 0.25;
  r.test_accuracy = 0.9;
  r.completed = true;
  return r;
}

// A run in memory: two epochs of history, steps every 2 steps, a trace every 4.
repro::ReportRun report_run(const std::string& path, int64_t seed, double offset) {
  repro::ReportRun run;
  run.folder.path = path;
  run.folder.history = {{"accuracy", {0.7 + offset, 0.9}},
                        {"loss", {0.8, 0.3 + offset}},
                        {"val_accuracy", {0.93, 0.96}},
                        {"val_loss", {0.2, 0.12}}};
  run.folder.run = run_record(seed);
  std::vector<repro::StepRecord> steps;
  for (int64_t s = 2; s <= 16; s += 2)
    steps.push_back({s, s <= 8 ? 1 : 2, (s - 1) % 8, 0.5f + 0.02f * float(s),
                     1.0f - 0.05f * float(s) + float(offset), 0.5f, 0.001f, 0.1 * double(s)});
  run.steps = steps;
  std::vector<repro::TraceEntry> trace;
  for (int64_t s = 4; s <= 16; s += 4) {
    // The runs agree until step 12, where the kernel gradient differs first.
    const bool differs = offset != 0 && s >= 12;
    trace.push_back({s, s <= 8 ? 1 : 2, (s - 1) % 8, "dense/kernel", "k" + std::to_string(s)});
    trace.push_back({s, s <= 8 ? 1 : 2, (s - 1) % 8, "dense/kernel_grad",
                     (differs ? "x" : "g") + std::to_string(s)});
  }
  run.folder.trace = trace;
  return run;
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() /
             ("repro_report_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignore;
    fs::remove_all(path, ignore);
  }
};

std::string input_error(const std::string& folder) {
  try {
    repro::read_report_run(folder);
  } catch (const repro::InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("run.json rows: a differing entry is marked, equal ones are not, wall times apart") {
  const repro::RunRecord a = run_record(7), b = run_record(8);
  const auto rows = repro::run_table({&a, &b});
  auto row = [&](const std::string& key) {
    for (const repro::RunTableRow& r : rows)
      if (r.key == key) return r;
    FAIL("no row " << key);
    return repro::RunTableRow{};
  };
  CHECK(row("seed").differ);
  CHECK(row("seed").values == std::vector<std::optional<std::string>>{"7", "8"});
  CHECK(row("config.seed").differ);
  CHECK(row("epoch 1 weights_sha256").differ);
  CHECK_FALSE(row("rng").differ);
  CHECK_FALSE(row("threads").differ);
  CHECK_FALSE(row("environment.cpu_isa").differ);
  CHECK(row("epoch 1 seconds").timing);
  CHECK_FALSE(row("epoch 1 seconds").differ);  // 1.25 in both here
  CHECK(row("test_accuracy").values[0] == "0.9");
}

TEST_CASE("run.json rows: an entry only one run has differs, a run without run.json stays out") {
  repro::RunRecord a = run_record(7), b = run_record(7);
  b.environment["gpu"] = "H100";
  const auto rows = repro::run_table({&a, &b, nullptr});
  size_t differing = 0;
  for (const repro::RunTableRow& r : rows) {
    REQUIRE(r.values.size() == 3);
    CHECK_FALSE(r.values[2].has_value());
    if (r.differ) {
      ++differing;
      CHECK(r.key == "environment.gpu");
      CHECK_FALSE(r.values[0].has_value());
      CHECK(r.values[1] == "H100");
    }
  }
  CHECK(differing == 1);
}

TEST_CASE("the page shows both runs' curves, the verdict, the divergence and the differences") {
  std::vector<repro::ReportRun> runs = {report_run("runs/a", 7, 0), report_run("runs/b", 8, 0.05)};
  const repro::Report report = repro::build_report(runs, repro::CompareOptions{});
  REQUIRE(report.comparisons.size() == 1);
  const repro::CompareReport& c = report.comparisons[0];
  CHECK_FALSE(c.same);
  REQUIRE(c.divergence);
  CHECK(c.divergence->step == 12);
  CHECK(c.divergence->tensor == "dense/kernel_grad");

  const std::string html = repro::report_html(report);
  // Self-contained: no script, nothing to fetch, a policy that forbids fetching anyway.
  CHECK_FALSE(contains(html, "<script"));
  CHECK_FALSE(contains(html, "src="));
  CHECK_FALSE(contains(html, "href=\"http"));
  CHECK_FALSE(contains(html, "@import"));
  CHECK(contains(html, "content=\"default-src 'none'; style-src 'unsafe-inline'\""));
  CHECK(contains(html, "@media (prefers-color-scheme: dark)"));

  // Four charts: per epoch 2 runs x (train + validation), per step 2 runs.
  CHECK(count(html, "<svg class=\"chart\"") == 4);
  CHECK(count(html, "<path class=\"curve\" ") == 2 + 2 + 2 + 2);
  CHECK(count(html, "<path class=\"curve dashed\" ") == 2 + 2);
  CHECK(contains(html, ">runs/a val_loss</text>"));
  CHECK(contains(html, ">runs/b loss</text>"));
  CHECK(contains(html, "style=\"stroke:var(--run-0)\""));
  CHECK(contains(html, "style=\"stroke:var(--run-1)\""));

  // The first divergence on both step charts, at step 12 of their x scale.
  const std::vector<repro::Chart> steps = repro::step_charts(report);
  REQUIRE(steps.size() == 2);
  REQUIRE(steps[0].markers.size() == 1);
  CHECK(steps[0].markers[0].x == 12);
  const std::string x = repro::svg_number(repro::chart_frame(steps[0]).x.pixel(12));
  CHECK(count(html, "<g class=\"marker\"><line x1=\"" + x + "\"") == 2);
  CHECK(count(html, ">first divergence: epoch 2 step 12, dense kernel gradient</text>") == 2);

  // The verdict as repro compare words it, and the differing keys and run.json rows.
  CHECK(contains(html,
                 "verdict: DIFFER (numpy.allclose: rtol=1e-05, atol=1e-08): accuracy from "
                 "epoch 1, loss from epoch 2"));
  CHECK(contains(html, "<span class=\"badge differ\">DIFFER</span>"));
  CHECK(contains(html, "<tr class=\"differ\"><td class=\"key\">loss</td>"));
  CHECK(contains(html, "<td class=\"key\">val_loss</td>"));
  CHECK_FALSE(contains(html, "<tr class=\"differ\"><td class=\"key\">val_loss</td>"));
  CHECK(contains(html,
                 "<tr id=\"row-3\" class=\"differ\"><td class=\"flag\">&#8800;</td>"
                 "<td class=\"key\">seed</td><td class=\"value\">7</td>"
                 "<td class=\"value\">8</td></tr>"));
  CHECK(contains(html, "<td class=\"key\">rng</td><td class=\"value\">jax</td>"));
  CHECK_FALSE(
      contains(html, "class=\"differ\"><td class=\"flag\">&#8800;</td><td class=\"key\">rng"));
}

TEST_CASE("identical runs read SAME and highlight nothing") {
  std::vector<repro::ReportRun> runs = {report_run("runs/a", 7, 0), report_run("runs/a2", 7, 0)};
  const std::string html = repro::report_html(repro::build_report(runs, repro::CompareOptions{}));
  CHECK(contains(html, "<span class=\"badge same\">SAME</span>"));
  CHECK(contains(html, "trace: 8 digests agree"));
  CHECK(contains(html, "All entries agree"));
  CHECK_FALSE(contains(html, "<tr class=\"differ\""));
  CHECK_FALSE(contains(html, "id=\"row-3\" class=\"differ\""));
  CHECK_FALSE(contains(html, "<g class=\"marker\">"));
}

TEST_CASE("every string from the files is escaped in the page") {
  repro::ReportRun a = report_run("runs/<img src=x onerror=alert(1)>", 7, 0);
  a.folder.run.environment["cpu_model"] = "</td><script>alert('x')</script>";
  a.folder.history["<b>metric</b>"] = {1.0};
  repro::ReportRun b = report_run("runs/b&c", 8, 0.05);
  for (repro::ReportRun* run : {&a, &b})
    for (repro::TraceEntry& entry : *run->folder.trace)
      if (entry.tensor == "dense/kernel_grad") entry.tensor = "<i>t</i>/kernel_grad";
  const std::string html = repro::report_html(repro::build_report({a, b}, repro::CompareOptions{}));
  CHECK_FALSE(contains(html, "<img"));
  CHECK_FALSE(contains(html, "<script"));
  CHECK_FALSE(contains(html, "<b>metric"));
  CHECK_FALSE(contains(html, "<i>t"));
  CHECK(contains(html, "runs/&lt;img src=x onerror=alert(1)&gt;"));
  CHECK(contains(html, "&lt;/td&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  CHECK(contains(html, "runs/b&amp;c"));
  CHECK(contains(html, "&lt;b&gt;metric&lt;/b&gt;"));  // named as not drawn, and in the verdict
  CHECK(contains(html, "first divergence: epoch 2 step 12, &lt;i&gt;t&lt;/i&gt; kernel gradient"));
}

TEST_CASE("three runs: A is compared with B and with C, each divergence marked and named") {
  std::vector<repro::ReportRun> runs = {report_run("runs/a", 7, 0), report_run("runs/b", 7, 0),
                                        report_run("runs/c", 8, 0.05)};
  const repro::Report report = repro::build_report(runs, repro::CompareOptions{});
  REQUIRE(report.comparisons.size() == 2);
  CHECK(report.comparisons[0].same);
  CHECK_FALSE(report.comparisons[1].same);
  const std::string html = repro::report_html(report);
  CHECK(contains(html, "<h3>A vs B <span class=\"badge same\">SAME</span></h3>"));
  CHECK(contains(html, "<h3>A vs C <span class=\"badge differ\">DIFFER</span></h3>"));
  CHECK(contains(html, ">first divergence A vs C: epoch 2 step 12, dense kernel gradient</text>"));
  CHECK(count(html, "<path class=\"curve\" ") == 3 * 4);
}

TEST_CASE("a run without steps.csv still has its epoch curves") {
  repro::ReportRun a = report_run("runs/a", 7, 0), b = report_run("runs/b", 8, 0.05);
  b.steps.reset();
  const std::string html = repro::report_html(repro::build_report({a, b}, repro::CompareOptions{}));
  CHECK(count(html, "<svg class=\"chart\"") == 4);
  CHECK(count(html, ">runs/b loss</text>") == 1);  // the epoch chart; no step curve for b
}

TEST_CASE("a stopped run is named as such, with no test accuracy") {
  repro::ReportRun a = report_run("runs/a", 7, 0);
  a.folder.run.completed = false;
  a.folder.run.tested = false;
  a.folder.run.stopped = repro::StopRecord{"signal", 2, 3, 11};
  const std::string html = repro::report_html(repro::build_report({a}, repro::CompareOptions{}));
  CHECK(contains(html, "not tested, stopped at epoch 2 step 11 (interrupted)"));
  CHECK(contains(html, "<td class=\"key\">test_accuracy</td><td class=\"value\">not tested</td>"));
}

TEST_CASE("reading a report's run: a missing folder, a file, no history, damaged files") {
  TempDir temp("read");
  const fs::path run = temp.path / "run";
  fs::create_directories(run);
  CHECK(input_error((temp.path / "nope").string()) ==
        (temp.path / "nope").string() +
            ": no such folder; give a run folder written by repro train");
  repro::write_file_atomic(temp.path / "file.json", "{}");
  CHECK(contains(input_error((temp.path / "file.json").string()), "file.json: not a folder"));
  CHECK(input_error(run.string()) ==
        run.string() +
            ": not a run folder (no run.json); a run still training has none yet, a "
            "killed one can go on with repro train --resume " +
            run.string());
  repro::write_run_record((run / "run.json").string(), run_record(7));
  CHECK(contains(input_error(run.string()), (run / "history.json").string() + ": missing"));
  repro::write_file_atomic(run / "history.json", "{\"loss\": [0.5, \"x\"]}");
  repro::write_safetensors((run / "model.safetensors").string(), {{"dense/bias", {2}, {1, 2}}});
  CHECK(contains(input_error(run.string()), (run / "history.json").string() + ":1:"));
  repro::write_history((run / "history.json").string(), {{"loss", {0.5}}});
  repro::write_file_atomic(run / "steps.csv",
                           repro::steps_to_csv({{2, 1, 1, 0.5f, 0.4f, 0.3f, 0.001f, 0.1}}) +
                               "4,1,3,0.5,zero,0.3,0.001,0.2\n");
  CHECK(input_error(run.string()) ==
        (run / "steps.csv").string() + ":3:11: loss must be a number (got \"zero\")");
  fs::remove(run / "steps.csv");
  const repro::ReportRun ok = repro::read_report_run(run.string());
  CHECK(ok.folder.history.at("loss") == std::vector<double>{0.5});
  CHECK_FALSE(ok.steps);
  CHECK(ok.folder.run.seed == 7);
  // run_record(7) says its final weights are "bb7": these are not.
  REQUIRE(ok.folder.changed.size() == 1);
  CHECK(contains(ok.folder.changed[0], "model.safetensors changed after the run"));
}

TEST_CASE("a single run is drawn with its run.json and no verdict") {
  const repro::Report report =
      repro::build_report({report_run("runs/only", 7, 0)}, repro::CompareOptions{});
  CHECK(report.comparisons.empty());
  const std::string html = repro::report_html(report);
  CHECK_FALSE(contains(html, "<h2>Verdict</h2>"));
  CHECK(count(html, "<svg class=\"chart\"") == 4);
  CHECK(count(html, "<path class=\"curve\" ") == 4);
  CHECK(count(html, "<path class=\"curve dashed\" ") == 2);
  CHECK_FALSE(contains(html, "<g class=\"marker\">"));
  CHECK(contains(html, "<td class=\"key\">seed</td><td class=\"value\">7</td></tr>"));
}

TEST_CASE("JUnit XML: one testcase per item, failures counted, every string escaped") {
  const std::string xml = repro::junit_xml(
      "repro check a<b>.yaml", {{"c&d", "loss", ""}, {"c&d", "weights", "it's \"x\"\x01"}}, 1.5);
  CHECK(contains(xml, "<testsuites name=\"repro\" tests=\"2\" failures=\"1\" time=\"1.500\">"));
  CHECK(contains(xml, "<testsuite name=\"repro check a&lt;b&gt;.yaml\""));
  CHECK(contains(xml, "<testcase classname=\"c&amp;d\" name=\"loss\"/>"));
  CHECK(contains(xml, "<failure message=\"it&#39;s &quot;x&quot;&#xFFFD;\""));
}

TEST_CASE("a run that stopped early has its stop and best epoch marked on the epoch charts") {
  repro::ReportRun a = report_run("runs/a", 7, 0);
  a.folder.run.early_stopping = repro::EarlyStoppingRecord{2, 1, 0.2, true};
  const repro::Report report = repro::build_report({a}, repro::CompareOptions{});
  const std::vector<repro::Chart> charts = repro::epoch_charts(report);
  REQUIRE(charts.size() == 2);
  for (const repro::Chart& chart : charts) {
    REQUIRE(chart.markers.size() == 2);
    CHECK(chart.markers[0].label == "best epoch 1");
    CHECK(chart.markers[1].label == "early stopping after epoch 2");
  }
  const std::string html = repro::report_html(report);
  CHECK(contains(html, "early stopping after epoch 2 (best epoch 1, its weights restored)"));
}
