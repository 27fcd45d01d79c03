// embedding end to end on token-id tables the test writes (label 1 when token 7 occurs in the
// row): embedding -> lstm -> dense learns it well above chance, the bits hold for 1 and 2 threads,
// 1 and 2 ranks and across resume, an id outside [0, input_dim) stops training naming the layer,
// the value and input_dim, the Keras export round-trips (keras_check.py, then `repro import
// keras` to a csv config with the same parameters), and embedding -> flatten -> dense agrees with
// ONNX Runtime.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "array_files.h"
#include "dist/communicator.h"
#include "export_checks.h"
#include "run_cli.h"

namespace fs = std::filesystem;
using repro_test::contains;
using repro_test::run_repro;

namespace {

std::string quoted(const fs::path& p) { return " '" + p.string() + "'"; }

constexpr int kLength = 8;  // ids per row

// Row i: 8 ids from 1..19 by a fixed hash, with token 7 replaced (label 0) or put in at a place
// that depends on i (label 1); half the rows each.
std::vector<int> ids_of(int i, int& label) {
  label = (i * 7 + i / 3) % 2;
  std::vector<int> ids(kLength);
  uint32_t h = 2166136261u ^ uint32_t(i);
  for (int t = 0; t < kLength; ++t) {
    h = (h ^ uint32_t(t + 1)) * 16777619u;
    ids[size_t(t)] = 1 + int((h >> 7) % 19);
    if (ids[size_t(t)] == 7) ids[size_t(t)] = 8;
  }
  if (label == 1) ids[size_t((i * 5) % kLength)] = 7;
  return ids;
}

void write_table(const fs::path& path, int first, int count) {
  std::ofstream out(path);
  out << "label";
  for (int t = 0; t < kLength; ++t) out << ",t" << t;
  out << "\n";
  for (int i = first; i < first + count; ++i) {
    int label = 0;
    const std::vector<int> ids = ids_of(i, label);
    out << label;
    for (int id : ids) out << "," << id;
    out << "\n";
  }
}

const char* kConfig =
    "seed: 7\n"
    "data: {dataset: csv, path: train.csv, test_path: test.csv, label: label, batch_size: 16}\n"
    "model:\n"
    "  - embedding: {input_dim: 20, output_dim: 8}\n"
    "  - lstm: {units: 12}\n"
    "  - dense: {units: 2, activation: softmax}\n"
    "training: {epochs: 6, optimizer: {name: adam, learning_rate: 0.01}}\n";

}  // namespace

TEST_CASE(
    "embedding -> lstm learns which tokens a row holds, reproducibly, bad ids stop it, Keras and "
    "ONNX round trips") {
  const fs::path root = repro_test::scratch_dir("cli_embedding");
  write_table(root / "train.csv", 0, 480);
  write_table(root / "test.csv", 5000, 160);
  std::ofstream(root / "tokens.yaml") << kConfig;
  const std::string config = quoted(root / "tokens.yaml") + " --set data.path='" +
                             (root / "train.csv").string() + "' --set data.test_path='" +
                             (root / "test.csv").string() + "'";
  const auto summary = run_repro("", "summary" + config);
  INFO(summary.out << summary.err);
  CHECK(contains(summary.out, "embedding (Embedding)       (None, 8, 8)              160"));

  const auto trained = run_repro("", "train" + config + " --quiet --out" + quoted(root / "a"));
  INFO(trained.out << trained.err);
  REQUIRE(trained.exit_code == 0);
  const auto run = nlohmann::json::parse(repro_test::slurp_file(root / "a/run.json"));
  const double accuracy = run["test_accuracy"].get<double>();
  INFO("test accuracy " << accuracy);
  CHECK(accuracy >= 0.9);  // chance: 0.5

  const auto threads = run_repro(
      "", "check" + config + " --steps 12 --vary threads=1,2 --out" + quoted(root / "check"));
  INFO(threads.out << threads.err);
  CHECK(threads.exit_code == 0);
  CHECK(contains(threads.out, "PASS: 2 runs bit-identical"));

  // Resume mid-run from a checkpoint (the table's Adam slots transposed out and back): the same
  // bits as the run straight through.
  const std::string resume = config + " --quiet --set training.checkpoint.every=45";
  REQUIRE(run_repro("", "train" + resume + " --steps 45 --out" + quoted(root / "r")).exit_code ==
          0);
  REQUIRE(run_repro("", "train --quiet --resume" + quoted(root / "r")).exit_code == 0);
  const auto same = run_repro("", "compare --exact" + quoted(root / "a") + quoted(root / "r"));
  INFO(same.out);
  CHECK(contains(same.out, "verdict: SAME (exact: identical bits)"));

  // An id of 20 with input_dim 20: the layer, the value and input_dim named, exit 2.
  write_table(root / "bad.csv", 0, 40);
  std::ofstream(root / "bad.csv", std::ios::app) << "1,3,4,20,5,6,7,8,9\n";
  std::ofstream(root / "bad.yaml")
      << "data: {dataset: csv, path: bad.csv, label: label, batch_size: 16, shuffle: false}\n"
         "model:\n  - embedding: {input_dim: 20, output_dim: 8}\n  - lstm: {units: 4}\n"
         "  - dense: {units: 2, activation: softmax}\ntraining: {validation: false}\n";
  const auto bad =
      run_repro("", "train" + quoted(root / "bad.yaml") + " --set data.path='" +
                        (root / "bad.csv").string() + "' --out" + quoted(root / "bad"));
  INFO(bad.out << bad.err);
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.err,
                 "layer 'embedding': id 20 (sample 8 of the batch, position 2) is not a "
                 "whole number in [0, input_dim = 20)"));

  // Keras: the archive's tensors are the run's, and its config imports to a csv config that the
  // same table trains.
  const auto keras = repro_test::keras_round_trip(root / "a", root / "m.keras");
  if (!keras.checked.empty())
    CHECK(contains(keras.checked, "layers/embedding (embedding): 1 tensors identical"));
  const std::string& imported = keras.imported;
  CHECK(contains(imported, "  dataset: csv\n"));
  CHECK(contains(imported, "  features: 8\n"));
  CHECK(contains(imported,
                 "embedding: {name: embedding, input_dim: 20, output_dim: 8, "
                 "embeddings_initializer: {name: random_uniform, seed: null, minval: -0.05, "
                 "maxval: 0.05}, mask_zero: false}"));
  std::ofstream(root / "imported.yaml") << imported;
  const auto again = run_repro("", "summary" + quoted(root / "imported.yaml") +
                                       " --set data.path='" + (root / "train.csv").string() + "'");
  INFO(again.out << again.err);
  CHECK(contains(again.out, "Total params: 1,194"));

  // ONNX (no lstm there yet): embedding -> flatten -> dense, float ids in, against predict.
  std::string flat_config = kConfig;
  flat_config.replace(flat_config.find("lstm: {units: 12}"), 17, "flatten: {}");
  std::ofstream(root / "flat.yaml") << flat_config;
  const auto flat =
      run_repro("", "train" + quoted(root / "flat.yaml") + " --set data.path='" +
                        (root / "train.csv").string() + "' --set data.test_path='" +
                        (root / "test.csv").string() + "' --quiet --out" + quoted(root / "f"));
  INFO(flat.out << flat.err);
  REQUIRE(flat.exit_code == 0);
  std::string x, y;
  for (int i = 5000; i < 5160; ++i) {
    int label = 0;
    for (int id : ids_of(i, label)) {
      const float v = float(id);
      x.append(reinterpret_cast<const char*>(&v), 4);
    }
    y += static_cast<char>(label);
  }
  std::ofstream(root / "x.npy", std::ios::binary) << repro_test::npy_bytes("<f4", {160, 8}, x);
  std::ofstream(root / "y.npy", std::ios::binary) << repro_test::npy_bytes("|u1", {160}, y);
  const auto onnx = repro_test::run_check_script(std::string(REPRO_SOURCE_DIR) +
                                                 "/scripts/onnx_check.sh" + quoted(root / "f") +
                                                 quoted(root / "x.npy") + quoted(root / "y.npy"));
  INFO(onnx.out);
  if (!onnx.skipped) {
    CHECK(onnx.exit_code == 0);
    CHECK(contains(onnx.out, "images: 160, classes: 2"));
  }
  fs::remove_all(root);
}

TEST_CASE("embedding's table gradient splits over ranks: 1 and 2 ranks give the same bits") {
  if (!repro::built_with_mpi()) REPRO_SKIP("repro was built without MPI");
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) REPRO_SKIP("no mpirun on PATH");
  const fs::path root = repro_test::scratch_dir("cli_embedding_ranks");
  write_table(root / "train.csv", 0, 200);
  std::ofstream(root / "tokens.yaml") << kConfig;
  // Batches of 20: chunks of 8, 8 and 4, split 16 + 4 over two ranks.
  const auto ranks =
      run_repro("", "check" + quoted(root / "tokens.yaml") + " --set data.path='" +
                        (root / "train.csv").string() +
                        "' --set data.test_path='' --set data.batch_size=20 --set "
                        "data.validation_split=0.2 --steps 10 --vary ranks=1,2 --out" +
                        quoted(root / "check"));
  INFO(ranks.out << ranks.err);
  CHECK(ranks.exit_code == 0);
  CHECK(contains(ranks.out, "PASS: 2 runs bit-identical"));
  fs::remove_all(root);
}

TEST_CASE(
    "repro import keras reads an Embedding model's JSON: a vector input becomes a csv table, "
    "input_length is dropped, mask_zero true is refused") {
  const fs::path root = repro_test::scratch_dir("cli_embedding_import");
  const auto model = [](const std::string& mask_zero) {
    return std::string(
               R"({"class_name": "Sequential", "config": {"name": "text", "layers": [)"
               R"({"class_name": "InputLayer", "config": {"batch_shape": [null, 6], )"
               R"("dtype": "int32", "sparse": false, "name": "ids"}}, )"
               R"({"class_name": "Embedding", "config": {"name": "words", "trainable": true, )"
               R"("dtype": "float32", "input_dim": 50, "output_dim": 4, )"
               R"("embeddings_initializer": {"module": "keras.initializers", "class_name": )"
               R"("RandomUniform", "config": {"minval": -0.05, "maxval": 0.05, "seed": 3}}, )"
               R"("embeddings_regularizer": null, "activity_regularizer": null, )"
               R"("embeddings_constraint": null, "mask_zero": )") +
           mask_zero +
           R"(, "input_length": 6}}, )"
           R"({"class_name": "GRU", "config": {"name": "gru", "units": 3}}, )"
           R"({"class_name": "Dense", "config": {"name": "out", "units": 2, )"
           R"("activation": "softmax"}}]}})";
  };
  std::ofstream(root / "m.json") << model("false");
  const auto imported = run_repro("", "import keras" + quoted(root / "m.json"));
  INFO(imported.out << imported.err);
  CHECK(imported.exit_code == 0);
  CHECK(contains(imported.out, "  dataset: csv\n"));
  CHECK(contains(imported.out, "  features: 6\n"));
  CHECK(contains(imported.out,
                 "  - embedding: {name: words, input_dim: 50, output_dim: 4, "
                 "embeddings_initializer: {name: random_uniform, minval: -0.05, maxval: 0.05, "
                 "seed: 3}, mask_zero: false}"));
  std::ofstream(root / "masked.json") << model("true");
  const auto masked = run_repro("", "import keras" + quoted(root / "masked.json"));
  INFO(masked.err);
  CHECK(masked.exit_code == 2);
  CHECK(contains(masked.err, "mask_zero true is not supported"));
  fs::remove_all(root);
}
