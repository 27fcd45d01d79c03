// repro report end to end: one HTML file for two run folders and a line saying where; one-line
// errors (exit 2) that leave no file behind; the hints in repro train and repro compare; and two
// tiny MNIST runs with different seeds reported with their divergence.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "compare/compare.h"
#include "core/fs.h"
#include "record/history.h"
#include "record/run_record.h"
#include "record/safetensors.h"
#include "record/steps.h"
#include "run_cli.h"
#include "support/skip.h"

using repro_test::contains;

namespace {

namespace fs = std::filesystem;

using Ran = repro_test::CliResult;

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

std::string quoted(const fs::path& path) { return std::string("'") + path.string() + "'"; }

// A run folder as repro train leaves it, without training: history, weights, run.json, steps.csv.
void write_run(const fs::path& folder, int64_t seed, double last_loss) {
  const std::vector<repro::NamedTensor> weights = {
      {"dense/kernel", {2, 2}, {0.5f, -0.25f, static_cast<float>(seed), 1.0f}}};
  repro::write_safetensors((folder / "model.safetensors").string(), weights);
  fs::create_directories(folder);
  repro::write_history((folder / "history.json").string(), {{"accuracy", {0.7, 0.9}},
                                                            {"loss", {0.8, last_loss}},
                                                            {"val_accuracy", {0.93, 0.96}},
                                                            {"val_loss", {0.2, 0.12}}});
  repro::RunRecord record;
  record.seed = seed;
  record.threads = 2;
  record.epochs = {{1, 1.0, "aa"}, {2, 1.0, "bb"}};
  record.completed = true;
  record.weights_sha256 = repro::weights_sha256(weights);
  repro::write_run_record((folder / "run.json").string(), record);
  repro::write_file_atomic(folder / "steps.csv",
                           repro::steps_to_csv({{10, 1, 9, 0.5f, 0.9f, 0.8f, 0.001f, 0.5},
                                                {20, 2, 9, 0.8f, 0.4f, 0.3f, 0.001f, 1.0}}));
}

}  // namespace

TEST_CASE("repro report writes one HTML file for two run folders and says where it went",
          "[e2e][report]") {
  const fs::path dir = repro_test::scratch_dir("report_write");
  write_run(dir / "a", 7, 0.3);
  write_run(dir / "b", 8, 0.35);
  const fs::path out = dir / "report.html";
  const Ran ran = repro_test::run_repro(
      "", "report " + quoted(dir / "a") + " " + quoted(dir / "b") + " --out " + quoted(out));
  INFO(ran.err);
  CHECK(ran.exit_code == 0);  // written; the runs differing is the page's news, not an error
  CHECK(ran.out == "Report: " + out.string() + " (2 runs; A vs B: DIFFER); open it in a browser\n");
  CHECK(ran.err.empty());
  const std::string html = repro_test::slurp_file(out);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(count(html, "<svg class=\"chart\"") == 4);
  const std::string a = (dir / "a").string(), b = (dir / "b").string();
  CHECK(contains(html, ">" + a + " val_loss</text>"));
  CHECK(contains(html, ">" + b + " loss</text>"));
  CHECK(contains(html,
                 "<td class=\"key\">seed</td><td class=\"value\">7</td>"
                 "<td class=\"value\">8</td>"));
  CHECK(contains(html, "verdict: DIFFER"));
  fs::remove_all(dir);
}

TEST_CASE(
    "repro report: a missing folder, a missing history or a damaged file is one line, "
    "exit 2, and the previous report stays",
    "[e2e][report]") {
  const fs::path dir = repro_test::scratch_dir("report_errors");
  write_run(dir / "a", 7, 0.3);
  const fs::path out = dir / "report.html";
  repro::write_file_atomic(out, "previous report");
  auto report = [&](const std::string& runs) {
    return repro_test::run_repro("", "report " + runs + " --out " + quoted(out));
  };
  auto one_line_error = [](const Ran& ran, const std::string& message) {
    INFO(ran.err);
    CHECK(ran.exit_code == 2);
    CHECK(ran.out.empty());
    CHECK(ran.err == "repro: " + message + "\n");
  };

  one_line_error(
      report(quoted(dir / "a") + " " + quoted(dir / "gone")),
      (dir / "gone").string() + ": no such folder; give a run folder written by repro train");
  fs::create_directories(dir / "empty");
  one_line_error(report(quoted(dir / "a") + " " + quoted(dir / "empty")),
                 (dir / "empty").string() +
                     ": not a run folder (no run.json); a run still "
                     "training has none yet, a killed one can go on with repro train --resume " +
                     (dir / "empty").string());
  write_run(dir / "bad", 8, 0.3);
  repro::write_file_atomic(dir / "bad" / "run.json", "{\"seed\": 8,\n  \"threads\": }");
  const Ran damaged = report(quoted(dir / "a") + " " + quoted(dir / "bad"));
  CHECK(damaged.exit_code == 2);
  CHECK(damaged.err.rfind("repro: " + (dir / "bad" / "run.json").string() + ":2:", 0) == 0);
  CHECK(count(damaged.err, "\n") == 1);
  one_line_error(report(quoted(dir / "a") + " " + quoted(dir / "a" / "history.json")),
                 (dir / "a" / "history.json").string() +
                     ": not a folder; repro report takes run folders (the --out of repro train), "
                     "not single files");
  CHECK(repro_test::slurp_file(out) == "previous report");

  const Ran to_folder =
      repro_test::run_repro("", "report " + quoted(dir / "a") + " --out " + quoted(dir / "empty"));
  CHECK(to_folder.exit_code == 2);
  CHECK(contains(to_folder.err, "is a folder; give a file name such as"));
  CHECK(repro_test::run_repro("", "report").exit_code == 2);
  for (const auto& entry : fs::directory_iterator(dir))
    CHECK_FALSE(contains(entry.path().filename().string(), ".tmp."));
  fs::remove_all(dir);
}

TEST_CASE("repro compare on two run folders points at repro report, only in its text output",
          "[e2e][report]") {
  const fs::path dir = repro_test::scratch_dir("report_hint");
  write_run(dir / "a", 7, 0.3);
  write_run(dir / "b b", 8, 0.35);
  const std::string pair = quoted(dir / "a") + " " + quoted(dir / "b b");
  const std::string hint = "curves side by side: repro report " + (dir / "a").string() + " " +
                           quoted(dir / "b b") + "\n";
  const Ran text = repro_test::run_repro("", "compare " + pair);
  CHECK(text.exit_code == 1);
  CHECK(contains(text.out, hint));
  for (const std::string flags : {"--json", "--format json", "--format markdown", "--quiet"}) {
    const Ran other = repro_test::run_repro("", "compare " + flags + " " + pair);
    INFO(flags);
    CHECK(other.exit_code == 1);
    CHECK_FALSE(contains(other.out, "repro report"));
  }
  const Ran files = repro_test::run_repro("", "compare " + quoted(dir / "a" / "history.json") +
                                                  " " + quoted(dir / "b b" / "history.json"));
  CHECK_FALSE(contains(files.out, "repro report"));
  fs::remove_all(dir);
}

TEST_CASE("two tiny MNIST runs with different seeds: the report shows both and where they part",
          "[e2e][report]") {
  const std::string data = repro_test::mnist_parent_dir();
  if (data.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const std::string env = "REPRO_DATA_DIR='" + data + "'";
  const fs::path dir = repro_test::scratch_dir("report_mnist");
  const std::string train =
      "train configs/tiny.yaml --threads 2 --set training.trace.every=4 "
      "--set training.log.every=2 --out ";
  const Ran a = repro_test::run_repro(env, train + quoted(dir / "a"));
  INFO(a.out << a.err);
  REQUIRE(a.exit_code == 0);
  CHECK(contains(a.out, "Run folder: " + (dir / "a").string() +
                            "\nCurves and run.json in one HTML file: repro report " +
                            (dir / "a").string() + "\n"));
  REQUIRE(
      repro_test::run_repro(env, train + quoted(dir / "b") + " --set seed=8 --quiet").exit_code ==
      0);

  const fs::path out = dir / "report.html";
  const Ran ran = repro_test::run_repro(
      "", "report " + quoted(dir / "a") + " " + quoted(dir / "b") + " --out " + quoted(out));
  INFO(ran.err);
  REQUIRE(ran.exit_code == 0);
  const std::string html = repro_test::slurp_file(out);
  // 16 steps an epoch, a steps.csv row every 2: both runs' step curves, 16 points each.
  CHECK(count(html, "<svg class=\"chart\"") == 4);
  CHECK(count(html, "<path class=\"curve\" ") == 4 + 4);
  CHECK(count(html, "<path class=\"curve dashed\" ") == 4);
  const std::string b = (dir / "b").string();
  CHECK(contains(html, ">" + b + " accuracy</text>"));
  // Another seed: other initial weights, so the traces part at their step-0 digests.
  CHECK(count(html,
              "text-anchor=\"start\">first divergence: before step 1 (initial weights "
              "differ: conv2d kernel)") == 2);
  CHECK(contains(html, "<li>first divergence: before step 1 (initial weights differ: "));
  CHECK(contains(html,
                 "<tr id=\"row-3\" class=\"differ\"><td class=\"flag\">&#8800;</td>"
                 "<td class=\"key\">seed</td><td class=\"value\">7</td>"
                 "<td class=\"value\">8</td></tr>"));
  CHECK(contains(html, "<span class=\"badge differ\">DIFFER</span>"));
  fs::remove_all(dir);
}
