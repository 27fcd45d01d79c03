// repro data end to end: verify prints OK for the four real MNIST files, FAIL (exit 1) for a
// corrupt copy, MISSING (exit 2) for an empty folder; a corrupt copy is refused when loaded;
// fetch downloads through a local mirror into the cache.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include "run_cli.h"

#include <unistd.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

using Ran = repro_test::CliResult;

Ran run_data_cli(const std::string& env, const std::string& args) {
  return repro_test::run_repro(env, args);
}

std::string data_root() { return repro_test::mnist_parent_dir(); }

int count_of(const std::string& text, const std::string& word) {
  int n = 0;
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("repro data verify mnist prints OK for the four real files") {
  const std::string root = data_root();
  if (root.empty()) {
    REPRO_SKIP(
        "real MNIST not found: set REPRO_DATA_DIR (its mnist/ folder holds the four .gz files)");
  }
  const Ran ran = run_data_cli("REPRO_DATA_DIR='" + root + "'", "data verify mnist");
  INFO(ran.out << ran.err);
  REQUIRE(ran.exit_code == 0);
  REQUIRE(count_of(ran.out, "  OK\n") == 4);
  REQUIRE(ran.out.find("train-images-idx3-ubyte.gz  "
                       "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609  OK") !=
          std::string::npos);
}

TEST_CASE(
    "repro data verify --dir takes the dataset's folder or, like REPRO_DATA_DIR, its parent") {
  const std::string root = data_root();
  if (root.empty()) {
    REPRO_SKIP(
        "real MNIST not found: set REPRO_DATA_DIR (its mnist/ folder holds the four .gz files)");
  }
  for (const std::string& dir : {root, root + "/mnist"}) {
    const Ran ran = run_data_cli("", "data verify mnist --dir '" + dir + "'");
    INFO(dir << ": " << ran.out << ran.err);
    CHECK(ran.exit_code == 0);
    CHECK(count_of(ran.out, "  OK\n") == 4);
  }
}

TEST_CASE(
    "repro data refuses a corrupt copy of MNIST in verify with exit 1 and when loading with exit "
    "2") {
  const std::string root = data_root();
  if (root.empty()) {
    REPRO_SKIP("real MNIST not found: set REPRO_DATA_DIR to run this test");
  }
  const fs::path copy =
      fs::temp_directory_path() / ("repro_test_cli_data_corrupt_" + std::to_string(getpid()));
  fs::remove_all(copy);
  fs::create_directories(copy);
  for (const char* name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
    fs::copy_file(fs::path(root) / "mnist" / name, copy / name);
  }
  fs::resize_file(copy / "train-labels-idx1-ubyte.gz", 20000);  // cut short

  const Ran verify = run_data_cli("", "data verify mnist --dir '" + copy.string() + "'");
  INFO(verify.out << verify.err);
  REQUIRE(verify.exit_code == 1);
  REQUIRE(count_of(verify.out, "  OK\n") == 3);
  REQUIRE(verify.out.find("train-labels-idx1-ubyte.gz  ") != std::string::npos);
  REQUIRE(verify.out.find("FAIL (expected 3552534a") != std::string::npos);

  const Ran load =
      run_data_cli("", "data bench --runs 1 --workers 1 --dir '" + copy.string() + "'");
  INFO(load.out << load.err);
  REQUIRE(load.exit_code == 2);
  REQUIRE(load.err.find("train-labels-idx1-ubyte.gz: the gzip stream ends early") !=
          std::string::npos);
  fs::remove_all(copy);
}

TEST_CASE("repro data verify on a folder without the files says MISSING and exits 2") {
  const fs::path empty =
      fs::temp_directory_path() / ("repro_test_cli_data_empty_" + std::to_string(getpid()));
  fs::remove_all(empty);
  fs::create_directories(empty);
  const Ran ran = run_data_cli("", "data verify mnist --dir '" + empty.string() + "'");
  INFO(ran.out << ran.err);
  REQUIRE(ran.exit_code == 2);
  REQUIRE(count_of(ran.out, "MISSING") == 4);
  REQUIRE(ran.err.find("repro data fetch mnist") != std::string::npos);
  const Ran unknown = run_data_cli("", "data verify cifar --dir '" + empty.string() + "'");
  REQUIRE(unknown.exit_code == 2);
  REQUIRE(unknown.err.find("unknown dataset 'cifar'") != std::string::npos);
  fs::remove_all(empty);
}

TEST_CASE("repro data fetch downloads into the cache through a mirror and verify finds them") {
  const std::string root = data_root();
  if (root.empty()) {
    REPRO_SKIP("real MNIST not found: set REPRO_DATA_DIR to run this test");
  }
  const fs::path cache =
      fs::temp_directory_path() / ("repro_test_cli_data_cache_" + std::to_string(getpid()));
  fs::remove_all(cache);
  const std::string env = "XDG_CACHE_HOME='" + cache.string() + "' REPRO_DATA_MIRROR='file://" +
                          root + "/mnist' REPRO_DATA_DIR=";
  const Ran fetch = run_data_cli(env, "data fetch mnist");
  INFO(fetch.out << fetch.err);
  REQUIRE(fetch.exit_code == 0);
  REQUIRE(count_of(fetch.out, "downloaded, OK") == 4);
  const Ran again = run_data_cli(env, "data fetch mnist");
  REQUIRE(count_of(again.out, "present, OK") == 4);
  const Ran verify = run_data_cli(env, "data verify mnist");
  INFO(verify.out);
  REQUIRE(verify.exit_code == 0);
  REQUIRE(verify.out.find((cache / "repro/datasets/mnist").string()) != std::string::npos);
  fs::remove_all(cache);
}
