// repro initializers end to end: the recipe's printout with Keras 3's own values for seed 42
// (RandomNormal's golden value on each rng), and the same data as JSON.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "run_cli.h"

using repro_test::contains;

namespace {

// stdout of `repro ARGS`, and its exit code.
std::string capture_repro(const std::string& args, int& exit_code) {
  const std::string command = std::string(REPRO_EXE) + " " + args + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = ::pclose(pipe);
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

}  // namespace

TEST_CASE("repro initializers --seed 42 prints RandomNormal's Keras value with the jax rng") {
  int code = -1;
  const std::string out = capture_repro("initializers --seed 42", code);
  CHECK(code == 0);
  CHECK(contains(out,
                 "Running <class 'keras.src.initializers.random_initializers.RandomNormal'>\n"
                 "\tIteration --> 0 // Result --> 0.05609520897269249\n"
                 "\tIteration --> 1 // Result --> 0.05609520897269249\n"));
  CHECK(contains(out, "OrthogonalInitializer'>\n\tIteration --> 0 // Result --> 1.0\n"));
  CHECK(contains(out, "Are the results equal? True\nAre the results equal? False\n"));
}

TEST_CASE("repro initializers --rng tf prints the recipe's published Keras 3 output") {
  int code = -1;
  const std::string out = capture_repro("initializers --seed 42 --rng tf", code);
  CHECK(code == 0);
  CHECK(contains(out, "RandomNormal'>\n\tIteration --> 0 // Result --> 0.000790853810030967\n"));
  CHECK(contains(out, "HeUniform'>\n\tIteration --> 0 // Result --> -1.065855622291565\n"));
}

TEST_CASE("repro initializers --json gives the same values, and bad options are input errors") {
  int code = -1;
  const nlohmann::json j =
      nlohmann::json::parse(capture_repro("initializers --json --shape 2,3", code));
  CHECK(code == 0);
  CHECK(j["rng"] == "jax");
  REQUIRE(j["initializers"].size() == 11);
  CHECK(j["initializers"][0]["name"] == "RandomNormal");
  CHECK(j["initializers"][0]["iterations"][0].size() == 2);     // rows
  CHECK(j["initializers"][0]["iterations"][0][0].size() == 3);  // columns
  CHECK(j["initializers"][0]["iterations"][0] == j["initializers"][0]["iterations"][1]);
  CHECK(j["same_seed_equal"] == true);
  CHECK(j["unseeded_equal"] == false);
  capture_repro("initializers --rng torch", code);
  CHECK(code == 2);
  capture_repro("initializers --shape 3,x", code);
  CHECK(code == 2);
}

TEST_CASE("repro initializers repeats its unseeded draws on every run") {
  int code = -1;
  const std::string a = capture_repro("initializers --json --seed 7", code);
  const std::string b = capture_repro("initializers --json --seed 7", code);
  CHECK(a == b);
  CHECK(a != capture_repro("initializers --json --seed 8", code));
}
