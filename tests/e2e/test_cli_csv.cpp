// dataset csv end to end on tables the test writes (three species told apart by three measured
// columns, the label column between them, names as labels): configs/csv_table.yaml learns them,
// the bits hold for any worker and thread count and across resume, predict reads a table without
// its label column, the ONNX export takes float rows (checked in ONNX Runtime), and a bad row
// stops training before it starts.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "array_files.h"
#include "run_cli.h"

namespace fs = std::filesystem;
using repro_test::contains;
using repro_test::run_repro;

namespace {

std::string quoted(const fs::path& p) { return " '" + p.string() + "'"; }

// Row i: species i % 3 (names sorted: setosa 0, versicolor 1, virginica 2), three columns whose
// means differ by species, with a deterministic spread.
struct Row {
  float a, b, c;
  int k;
};
Row row(int i) {
  const int k = i % 3;
  const float spread = static_cast<float>((i * 37) % 100) / 100.0f - 0.5f;
  return {2.0f * k + spread, 3.0f - k - 0.8f * spread, 1.0f + 1.5f * k + 0.6f * spread, k};
}

void write_table(const fs::path& path, int first, int count) {
  const char* names[] = {"setosa", "versicolor", "virginica"};
  std::ofstream out(path);
  out << "sepal_length,sepal_width,species,petal_length\n";
  for (int i = first; i < first + count; ++i) {
    const Row r = row(i);
    out << r.a << "," << r.b << "," << names[r.k] << "," << r.c << "\n";
  }
}

}  // namespace

TEST_CASE("dataset csv learns a table, reproducibly, and its model leaves as ONNX") {
  const fs::path root = repro_test::scratch_dir("cli_csv");
  write_table(root / "train.csv", 0, 240);
  write_table(root / "test.csv", 1000, 60);
  const std::string config = "configs/csv_table.yaml --set data.path='" +
                             (root / "train.csv").string() + "' --set data.test_path='" +
                             (root / "test.csv").string() + "'";
  const auto summary = run_repro("", "summary " + config);
  INFO(summary.out << summary.err);
  CHECK(contains(summary.out, "dense (Dense)               (None, 32)                128"));

  const auto trained = run_repro("", "train " + config + " --out" + quoted(root / "a"));
  INFO(trained.out << trained.err);
  REQUIRE(trained.exit_code == 0);
  const auto run = nlohmann::json::parse(repro_test::slurp_file(root / "a/run.json"));
  CHECK(run["test_accuracy"].get<double>() >= 0.9);
  CHECK(contains(run["config_yaml"].get<std::string>(), "features: 3"));

  for (const char* vary : {"data.num_parallel_calls=1,3", "threads=1,2"}) {
    const auto check = run_repro(
        "", "check " + config + " --steps 20 --vary " + vary + " --out" + quoted(root / "check"));
    INFO(vary << "\n" << check.out << check.err);
    CHECK(check.exit_code == 0);
    CHECK(contains(check.out, "PASS: 2 runs bit-identical"));
  }
  const std::string resume = config + " --set training.checkpoint=true --quiet";
  REQUIRE(run_repro("", "train " + resume + " --epochs 7 --out" + quoted(root / "c")).exit_code ==
          0);
  REQUIRE(run_repro("", "train " + resume + " --resume" + quoted(root / "c")).exit_code == 0);
  const auto same = run_repro("", "compare --exact" + quoted(root / "a") + quoted(root / "c"));
  INFO(same.out);
  CHECK(contains(same.out, "verdict: SAME (exact: identical bits)"));

  // predict: the feature columns alone, in the training table's order.
  {
    std::ofstream out(root / "rows.csv");
    out << "sepal_length,sepal_width,petal_length\n";
    for (int i : {1000, 1001, 1002}) out << row(i).a << "," << row(i).b << "," << row(i).c << "\n";
  }
  const auto predicted = run_repro("", "predict" + quoted(root / "a") + quoted(root / "rows.csv"));
  INFO(predicted.out << predicted.err);
  CHECK(predicted.exit_code == 0);
  CHECK(contains(predicted.out, "predicted,p0,p1,p2\n1,"));  // row 1000: 1000 % 3 = 1

  // ONNX: float rows in, ONNX Runtime against predict on the test table and run.json's accuracy.
  std::string x, y;
  for (int i = 1000; i < 1060; ++i) {
    const Row r = row(i);
    for (float v : {r.a, r.b, r.c}) x.append(reinterpret_cast<const char*>(&v), 4);
    y += static_cast<char>(r.k);
  }
  std::ofstream(root / "x.npy", std::ios::binary) << repro_test::npy_bytes("<f4", {60, 3}, x);
  std::ofstream(root / "y.npy", std::ios::binary) << repro_test::npy_bytes("|u1", {60}, y);
  const auto exported =
      run_repro("", "export" + quoted(root / "a") + " --out" + quoted(root / "m.onnx"));
  CHECK(contains(exported.out, "input float (N, 3) table rows"));
  const auto onnx = repro_test::run_check_script(std::string(REPRO_SOURCE_DIR) +
                                                 "/scripts/onnx_check.sh" + quoted(root / "a") +
                                                 quoted(root / "x.npy") + quoted(root / "y.npy"));
  INFO(onnx.out);
  if (!onnx.skipped) {
    CHECK(onnx.exit_code == 0);
    CHECK(contains(onnx.out, "images: 60, classes: 3"));
  }

  // A bad row: exit 2 before training, the line named.
  std::ofstream(root / "train.csv", std::ios::app) << "1.0,setosa,2.0\n";
  const auto bad = run_repro("", "train " + config + " --out" + quoted(root / "bad"));
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.err, "train.csv:242: 3 fields, but the header has 4"));
  CHECK_FALSE(fs::exists(root / "bad"));
  fs::remove_all(root);
}
