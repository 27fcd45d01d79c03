// repro compare end to end: exit codes 0/1/2, the table, --exact, --json, --quiet, --keys, and
// malformed input reported with file and position.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "record/history.h"
#include "record/run_record.h"
#include "record/safetensors.h"
#include "run_cli.h"

namespace fs = std::filesystem;

using repro_test::contains;

namespace {

struct CompareRun {
  int exit_code = -1;
  std::string out, err;
};

// A fresh folder per test and process (ctest runs test cases in parallel, and so do teammates),
// removed when the test ends.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& test)
      : path(fs::temp_directory_path() /
             ("repro_e2e_compare_" + test + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignore;
    fs::remove_all(path, ignore);
  }
};

CompareRun run_repro(const fs::path& dir, const std::string& args) {
  std::string command = std::string(REPRO_EXE) + " " + args + " >" + (dir / "out.txt").string() +
                        " 2>" + (dir / "err.txt").string();
  int status = std::system(command.c_str());
  CompareRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = repro::read_file(dir / "out.txt");
  run.err = repro::read_file(dir / "err.txt");
  return run;
}

std::string history_file(const fs::path& dir, const std::string& name, double second_loss) {
  fs::path path = dir / name;
  repro::write_history(path.string(), {{"accuracy", {0.8f, 0.9f}}, {"loss", {0.6f, second_loss}}});
  return path.string();
}

}  // namespace

TEST_CASE("repro compare: identical histories exit 0 with a SAME verdict") {
  TempDir temp("identical");
  const fs::path& dir = temp.path;
  std::string a = history_file(dir, "a.json", 0.5), b = history_file(dir, "b.json", 0.5);
  CompareRun run = run_repro(dir, "compare " + a + " " + b);
  CHECK(run.exit_code == 0);
  CHECK(contains(run.out, "verdict: SAME"));
  CHECK(contains(run.out, "max abs diff"));
  CHECK(run.err.empty());
}

TEST_CASE("repro compare: a 1e-3 difference exits 1 naming the key and the epoch") {
  TempDir temp("small");
  const fs::path& dir = temp.path;
  std::string a = history_file(dir, "a.json", 0.5), b = history_file(dir, "b.json", 0.5 + 1e-3);
  CompareRun run = run_repro(dir, "compare " + a + " " + b);
  CHECK(run.exit_code == 1);
  CHECK(contains(run.out, "verdict: DIFFER"));
  CHECK(contains(run.out, "loss from epoch 2"));
}

TEST_CASE("repro compare: a 1e-9 difference exits 0 by default and 1 with --exact") {
  TempDir temp("tiny");
  const fs::path& dir = temp.path;
  std::string a = history_file(dir, "a.json", 0.5), b = history_file(dir, "b.json", 0.5 + 1e-9);
  CHECK(run_repro(dir, "compare " + a + " " + b).exit_code == 0);
  CompareRun exact = run_repro(dir, "compare " + a + " " + b + " --exact");
  CHECK(exact.exit_code == 1);
  CHECK(contains(exact.out, "loss from epoch 2"));
  CHECK(run_repro(dir, "compare " + a + " " + b + " --rtol 0 --atol 0").exit_code == 1);
  CHECK(run_repro(dir, "compare " + a + " " + b + " --exact --keys accuracy").exit_code == 0);
}

TEST_CASE("repro compare: malformed JSON exits 2 with file, line and column") {
  TempDir temp("malformed");
  const fs::path& dir = temp.path;
  std::string a = history_file(dir, "a.json", 0.5);
  fs::path bad = dir / "bad.json";
  repro::write_file_atomic(bad, "{\"loss\": [0.5,\n  0.4, oops]}");
  CompareRun run = run_repro(dir, "compare " + a + " " + bad.string());
  CHECK(run.exit_code == 2);
  CHECK(contains(run.err, "repro: " + bad.string() + ":2:8: invalid JSON at 'oops]}'"));
  CHECK(run.out.empty());
  CHECK(run_repro(dir, "compare " + a + " " + (dir / "missing.json").string()).exit_code == 2);
  CHECK(run_repro(dir, "compare " + a).exit_code == 2);
}

TEST_CASE("repro compare --json prints a report that parses, and --quiet prints nothing") {
  TempDir temp("json");
  const fs::path& dir = temp.path;
  std::string a = history_file(dir, "a.json", 0.5), b = history_file(dir, "b.json", 0.5 + 1e-3);
  CompareRun run = run_repro(dir, "compare " + a + " " + b + " --json");
  CHECK(run.exit_code == 1);
  nlohmann::json report = nlohmann::json::parse(run.out);
  CHECK(report["same"] == false);
  CHECK(report["keys"][1]["key"] == "loss");
  CHECK(report["keys"][1]["first_differing_epoch"] == 2);
  CompareRun quiet = run_repro(dir, "compare " + a + " " + b + " --quiet");
  CHECK(quiet.exit_code == 1);
  CHECK(quiet.out.empty());
  CHECK(quiet.err.empty());
  CHECK(run_repro(dir, "compare " + a + " " + a + " --quiet").out.empty());
}

TEST_CASE("repro compare --format markdown prints a table for a CI job's summary page") {
  TempDir temp("markdown");
  const fs::path& dir = temp.path;
  std::string a = history_file(dir, "a.json", 0.5), b = history_file(dir, "b.json", 0.5 + 1e-3);
  CompareRun run = run_repro(dir, "compare " + a + " " + b + " --format markdown");
  CHECK(run.exit_code == 1);
  CHECK(
      run.out.rfind("### repro compare: DIFFER\n\n`" + a + "` vs `" + b +
                        "` (numpy.allclose: "
                        "rtol=1e-05, atol=1e-08)\n\n| key | compared | max abs diff | max rel diff "
                        "| first diff | status |\n|---|---:|---:|---:|---:|---|\n",
                    0) == 0);
  CHECK(contains(run.out, "| accuracy | 2 | 0 | 0 | - | same |\n"));
  CHECK(contains(run.out, "| loss | 2 | 0.001 | 0.002 | epoch 2 | **DIFFER** |\n"));
  CompareRun same = run_repro(dir, "compare " + a + " " + a + " --format markdown");
  CHECK(same.exit_code == 0);
  CHECK(same.out.rfind("### repro compare: SAME\n", 0) == 0);
  CHECK(run_repro(dir, "compare " + a + " " + b + " --format xml").exit_code == 2);
}

TEST_CASE("repro compare of run folders names the differing weights epoch and environment") {
  TempDir temp("runs");
  const fs::path& dir = temp.path;
  fs::path root = dir / "runs";
  repro::RunRecord record;
  record.threads = 1;
  record.epochs = {{1, 1.0, "aa"}, {2, 1.0, "bb"}};
  for (const char* name : {"a", "b"}) {
    repro::write_history((root / name / "history.json").string(), {{"loss", {0.5, 0.4}}});
    repro::write_safetensors((root / name / "model.safetensors").string(),
                             {{"dense/kernel", {2}, {0.5f, 0.25f}}});
    if (std::string(name) == "b") {
      record.threads = 2;
      record.epochs[1].weights_sha256 = "cc";
    }
    repro::write_run_record((root / name / "run.json").string(), record);
  }
  std::string args = "compare " + (root / "a").string() + " " + (root / "b").string();
  CompareRun tolerant = run_repro(dir, args);
  CHECK(tolerant.exit_code == 0);
  CHECK(contains(tolerant.out, "weights: digests differ from epoch 2"));
  CHECK(contains(tolerant.out, "not bit-identical (weights from epoch 2): --exact fails on that"));
  CompareRun exact = run_repro(dir, args + " --exact");
  CHECK(exact.exit_code == 1);
  CHECK(contains(exact.out, "run.json differences (likely cause):"));
  CHECK(contains(exact.out, "threads"));
  CHECK(contains(exact.out, "weights from epoch 2"));
  CHECK(contains(exact.out, "final weights: 2 values identical"));
}
