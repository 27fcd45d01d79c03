// dataset: cifar10 end to end on a generated archive in the official layout (no CIFAR-10 copy is
// needed): configs/cifar10_cnn.yaml's summary, the same bits for any worker and thread count, the
// same bits as the same RGB arrays given as an .npz (data.channels: 3), an ONNX export of
// (N, 32, 32, 3) uint8 images that ONNX Runtime runs to repro predict's values, predict's channel
// check, and `data verify cifar10` checking the publishers' MD5.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <filesystem>
#include <fstream>

#include "array_files.h"
#include "data/cifar.h"
#include "data/cifar_files.h"
#include "run_cli.h"

namespace fs = std::filesystem;
using repro_test::contains;
using repro_test::npy_bytes;
using repro_test::run_repro;

namespace {

std::string bytes_of(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

}  // namespace

TEST_CASE("dataset cifar10 trains the CIFAR-10 config reproducibly on a generated archive") {
  const fs::path root = repro_test::scratch_dir("cli_cifar");
  const fs::path archive = repro_test::write_cifar_archive(root / "cifar10", 40, 30);
  const std::string env = "REPRO_DATA_DIR='" + root.string() + "'";
  const std::string config = "configs/cifar10_cnn.yaml";
  const auto write = [&root](const std::string& name, const std::string& bytes) {
    std::ofstream(root / name, std::ios::binary) << bytes;
  };
  const auto at = [&root](const std::string& name) { return " '" + (root / name).string() + "'"; };

  const auto summary = run_repro(env, "summary " + config);
  INFO(summary.out << summary.err);
  REQUIRE(summary.exit_code == 0);
  CHECK(contains(summary.out, "random_flip (RandomFlip)"));
  CHECK(contains(summary.out, "(None, 32, 32, 3)"));
  CHECK(
      contains(summary.out,
               "conv2d (Conv2D)                                    (None, 32, 32, 32)        896"));

  // The augmentation and the RGB conversion in the map give the same bits for any worker count.
  for (const char* vary : {"data.num_parallel_calls=1,3", "threads=1,2"}) {
    const auto check =
        run_repro(env, "check " + config + " --steps 4 --vary " + vary + " --out" + at("check"));
    INFO(vary << "\n" << check.out << check.err);
    CHECK(check.exit_code == 0);
    CHECK(contains(check.out, "PASS: 2 runs bit-identical"));
  }

  const std::string one_epoch = " --quiet --set training.epochs=1";
  const auto trained = run_repro(env, "train " + config + one_epoch + " --out" + at("cifar"));
  INFO(trained.err);
  REQUIRE(trained.exit_code == 0);

  // The same images and labels as an .npz of (N, 32, 32, 3) arrays train to the same bits.
  const repro::Splits s = repro::read_cifar10(archive.string());
  repro_test::write_zip(
      root / "cifar.npz",
      {{"x_train.npy", npy_bytes("|u1", {s.train.count, 32, 32, 3}, bytes_of(s.train.images))},
       {"y_train.npy", npy_bytes("|u1", {s.train.count}, bytes_of(s.train.labels))},
       {"x_test.npy", npy_bytes("|u1", {s.test.count, 32, 32, 3}, bytes_of(s.test.images))},
       {"y_test.npy", npy_bytes("|u1", {s.test.count}, bytes_of(s.test.labels))}});
  // The .npz's header gives the model its input: 3 channels, 32x32 (as an identity resize).
  const std::string npz =
      " --set data.dataset=npz --set data.path='" + (root / "cifar.npz").string() + "'";
  const auto from_npz = run_repro("", "train " + config + one_epoch + npz + " --out" + at("npz"));
  INFO(from_npz.err);
  REQUIRE(from_npz.exit_code == 0);
  const auto compared = run_repro("", "compare --exact" + at("cifar") + at("npz"));
  INFO(compared.out << compared.err);
  CHECK(compared.exit_code == 0);
  CHECK(contains(compared.out, "verdict: SAME (exact: identical bits)"));
  CHECK(contains(repro_test::slurp_file(root / "npz/run.json"), "\"data.channels\": \"3\""));
  // A config that says grayscale for RGB arrays: refused before training, with the fix.
  const auto gray = run_repro(
      "", "train " + config + one_epoch + npz + " --set data.channels=1" + " --out" + at("gray"));
  CHECK(gray.exit_code == 2);
  CHECK(contains(gray.err, "set data.channels: 3"));
  CHECK_FALSE(fs::exists(root / "gray"));

  // predict takes (N, 32, 32, 3) uint8 arrays and refuses grayscale ones by name.
  write("x_test.npy", npy_bytes("|u1", {s.test.count, 32, 32, 3}, bytes_of(s.test.images)));
  write("y_test.npy", npy_bytes("|u1", {s.test.count}, bytes_of(s.test.labels)));
  write("gray.npy", npy_bytes("|u1", {2, 32, 32}, std::string(2048, '\1')));
  const auto predicted = run_repro("", "predict" + at("cifar") + at("x_test.npy"));
  INFO(predicted.err);
  CHECK(predicted.exit_code == 0);
  const auto wrong = run_repro("", "predict" + at("cifar") + at("gray.npy"));
  CHECK(wrong.exit_code == 2);
  CHECK(contains(wrong.err, "gray.npy: images have 1 channel"));

  // The ONNX export takes the raw RGB bytes; ONNX Runtime agrees with predict and run.json.
  const auto exported = run_repro("", "export" + at("cifar") + " --out" + at("m.onnx"));
  INFO(exported.out << exported.err);
  CHECK(exported.exit_code == 0);
  CHECK(contains(exported.out, "input uint8 images (N, H, W, 3) as repro reads them"));
  const auto onnx =
      repro_test::run_check_script(std::string(REPRO_SOURCE_DIR) + "/scripts/onnx_check.sh" +
                                   at("cifar") + at("x_test.npy") + at("y_test.npy"));
  INFO(onnx.out);
  if (!onnx.skipped) {
    CHECK(onnx.exit_code == 0);
    CHECK(contains(onnx.out, "images: 30, classes: 10"));
    CHECK(contains(onnx.out, "PASS"));
  }
  fs::remove_all(root);
}

TEST_CASE("repro data verify cifar10 checks the archive against its publishers' MD5") {
  const fs::path root = repro_test::scratch_dir("cli_cifar_verify");
  repro_test::write_cifar_archive(root, 1, 1);
  const auto verify = run_repro("", "data verify cifar10 --dir '" + root.string() + "'");
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 1);
  CHECK(contains(verify.out, "FAIL (expected c32a1d4ab5d03f1284b67883e8d87530)"));
  CHECK(contains(verify.err, "do not match their published checksum"));
  fs::remove_all(root / "cifar-10-binary.tar.gz");
  const auto missing = run_repro("", "data verify cifar10 --dir '" + root.string() + "'");
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.out, "MISSING"));
  fs::remove_all(root);
}
