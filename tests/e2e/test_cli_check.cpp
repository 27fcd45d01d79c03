// repro check end to end: PASS (exit 0) for runs that must agree, FAIL (exit 1) naming the first
// divergence and its likely cause for runs that cannot, exit 2 for a malformed --vary.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include "run_cli.h"

using repro_test::mnist_parent_dir;
using repro_test::run_repro;
using repro_test::scratch_dir;

TEST_CASE("repro check passes the tiny config across thread counts 1 and 2") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) {
    REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  }
  const auto out = scratch_dir("check_pass");
  auto r = run_repro("REPRO_DATA_DIR='" + data + "'",
                     "check configs/tiny.yaml --vary threads=1,2 --out '" + out.string() + "'");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.find("PASS: 2 runs bit-identical") != std::string::npos);
  REQUIRE_FALSE(std::filesystem::exists(out));  // folders are removed after a PASS
}

TEST_CASE("repro check fails two different seeds and names the first divergence and the cause") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) {
    REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  }
  const auto out = scratch_dir("check_fail");
  auto r =
      run_repro("REPRO_DATA_DIR='" + data + "'",
                "check configs/tiny.yaml --steps 4 --vary seed=1,2 --out '" + out.string() + "'");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 1);
  REQUIRE(r.out.find("FAIL: seed=1 and seed=2 differ") != std::string::npos);
  // Other seeds draw other initial weights: the runs part before the first step.
  REQUIRE(r.out.find("first divergence: before step 1 (initial weights differ: conv2d kernel)") !=
          std::string::npos);
  REQUIRE(r.out.find("likely cause: config.seed") != std::string::npos);
  std::filesystem::remove_all(out);
}

TEST_CASE(
    "repro check --junit writes one test case per compared key, with failures where they differ") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) {
    REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  }
  const auto out = scratch_dir("check_junit");
  const auto xml = out.parent_path() / (out.filename().string() + ".xml");
  auto r = run_repro("REPRO_DATA_DIR='" + data + "'",
                     "check configs/tiny.yaml --vary seed=1,2 --out '" + out.string() +
                         "' --junit '" + xml.string() + "'");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 1);
  const std::string report = repro_test::slurp_file(xml);
  INFO(report);
  REQUIRE(report.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"repro\" "
                       "tests=\"6\" failures=\"6\"",
                       0) == 0);
  const std::string pair = "repro check configs/tiny.yaml: seed=1 vs seed=2";
  for (const char* key : {"accuracy", "loss", "val_accuracy", "val_loss", "weights", "trace"}) {
    CHECK(report.find("<testcase classname=\"" + pair + "\" name=\"" + key +
                      "\">\n      <failure") != std::string::npos);
  }
  CHECK(report.find("differs from epoch 1 (max abs diff") != std::string::npos);
  CHECK(report.find("first divergence: before step 1 (initial weights differ: conv2d kernel)") !=
        std::string::npos);

  auto same =
      run_repro("REPRO_DATA_DIR='" + data + "'", "check configs/tiny.yaml --out '" + out.string() +
                                                     "' --junit '" + xml.string() + "'");
  REQUIRE(same.exit_code == 0);
  const std::string passed = repro_test::slurp_file(xml);
  CHECK(passed.find("tests=\"6\" failures=\"0\"") != std::string::npos);
  CHECK(passed.find("<testcase classname=\"repro check configs/tiny.yaml: run 1 vs run 2\" "
                    "name=\"loss\"/>") != std::string::npos);
  std::filesystem::remove_all(out);
  std::filesystem::remove(xml);
}

TEST_CASE("repro check with a malformed --vary exits 2 with a one-line fix") {
  auto r = run_repro("", "check configs/tiny.yaml --vary threads");
  REQUIRE(r.exit_code == 2);
  REQUIRE(r.err.find("--vary threads: expected key=value1,value2") != std::string::npos);
  auto one = run_repro("", "check configs/tiny.yaml --runs 1");
  REQUIRE(one.exit_code == 2);
}

TEST_CASE("repro check passes the recipe for 200 steps across thread counts 1 and 2") {
  const std::string data = mnist_parent_dir();
  if (data.empty()) {
    REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  }
  auto r = run_repro("REPRO_DATA_DIR='" + data + "'",
                     "check configs/mnist_recipe.yaml --steps 200 --vary threads=1,2 --out '" +
                         scratch_dir("check_recipe").string() + "'");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.find("PASS: 2 runs bit-identical") != std::string::npos);
}
