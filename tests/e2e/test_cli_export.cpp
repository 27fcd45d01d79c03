// The trained model leaves repro, on real MNIST: evaluate gives the bits run.json recorded,
// predict writes probabilities (CSV or .npy) for IDX or .npy images, export writes an ONNX file
// that ONNX Runtime runs to the same predictions (scripts/onnx_check.sh; skipped without npm),
// and each bad input is one line and exit 2.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "array_files.h"
#include "data/dataset.h"
#include "data/image_files.h"
#include "record/npy.h"
#include "run_cli.h"

namespace fs = std::filesystem;
using repro_test::mnist_parent_dir;
using repro_test::run_repro;
using repro_test::scratch_dir;
using repro_test::slurp_file;

using repro_test::contains;

namespace {

// Runs scripts/onnx_check.sh on a run; skips (REPRO_SKIPPED) when the script says it cannot run.
void require_onnx_check(const std::string& env, const fs::path& run) {
  const auto result = repro_test::run_check_script(
      env + " REPRO_BUILD_DIR='" + fs::path(REPRO_EXE).parent_path().string() +
      "' scripts/onnx_check.sh '" + run.string() + "'");
  if (result.skipped) return;
  INFO(result.out);
  CHECK(result.exit_code == 0);
  CHECK(contains(result.out, "predicted classes that differ, of "));
  CHECK(contains(result.out, "PASS"));
}

}  // namespace

TEST_CASE("evaluate, predict and export a tiny run, and their bad inputs") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const std::string env = "REPRO_DATA_DIR='" + data + "'";
  const fs::path dir = scratch_dir("export_tiny");
  const fs::path run = dir / "run";
  REQUIRE(run_repro(env,
                    "train configs/tiny.yaml --quiet --set training.checkpoint.every=epoch "
                    "--out '" +
                        run.string() + "'")
              .exit_code == 0);
  const auto record = nlohmann::json::parse(slurp_file(run / "run.json"));

  // evaluate: the bits run.json recorded, from the same weights.
  const auto evaluated = run_repro(env, "evaluate '" + run.string() + "' --json");
  INFO(evaluated.err);
  REQUIRE(evaluated.exit_code == 0);
  const auto result = nlohmann::json::parse(evaluated.out);
  CHECK(result.at("loss").get<double>() == record.at("test_loss").get<double>());
  CHECK(result.at("accuracy").get<double>() == record.at("test_accuracy").get<double>());
  CHECK(result.at("matches_run_json") == true);
  const auto text = run_repro(env, "evaluate '" + run.string() + "'");
  CHECK(contains(text.out, "run.json recorded the same test loss and accuracy, bit for bit"));
  // The epoch-1 checkpoint's weights give epoch 1's validation numbers (the test split).
  const auto epoch1 = run_repro(env, "evaluate '" + run.string() + "' --checkpoint 16 --json");
  REQUIRE(epoch1.exit_code == 0);
  const auto history = nlohmann::json::parse(slurp_file(run / "history.json"));
  CHECK(nlohmann::json::parse(epoch1.out).at("loss").get<double>() ==
        history.at("val_loss")[0].get<double>());
  const auto train_split = run_repro(env, "evaluate '" + run.string() + "' --split train --json");
  REQUIRE(train_split.exit_code == 0);
  CHECK(nlohmann::json::parse(train_split.out).at("matches_run_json").is_null());
  const auto missing = run_repro(env, "evaluate '" + run.string() + "' --checkpoint 5");
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.err, "has no checkpoint of that step (it has steps 16, 32)"));

  // predict: CSV on stdout and a float32 .npy, the same numbers.
  const std::string images = data + "/mnist/t10k-images-idx3-ubyte.gz";
  const auto csv = run_repro(env, "predict '" + run.string() + "' '" + images + "'");
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.rfind("predicted,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9\n", 0) == 0);
  CHECK(std::count(csv.out.begin(), csv.out.end(), '\n') == 10001);
  const fs::path npy = dir / "p.npy";
  REQUIRE(
      run_repro(env, "predict '" + run.string() + "' '" + images + "' --out '" + npy.string() + "'")
          .exit_code == 0);
  const repro::NpyArray probabilities = repro::read_npy(npy.string());
  CHECK(probabilities.descr == "<f4");
  CHECK(probabilities.shape == std::vector<int64_t>{10000, 10});

  // A .npy of uint8 images works as the IDX file does; other inputs are one-line errors.
  const fs::path small = dir / "small.npy";
  {
    std::string bytes = repro::npy_float32({2, 28, 28}, std::vector<float>(2 * 28 * 28, 0.0f));
    std::ofstream(small, std::ios::binary) << bytes;
  }
  const auto floats = run_repro(env, "predict '" + run.string() + "' '" + small.string() + "'");
  CHECK(floats.exit_code == 2);
  CHECK(contains(floats.err, "predict takes uint8 images"));
  std::ofstream(dir / "bad.npy", std::ios::binary) << "not a npy file";
  const auto bad =
      run_repro(env, "predict '" + run.string() + "' '" + (dir / "bad.npy").string() + "'");
  CHECK(bad.exit_code == 2);
  CHECK(contains(bad.err, "no .npy magic"));

  // One 8-bit grayscale PNG: the first test image gives the first row of the IDX prediction.
  const repro::Dataset first = repro::read_idx_images(images);
  const fs::path png = dir / "first.png";
  std::ofstream(png, std::ios::binary)
      << repro_test::png_bytes(first.images, first.rows, first.cols, 0);
  const fs::path one = dir / "one.npy";
  const auto from_png = run_repro(
      env, "predict '" + run.string() + "' '" + png.string() + "' --out '" + one.string() + "'");
  INFO(from_png.err);
  REQUIRE(from_png.exit_code == 0);
  const repro::NpyArray p1 = repro::read_npy(one.string());
  REQUIRE(p1.shape == std::vector<int64_t>{1, 10});
  for (size_t j = 0; j < 10; ++j) {
    float a = 0, b = 0;
    std::memcpy(&a, p1.data.data() + 4 * j, 4);
    std::memcpy(&b, probabilities.data.data() + 4 * j, 4);
    CHECK(std::fabs(a - b) <= 1e-6f);
  }
  const auto nothing = run_repro(env, "predict '" + dir.string() + "' '" + images + "'");
  CHECK(nothing.exit_code == 2);
  CHECK(contains(nothing.err, "not a run folder (no run.json)"));

  // export: an ONNX file the checker passed, and ONNX Runtime's verdict.
  const fs::path onnx = dir / "model.onnx";
  const auto exported =
      run_repro(env, "export '" + run.string() + "' --out '" + onnx.string() + "'");
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  CHECK(contains(exported.out, "ONNX opset 13"));
  CHECK(fs::file_size(onnx) > 16000);
  fs::remove_all(dir);
}

TEST_CASE("ONNX Runtime runs the exported tiny model to repro's predictions and test accuracy") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const std::string env = "REPRO_DATA_DIR='" + data + "'";
  const fs::path dir = scratch_dir("export_onnx_tiny");
  const fs::path run = dir / "tiny";
  REQUIRE(
      run_repro(env, "train configs/tiny.yaml --quiet --out '" + run.string() + "'").exit_code ==
      0);
  require_onnx_check(env, run);
  fs::remove_all(dir);
}

TEST_CASE("ONNX Runtime runs the exported recipe to repro's predictions and test accuracy") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const std::string env = "REPRO_DATA_DIR='" + data + "'";
  const fs::path dir = scratch_dir("export_recipe");
  const fs::path run = dir / "recipe";
  REQUIRE(run_repro(env, "train configs/mnist_recipe.yaml --quiet --out '" + run.string() + "'")
              .exit_code == 0);
  require_onnx_check(env, run);
  fs::remove_all(dir);
}

TEST_CASE("initial_weights starts a run from another run's weights, checked name by name") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const std::string env = "REPRO_DATA_DIR='" + data + "'";
  const fs::path dir = scratch_dir("initial_weights");
  REQUIRE(run_repro(env, "train configs/tiny.yaml --quiet --out '" + (dir / "a").string() + "'")
              .exit_code == 0);
  // Fine-tuning from A's final weights: the new run's initial weights are A's final ones.
  const std::string weights = (dir / "a" / "model.safetensors").string();
  const auto tuned = run_repro(env, "train configs/tiny.yaml --quiet --set initial_weights='" +
                                        weights + "' --out '" + (dir / "b").string() + "'");
  INFO(tuned.err);
  REQUIRE(tuned.exit_code == 0);
  const auto a = nlohmann::json::parse(slurp_file(dir / "a" / "run.json"));
  const auto b = nlohmann::json::parse(slurp_file(dir / "b" / "run.json"));
  CHECK(b.at("initial_weights_sha256") == a.at("weights_sha256"));
  CHECK(b.at("config").at("initial_weights") == weights);
  // Another architecture: one line naming the file and the first tensor that differs.
  const auto other =
      run_repro(env, "train configs/tiny.yaml --quiet --set initial_weights='" + weights +
                         "' --set model.0.conv2d.filters=4 --out '" + (dir / "c").string() + "'");
  CHECK(other.exit_code == 2);
  CHECK(contains(other.err, "initial_weights: " + weights +
                                ": weights: tensor 1 is 'conv2d/kernel' (3, 3, 1, 8), this "
                                "model's is 'conv2d/kernel' (3, 3, 1, 4)"));
  CHECK(!fs::exists(dir / "c" / "run.json"));

  // A run from initial weights resumes, and is evaluated, without the file it started from.
  const fs::path moved = dir / "start.safetensors";
  fs::copy_file(weights, moved);
  REQUIRE(run_repro(env, "train configs/tiny.yaml --quiet --steps 20 --set initial_weights='" +
                             moved.string() + "' --out '" + (dir / "d").string() + "'")
              .exit_code == 0);
  fs::remove(moved);
  const auto resumed = run_repro(env, "train --resume '" + (dir / "d").string() + "' --quiet");
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK(run_repro(env, "evaluate '" + (dir / "d").string() + "'").exit_code == 0);
  fs::remove_all(dir);
}

using repro_test::npy_bytes;
using repro_test::write_zip;

TEST_CASE("dataset npz trains on a .npz of MNIST arrays to the bits of the same IDX data") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const std::string env = "REPRO_DATA_DIR='" + data + "'";
  const fs::path dir = scratch_dir("npz");
  // The first 512 training images (int64 labels, as numpy makes them) and the 10,000 test ones.
  const repro::Dataset train = repro::read_idx(data + "/mnist/train-images-idx3-ubyte.gz",
                                               data + "/mnist/train-labels-idx1-ubyte.gz");
  const repro::Dataset test = repro::read_idx(data + "/mnist/t10k-images-idx3-ubyte.gz",
                                              data + "/mnist/t10k-labels-idx1-ubyte.gz");
  std::string labels;
  for (int i = 0; i < 512; ++i) {
    const int64_t label = train.labels[i];
    labels.append(reinterpret_cast<const char*>(&label), 8);
  }
  const fs::path npz = dir / "mnist.npz";
  write_zip(npz, {{"images.npy",
                   npy_bytes("|u1", {512, 28, 28},
                             std::string(train.images.begin(), train.images.begin() + 512 * 784))},
                  {"labels.npy", npy_bytes("<i8", {512}, labels)},
                  {"x_test.npy", npy_bytes("|u1", {10000, 28, 28},
                                           std::string(test.images.begin(), test.images.end()))},
                  {"y_test.npy", npy_bytes("|u1", {10000},
                                           std::string(test.labels.begin(), test.labels.end()))}});
  const std::string sets = " --set data.dataset=npz --set data.path='" + npz.string() +
                           "' --set data.keys.x_train=images --set data.keys.y_train=labels";
  const auto from_npz = run_repro(
      env, "train configs/tiny.yaml --quiet" + sets + " --out '" + (dir / "npz").string() + "'");
  INFO(from_npz.err);
  REQUIRE(from_npz.exit_code == 0);
  REQUIRE(run_repro(env, "train configs/tiny.yaml --quiet --out '" + (dir / "idx").string() + "'")
              .exit_code == 0);
  // tiny.yaml reads the first 512 MNIST training images: the same data, so the same bits.
  const auto compared = run_repro(
      "", "compare --exact '" + (dir / "npz").string() + "' '" + (dir / "idx").string() + "'");
  INFO(compared.out);
  CHECK(contains(compared.out, "final weights: 4,010 values identical"));
  CHECK(compared.exit_code == 0);
  CHECK(contains(compared.out, "verdict: SAME (exact: identical bits)"));
  // configs/npz_arrays.yaml, the example config, trains on the same file.
  const auto example = run_repro(env, "train configs/npz_arrays.yaml --quiet --epochs 1" + sets +
                                          " --out '" + (dir / "example").string() + "'");
  INFO(example.err);
  CHECK(example.exit_code == 0);
  // A missing array is named with the members there are.
  const auto missing = run_repro(env,
                                 "train configs/tiny.yaml --quiet --set data.dataset=npz "
                                 "--set data.path='" +
                                     npz.string() + "' --out '" + (dir / "bad").string() + "'");
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.err,
                 "no array x_train (member x_train.npy); it holds images.npy, "
                 "labels.npy, x_test.npy, y_test.npy; name the arrays with data.keys"));
  fs::remove_all(dir);
}
