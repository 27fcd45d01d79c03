// compare: numpy.allclose semantics (asymmetric, inf, NaN), exact bits, missing keys and unequal
// lengths as differences, run records (weights, environment) and trace divergence.
#include <catch2/catch.hpp>

#include <cmath>

#include <unistd.h>

#include <filesystem>
#include <limits>

#include "compare/compare.h"
#include "core/error.h"
#include "core/fs.h"
#include "record/history.h"
#include "record/run_record.h"
#include "record/trace.h"

using repro::CompareOptions;
using repro::History;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

const repro::KeyComparison& row(const repro::CompareReport& report, const std::string& key) {
  for (const auto& r : report.keys) {
    if (r.key == key) return r;
  }
  FAIL("no row for " << key);
  throw 0;
}

}  // namespace

TEST_CASE("values_match follows numpy.isclose, including its asymmetry") {
  CompareOptions o;
  CHECK(repro::values_match(1.0, 1.0 + 1e-9, o));
  CHECK_FALSE(repro::values_match(1.0, 1.001, o));
  // The tolerance scales with |b| only: isclose(0, 1.000005e-8) but not isclose(1.000005e-8, 0).
  CHECK(repro::values_match(0.0, 1.000005e-8, o));
  CHECK_FALSE(repro::values_match(1.000005e-8, 0.0, o));
  CompareOptions loose;
  loose.rtol = 0.1;
  loose.atol = 0;
  CHECK(repro::values_match(1.0, 1.105, loose));
  CHECK_FALSE(repro::values_match(1.105, 1.0, loose));
  // inf equals only the same inf, whatever the tolerance.
  CHECK(repro::values_match(kInf, kInf, o));
  CHECK_FALSE(repro::values_match(kInf, -kInf, o));
  CHECK_FALSE(repro::values_match(kInf, 1e308, loose));
  // NaN equals nothing, unless equal_nan and both are NaN.
  CHECK_FALSE(repro::values_match(kNaN, kNaN, o));
  CHECK_FALSE(repro::values_match(kNaN, 1.0, o));
  CompareOptions nan_ok;
  nan_ok.equal_nan = true;
  CHECK(repro::values_match(kNaN, kNaN, nan_ok));
  CHECK_FALSE(repro::values_match(kNaN, 1.0, nan_ok));
  CHECK(repro::values_match(0.0, -0.0, o));
}

TEST_CASE("exact compares bit patterns: -0 differs from 0, NaN equals NaN, 1 ulp differs") {
  CompareOptions o;
  o.exact = true;
  CHECK(repro::values_match(0.1, 0.1, o));
  CHECK_FALSE(repro::values_match(1.0, std::nextafter(1.0, 2.0), o));
  CHECK_FALSE(repro::values_match(0.0, -0.0, o));
  CHECK(repro::values_match(kNaN, kNaN, o));
  CHECK(repro::values_match(-kInf, -kInf, o));
}

TEST_CASE("compare_histories reports per key: values compared, max diffs, first differing epoch") {
  History a{{"accuracy", {0.5, 0.75, 0.8}}, {"loss", {0.7, 0.5, 0.4}}};
  History b{{"accuracy", {0.5, 0.75, 0.8}}, {"loss", {0.7, 0.501, 0.4}}};
  auto report = repro::compare_histories(a, b, {});
  CHECK_FALSE(report.same);
  CHECK(row(report, "accuracy").same);
  CHECK(row(report, "accuracy").compared == 3);
  const auto& loss = row(report, "loss");
  CHECK_FALSE(loss.same);
  CHECK(loss.first_differing_epoch == 2);
  CHECK(loss.max_abs_diff == Approx(0.001));
  CHECK(loss.max_rel_diff == Approx(0.001 / 0.501));
  CHECK(repro::compare_histories(a, a, {}).same);

  History tiny = b;
  tiny["loss"][1] = 0.5 + 1e-9;
  CHECK(repro::compare_histories(a, tiny, {}).same);
  CompareOptions exact;
  exact.exact = true;
  auto strict = repro::compare_histories(a, tiny, exact);
  CHECK_FALSE(strict.same);
  CHECK(row(strict, "loss").first_differing_epoch == 2);
}

TEST_CASE(
    "missing keys, extra keys, unequal lengths and empty lists are differences, not crashes") {
  History a{{"loss", {0.5, 0.4}}, {"accuracy", {}}, {"lr", {0.001}}};
  History b{{"loss", {0.5, 0.4, 0.3}}, {"accuracy", {}}, {"val_loss", {1.0}}};
  auto report = repro::compare_histories(a, b, {});
  CHECK_FALSE(report.same);
  CHECK(row(report, "accuracy").same);  // two empty lists agree
  CHECK(row(report, "accuracy").compared == 0);
  const auto& loss = row(report, "loss");
  CHECK_FALSE(loss.same);
  CHECK(loss.compared == 2);
  CHECK(loss.first_differing_epoch == 3);
  CHECK(loss.note == "lengths differ: 2 vs 3");
  CHECK(row(report, "lr").note == "missing in B");
  CHECK(row(report, "val_loss").note == "missing in A");
  CHECK(row(report, "lr").first_differing_epoch == 0);
  CHECK(repro::compare_histories({}, {}, {}).same);
  CHECK(repro::compare_histories({{"loss", {}}}, {{"loss", {}}}, {}).same);
  CHECK_FALSE(repro::compare_histories({{"loss", {}}}, {{"loss", {1.0}}}, {}).same);
}

TEST_CASE("the keys filter compares only the named keys, and a key in neither is an error") {
  History a{{"loss", {0.5}}, {"accuracy", {0.9}}};
  History b{{"loss", {0.5}}, {"accuracy", {0.1}}};
  CompareOptions o;
  o.keys = {"loss"};
  auto report = repro::compare_histories(a, b, o);
  CHECK(report.same);
  REQUIRE(report.keys.size() == 1);
  CHECK(report.values_compared == 1);
  o.keys = {"loss", "val_loss"};
  CHECK_THROWS_WITH(repro::compare_histories(a, b, o),
                    "--keys val_loss: no such key in A or B (their keys: accuracy, loss); name "
                    "keys the histories hold, or drop --keys");
  o.keys = {"loss"};
  CHECK_THROWS_AS(repro::compare_histories({}, {}, o), repro::InputError);
  b.erase("loss");
  report = repro::compare_histories(a, b, o);  // in A only: a difference
  CHECK_FALSE(report.same);
  CHECK(row(report, "loss").note == "missing in B");
}

TEST_CASE("NaN and inf in histories: equal_nan, inf == inf, inf vs -inf") {
  History a{{"loss", {kNaN, kInf}}};
  History b{{"loss", {kNaN, kInf}}};
  auto report = repro::compare_histories(a, b, {});
  CHECK_FALSE(report.same);
  CHECK(row(report, "loss").first_differing_epoch == 1);
  CompareOptions o;
  o.equal_nan = true;
  report = repro::compare_histories(a, b, o);
  CHECK(report.same);
  CHECK(row(report, "loss").max_abs_diff == 0);
  History c{{"loss", {kNaN, -kInf}}};
  report = repro::compare_histories(a, c, o);
  CHECK(row(report, "loss").first_differing_epoch == 2);
  CHECK(row(report, "loss").max_abs_diff == kInf);
}

TEST_CASE("compare_run_records names the first epoch whose weights differ and what differs") {
  repro::RunRecord a;
  a.threads = 1;
  a.environment = {{"cpu_isa", "avx2"}, {"onednn", "2.6"}};
  a.config = {{"seed", "812"}, {"threads", "1"}};
  a.epochs = {{1, 1.0, "aa"}, {2, 1.0, "bb"}};
  repro::RunRecord b = a;
  b.threads = 2;
  b.environment["cpu_isa"] = "avx512f";
  b.environment["gpu"] = "none";
  b.config[1].second = "2";
  b.epochs[1].weights_sha256 = "cc";
  b.epochs[0].seconds = 7.0;  // wall time is not a difference

  repro::CompareReport tolerant = repro::compare_histories({}, {}, {});
  repro::compare_run_records(a, b, {}, tolerant);
  CHECK(tolerant.first_weights_epoch == 2);
  CHECK(tolerant.same);  // digests only decide the verdict with --exact
  std::vector<std::string> keys;
  for (const auto& d : tolerant.environment) keys.push_back(d.key);
  CHECK(keys == std::vector<std::string>{"threads", "environment.cpu_isa", "environment.gpu",
                                         "config.threads"});
  CHECK(tolerant.environment[2].a == "(absent)");

  CompareOptions exact;
  exact.exact = true;
  repro::CompareReport strict = repro::compare_histories({}, {}, exact);
  repro::compare_run_records(a, b, exact, strict);
  CHECK_FALSE(strict.same);
}

TEST_CASE("the first trace divergence is the first differing digest by step, in trace order") {
  std::vector<repro::TraceEntry> a;
  for (int64_t step = 1; step <= 5; ++step) {
    for (const char* tensor :
         {"conv2d/kernel", "conv2d/output", "conv2d/output_grad", "conv2d/kernel_grad"}) {
      a.push_back({step, 1, step - 1, tensor, std::to_string(step) + tensor});
    }
  }
  std::vector<repro::TraceEntry> b = a;
  size_t compared = 0;
  CHECK_FALSE(repro::first_trace_divergence(a, b, &compared).has_value());
  CHECK(compared == 20);
  // Perturbed from step 3's kernel gradient on: every later digest differs too.
  for (auto& e : b) {
    if (e.step > 3 || (e.step == 3 && e.tensor == std::string("conv2d/kernel_grad")))
      e.sha256 += "x";
  }
  std::reverse(b.begin(), b.end());  // B's order does not matter
  auto d = repro::first_trace_divergence(a, b, &compared);
  REQUIRE(d.has_value());
  CHECK(d->step == 3);
  CHECK(d->batch == 2);
  CHECK(d->tensor == "conv2d/kernel_grad");
  CHECK(compared == 12);
}

TEST_CASE("compare_runs reads run folders: histories, run.json and traces") {
  namespace fs = std::filesystem;
  fs::path root =
      fs::temp_directory_path() / ("repro_test_compare_runs_" + std::to_string(::getpid()));
  fs::remove_all(root);
  History h{{"loss", {0.5, 0.4}}};
  repro::RunRecord r;
  r.epochs = {{1, 1.0, "aa"}, {2, 1.0, "bb"}};
  std::vector<repro::TraceEntry> trace = {{1, 1, 0, "dense/kernel", "k1"},
                                          {2, 1, 1, "dense/kernel", "k2"}};
  for (const char* name : {"a", "b"}) {
    repro::write_history((root / name / "history.json").string(), h);
    repro::write_run_record((root / name / "run.json").string(), r);
    repro::write_safetensors((root / name / "model.safetensors").string(),
                             {{"dense/kernel", {2, 1}, {0.25f, -1.0f}}});
  }
  repro::write_trace((root / "a" / "trace.jsonl").string(), trace);
  trace[1].sha256 = "k2'";
  repro::write_trace((root / "b" / "trace.jsonl").string(), trace);
  CompareOptions exact;
  exact.exact = true;
  auto report = repro::compare_paths((root / "a").string(), (root / "b").string(), exact);
  CHECK(report.runs);
  CHECK(report.traced);
  REQUIRE(report.divergence.has_value());
  CHECK(report.divergence->step == 2);
  CHECK_FALSE(report.same);
  CHECK(report.weights.compared);
  CHECK(report.weights.same);
  CHECK(report.weights.values == 2);
  CHECK(report.architecture_difference.empty());
  // A folder against a file compares the histories only.
  auto mixed =
      repro::compare_paths((root / "a").string(), (root / "b" / "history.json").string(), exact);
  CHECK(mixed.same);
  CHECK_FALSE(mixed.runs);
  CHECK_THROWS_AS(repro::compare_paths((root / "a").string(), (root / "none").string(), {}),
                  repro::InputError);
  fs::create_directories(root / "empty");
  CHECK_THROWS_AS(repro::compare_paths((root / "a").string(), (root / "empty").string(), {}),
                  repro::InputError);
  fs::remove_all(root);
}

TEST_CASE("a trace.jsonl that run.json's files do not list is not read, and does not decide") {
  namespace fs = std::filesystem;
  const fs::path root =
      fs::temp_directory_path() / ("repro_test_stray_trace_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const History h{{"loss", {0.5}}};
  for (const char* name : {"a", "b"}) {
    const fs::path dir = root / name;
    repro::write_history((dir / "history.json").string(), h);
    repro::write_safetensors((dir / "model.safetensors").string(),
                             {{"dense/kernel", {2, 1}, {0.25f, -1.0f}}});
    repro::RunRecord r;
    r.epochs = {{1, 1.0, "aa"}};
    for (const char* file : {"history.json", "model.safetensors"})
      r.files[file] = repro::sha256_file((dir / file).string());
    repro::write_run_record((dir / "run.json").string(), r);
  }
  // A trace from some other run, left in b: it differs at step 1 from a's (listed nowhere either).
  repro::write_trace((root / "a" / "trace.jsonl").string(), {{1, 1, 0, "dense/kernel", "k1"}});
  repro::write_trace((root / "b" / "trace.jsonl").string(), {{1, 1, 0, "dense/kernel", "zz"}});
  const repro::RunFolder b = repro::read_run_folder((root / "b").string());
  CHECK_FALSE(b.trace.has_value());
  REQUIRE(b.notes.size() == 1);
  CHECK(b.notes[0].find("trace.jsonl is not this run's") != std::string::npos);
  CHECK(b.changed.empty());
  CompareOptions exact;
  exact.exact = true;
  const auto report = repro::compare_paths((root / "a").string(), (root / "b").string(), exact);
  CHECK_FALSE(report.traced);
  CHECK_FALSE(report.divergence.has_value());
  CHECK(report.weights.same);
  CHECK(report.same);
  // Listed in run.json, the same trace is read and the runs part at step 1.
  repro::RunRecord r = repro::read_run_record((root / "b" / "run.json").string());
  r.files["trace.jsonl"] = repro::sha256_file((root / "b" / "trace.jsonl").string());
  repro::write_run_record((root / "b" / "run.json").string(), r);
  r = repro::read_run_record((root / "a" / "run.json").string());
  r.files["trace.jsonl"] = repro::sha256_file((root / "a" / "trace.jsonl").string());
  repro::write_run_record((root / "a" / "run.json").string(), r);
  const auto traced = repro::compare_paths((root / "a").string(), (root / "b").string(), exact);
  CHECK(traced.traced);
  REQUIRE(traced.divergence.has_value());
  CHECK(traced.divergence->step == 1);
  CHECK_FALSE(traced.same);
  fs::remove_all(root);
}

TEST_CASE("weights allclose but not bit-identical report how far apart their bits are") {
  namespace fs = std::filesystem;
  const fs::path root =
      fs::temp_directory_path() / ("repro_test_ulp_weights_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const History h{{"loss", {0.5}}};
  const float one_ulp_above = std::nextafter(0.25f, 1.0f);
  for (const auto& [name, value] : {std::pair{"a", 0.25f}, std::pair{"b", one_ulp_above}}) {
    const fs::path dir = root / name;
    repro::write_history((dir / "history.json").string(), h);
    repro::write_safetensors((dir / "model.safetensors").string(),
                             {{"dense/kernel", {2, 1}, {value, -1.0f}}});
    repro::RunRecord r;
    r.epochs = {{1, 1.0, "aa"}};
    for (const char* file : {"history.json", "model.safetensors"})
      r.files[file] = repro::sha256_file((dir / file).string());
    repro::write_run_record((dir / "run.json").string(), r);
  }
  const auto report = repro::compare_paths((root / "a").string(), (root / "b").string(), {});
  CHECK(report.weights.same);  // allclose
  CHECK(report.weights.sha256_a != report.weights.sha256_b);
  CHECK(report.weights.max_abs_diff == double(one_ulp_above) - 0.25);
  fs::remove_all(root);
}
