// Bad command lines end with one line on stderr that names the offending word or value and the
// valid choices or range, and exit code 2: unknown commands, flag ranges, hostile configs.
#include <catch2/catch.hpp>

#include "run_cli.h"

#include <fstream>

namespace {

using repro_test::run_repro;

}  // namespace

TEST_CASE("an unknown command is named with the valid commands") {
  const auto ran = run_repro("", "frobnicate");
  REQUIRE(ran.exit_code == 2);
  REQUIRE(ran.err ==
          "repro: unknown command `frobnicate` for repro; valid commands: train, compare, report, "
          "summary, initializers, data, check, env, import, evaluate, predict, export, schema, "
          "man, completion (see repro "
          "--help)\n");
  const auto nested = run_repro("", "data frob mnist");
  REQUIRE(nested.exit_code == 2);
  REQUIRE(nested.err ==
          "repro: unknown command `frob` for repro data; valid commands: fetch, "
          "verify, bench (see repro data --help)\n");
  const auto none = run_repro("", "");
  REQUIRE(none.exit_code == 2);
  REQUIRE(none.err ==
          "repro: repro needs a command; valid commands: train, compare, report, "
          "summary, initializers, data, check, env, import, evaluate, predict, export, schema, "
          "man, completion (see repro "
          "--help)\n");
}

TEST_CASE("flag errors speak repro's words and point to the subcommand's help") {
  const auto extra = run_repro("", "train configs/tiny.yaml --seed 3 4");
  CHECK(extra.exit_code == 2);
  CHECK(extra.err == "repro: unexpected argument 4 (see repro train --help)\n");
  const auto twice = run_repro("", "check configs/tiny.yaml --vary threads=1,2 --vary seed=1,2");
  CHECK(twice.exit_code == 2);
  CHECK(twice.err == "repro: --vary: takes at most 1 value (got 2) (see repro check --help)\n");
  const auto nested = run_repro("", "data verify mnist --frobnicate");
  CHECK(nested.exit_code == 2);
  CHECK(nested.err.find("(see repro data verify --help)\n") != std::string::npos);
}

TEST_CASE("integer flags state their range in words, 64-bit overflow included") {
  const auto zero = run_repro("", "train configs/tiny.yaml --epochs 0");
  REQUIRE(zero.exit_code == 2);
  REQUIRE(
      zero.err ==
      "repro: --epochs: must be an integer from 1 to 1000000 (got 0) (see repro train --help)\n");
  const auto huge = run_repro("", "train configs/tiny.yaml --threads 99999999999999999999");
  REQUIRE(huge.exit_code == 2);
  REQUIRE(huge.err ==
          "repro: --threads: must be an integer from 1 to 4096 (got "
          "99999999999999999999, past the 64-bit integer range) (see repro train --help)\n");
  const auto steps = run_repro("", "check configs/tiny.yaml --steps -3");
  REQUIRE(steps.exit_code == 2);
  REQUIRE(steps.err.find("--steps: must be an integer from 1 to") != std::string::npos);
  const auto tolerance = run_repro("", "compare a.json b.json --rtol -1");
  REQUIRE(tolerance.exit_code == 2);
  REQUIRE(tolerance.err ==
          "repro: --rtol: must be a finite number of at least 0, e.g. 1e-05 "
          "(got -1) (see repro compare --help)\n");
  const auto shape = run_repro("", "initializers --shape 100000,100000");
  REQUIRE(shape.exit_code == 2);
  REQUIRE(shape.err ==
          "repro: --shape '100000,100000': more than 65536 values to print; give a "
          "smaller shape, e.g. 3,5\n");
}

TEST_CASE("hostile configs end in one line and exit 2, never bad_alloc or a hang") {
  const auto dir = repro_test::scratch_dir("errors");
  {
    std::ofstream bomb(dir / "bomb.yaml");
    bomb << "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i <= 11; ++i) {
      bomb << "a" << i << ": &a" << i << " [";
      for (int k = 0; k < 10; ++k) bomb << (k ? ", " : "") << "*a" << i - 1;
      bomb << "]\n";
    }
  }
  const auto expanded = run_repro("", "summary " + (dir / "bomb.yaml").string());
  REQUIRE(expanded.exit_code == 2);
  REQUIRE(expanded.err.find("holds more than 100000 values once its aliases") != std::string::npos);
  REQUIRE(expanded.err.find('\n') == expanded.err.size() - 1);

  const auto endless = run_repro("", "summary /dev/zero");
  REQUIRE(endless.exit_code == 2);
  REQUIRE(endless.err ==
          "repro: /dev/zero: larger than 1048576 bytes, more than this kind of "
          "file may be; is it the right file?\n");

  const auto resize = run_repro("", "train configs/tiny.yaml --set data.resize=[0,0] --quiet");
  REQUIRE(resize.exit_code == 2);
  REQUIRE(resize.err ==
          "repro: --set data.resize=[0,0]: data.resize[0] must be an integer from "
          "1 to 1024 (got `0`)\n");
  std::filesystem::remove_all(dir);
}
