// repro summary end to end: the Keras-style table and 21,578 params for the recipe, exit code 2
// with file:line:col for a bad config or a bad --set.
#include <catch2/catch.hpp>

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

Ran run_summary_cli(const std::string& args) { return repro_test::run_repro("", args); }

// The row of `layer` with its columns separated by single spaces.
std::string row_of(const std::string& table, const std::string& layer) {
  std::istringstream lines(table);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string word, joined;
    while (words >> word) joined += (joined.empty() ? "" : " ") + word;
    if (joined.rfind(layer + " ", 0) == 0) return joined;
  }
  return "";
}

}  // namespace

TEST_CASE("repro summary prints the recipe's Keras table and 21,578 params") {
  const Ran ran = run_summary_cli("summary configs/mnist_recipe.yaml");
  INFO(ran.err);
  REQUIRE(ran.exit_code == 0);
  REQUIRE(ran.err.empty());
  REQUIRE(ran.out.find("Layer (type)") != std::string::npos);
  REQUIRE(row_of(ran.out, "conv2d") == "conv2d (Conv2D) (None, 30, 30, 32) 320");
  REQUIRE(row_of(ran.out, "max_pooling2d_1") ==
          "max_pooling2d_1 (MaxPooling2D) (None, 6, 6, 32) 0");
  REQUIRE(row_of(ran.out, "conv2d_2") == "conv2d_2 (Conv2D) (None, 4, 4, 32) 9,248");
  REQUIRE(row_of(ran.out, "global_average_pooling2d") ==
          "global_average_pooling2d (GlobalAveragePooling2D) (None, 32) 0");
  REQUIRE(row_of(ran.out, "dense_1") == "dense_1 (Dense) (None, 10) 650");
  REQUIRE(ran.out.find("\nTotal params: 21,578\n") != std::string::npos);
  REQUIRE(ran.out.find("\nTrainable params: 21,578\n") != std::string::npos);
  REQUIRE(ran.out.find("\nNon-trainable params: 0\n") != std::string::npos);
}

TEST_CASE("repro summary applies --set overrides") {
  const Ran ran = run_summary_cli(
      "summary configs/mnist_recipe.yaml --set data.resize=[28,28] --set model.0.filters=16");
  INFO(ran.err);
  REQUIRE(ran.exit_code == 0);
  REQUIRE(row_of(ran.out, "conv2d") == "conv2d (Conv2D) (None, 26, 26, 16) 160");
  REQUIRE(row_of(ran.out, "conv2d_1") == "conv2d_1 (Conv2D) (None, 11, 11, 32) 4,640");
}

TEST_CASE("repro summary of a bad config exits 2 with file:line:col") {
  const fs::path bad =
      fs::temp_directory_path() / ("repro_test_bad_summary_" + std::to_string(getpid()) + ".yaml");
  std::ofstream(bad) << "seed: 1\nmodel:\n  - flatten: {}\n  - dense: {units: -3}\n";
  const Ran ran = run_summary_cli("summary " + bad.string());
  REQUIRE(ran.exit_code == 2);
  REQUIRE(ran.out.empty());
  REQUIRE(ran.err ==
          "repro: " + bad.string() +
              ":4:20: model.1.dense.units must be an integer from 1 to 1000000 (got `-3`)\n");
  fs::remove(bad);
}

TEST_CASE("repro summary with a bad --set, a missing file or no file exits 2") {
  const Ran set = run_summary_cli("summary configs/mnist_recipe.yaml --set training.epochs=0");
  REQUIRE(set.exit_code == 2);
  REQUIRE(set.err ==
          "repro: --set training.epochs=0: training.epochs must be an integer from 1 to 1000000 "
          "(got `0`)\n");
  const Ran missing = run_summary_cli("summary /nonexistent/config.yaml");
  REQUIRE(missing.exit_code == 2);
  REQUIRE(missing.err.find("/nonexistent/config.yaml") != std::string::npos);
  const Ran none = run_summary_cli("summary");
  REQUIRE(none.exit_code == 2);
  REQUIRE(none.err.rfind("repro: ", 0) == 0);
}

TEST_CASE("repro summary --help describes the command") {
  const Ran ran = run_summary_cli("summary --help");
  REQUIRE(ran.exit_code == 0);
  REQUIRE(ran.out.find("--set") != std::string::npos);
}
