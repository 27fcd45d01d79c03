// run.json round trip, its reader's errors, the environment fingerprint and SHA-256.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/fs.h"
#include "record/run_record.h"

namespace fs = std::filesystem;

namespace {

repro::RunRecord sample_record() {
  repro::RunRecord r;
  r.repro_version = "0.1.0";
  r.config_path = "configs/mnist_recipe.yaml";
  r.config_sha256 = repro::sha256_hex("seed: 812\n", 10);
  r.config = {{"seed", "812"}, {"data.batch_size", "64"}, {"model.0.filters", "32"}};
  r.seed = 812;
  r.rng = "jax";
  r.backend = "onednn";
  r.device = "cpu";
  r.determinism = "portable";
  r.threads = 4;
  r.environment = repro::environment_fingerprint();
  r.environment["onednn"] = "2.6.0";
  r.data_files = {"/data/mnist/train-images-idx3-ubyte.gz"};
  r.epochs = {{1, 12.5, std::string(64, 'a')}, {2, 0.1f, std::string(64, 'b')}};
  r.run_id = "0123456789abcdef";
  r.initial_weights_sha256 = std::string(64, 'c');
  r.weights_sha256 = std::string(64, 'b');
  r.files = {{"history.json", std::string(64, 'd')}, {"model.safetensors", std::string(64, 'e')}};
  r.tested = true;
  r.test_loss = 0.04123f;
  r.test_accuracy = 0.9871f;
  r.completed = true;
  return r;
}

std::string read_error(const std::string& text) {
  fs::path path =
      fs::temp_directory_path() / ("repro_test_run_bad_" + std::to_string(::getpid()) + ".json");
  repro::write_file_atomic(path, text);
  try {
    repro::read_run_record(path.string());
  } catch (const repro::InputError& e) {
    std::string message = e.what();
    return message.substr(path.string().size());
  }
  return "no error";
}

}  // namespace

TEST_CASE("run.json round trip keeps every field, float bits and config order") {
  fs::path path =
      fs::temp_directory_path() / ("repro_test_run_" + std::to_string(::getpid())) / "run.json";
  repro::RunRecord r = sample_record();
  repro::write_run_record(path.string(), r);
  repro::RunRecord back = repro::read_run_record(path.string());
  CHECK(back.repro_version == r.repro_version);
  CHECK(back.config_path == r.config_path);
  CHECK(back.config_sha256 == r.config_sha256);
  CHECK(back.config == r.config);
  CHECK(back.seed == 812);
  CHECK(back.rng == "jax");
  CHECK(back.backend == "onednn");
  CHECK(back.device == "cpu");
  CHECK(back.determinism == "portable");
  CHECK(back.threads == 4);
  CHECK(back.environment == r.environment);
  CHECK(back.data_files == r.data_files);
  REQUIRE(back.epochs.size() == 2);
  CHECK(back.epochs[1].epoch == 2);
  CHECK(back.epochs[1].seconds == static_cast<double>(0.1f));
  CHECK(back.epochs[1].weights_sha256 == std::string(64, 'b'));
  CHECK(back.test_loss == static_cast<double>(0.04123f));
  CHECK(back.test_accuracy == static_cast<double>(0.9871f));
  CHECK(back.completed);
  CHECK(back.tested);
  CHECK(back.run_id == r.run_id);
  CHECK(back.initial_weights_sha256 == r.initial_weights_sha256);
  CHECK(back.weights_sha256 == r.weights_sha256);
  CHECK(back.files == r.files);
  CHECK_FALSE(back.stopped);
  CHECK(repro::run_record_to_json(back) == repro::run_record_to_json(r));
  fs::remove_all(path.parent_path());
}

TEST_CASE("run.json writes a non-finite test loss as null and reads it back as NaN") {
  fs::path path =
      fs::temp_directory_path() / ("repro_test_run_nan_" + std::to_string(::getpid()) + ".json");
  repro::RunRecord r = sample_record();
  r.test_loss = std::nan("");
  repro::write_run_record(path.string(), r);
  REQUIRE(repro::read_file(path).find("\"test_loss\": null") != std::string::npos);
  REQUIRE(std::isnan(repro::read_run_record(path.string()).test_loss));
  fs::remove(path);
}

TEST_CASE("run.json of a stopped run: where it stopped, and no test metrics (null, not 0)") {
  repro::RunRecord r = sample_record();
  r.completed = false;
  r.tested = false;
  r.stopped = repro::StopRecord{"steps", 2, 4, 20};
  const std::string text = repro::run_record_to_json(r);
  CHECK(text.find("\"test_accuracy\": null") != std::string::npos);
  CHECK(text.find("\"tested\": false") != std::string::npos);
  const repro::RunRecord back = repro::parse_run_record(text, "run.json");
  REQUIRE(back.stopped);
  CHECK(back.stopped->reason == "steps");
  CHECK(back.stopped->epoch == 2);
  CHECK(back.stopped->batch == 4);
  CHECK(back.stopped->step == 20);
  CHECK_FALSE(back.tested);
  CHECK(std::isnan(back.test_accuracy));
  CHECK(repro::run_record_to_json(back) == text);
}

TEST_CASE("a run.json of repro 0.1 (no run id, digests, files or stopped) still reads") {
  nlohmann::json old = nlohmann::json::parse(repro::run_record_to_json(sample_record()));
  for (const char* key :
       {"run_id", "initial_weights_sha256", "weights_sha256", "files", "tested", "stopped"})
    old.erase(key);
  const repro::RunRecord back = repro::parse_run_record(old.dump(), "run.json");
  CHECK(back.run_id.empty());
  CHECK(back.files.empty());
  CHECK(back.tested);  // completed runs of 0.1 were tested
  CHECK(back.test_accuracy == static_cast<double>(0.9871f));
}

TEST_CASE("run.json reader errors name the place and the field") {
  std::string good = repro::run_record_to_json(sample_record());
  CHECK(read_error("{\"repro_version\": 1}") ==
        ":1:19: \"repro_version\" must be a string, not number");
  CHECK(read_error("{}") ==
        ":1:1: missing key \"repro_version\"; is this a run.json written by repro?");
  std::string bad = good;
  bad.replace(bad.find("\"threads\": 4"), 12, "\"threads\": \"4\"");
  CHECK(read_error(bad).find("\"threads\" must be an integer, not string") != std::string::npos);
  CHECK(read_error(good.substr(0, 40)).find("is the file complete?") != std::string::npos);
}

TEST_CASE("sha256_hex gives the standard digests") {
  CHECK(repro::sha256_hex("", 0) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(repro::sha256_hex("abc", 3) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("the environment fingerprint names the CPU, its ISA, the compiler, the OS and cores") {
  auto env = repro::environment_fingerprint();
  for (const char* key : {"cpu_model", "cpu_isa", "compiler", "os", "cores", "repro_version"}) {
    INFO(key);
    REQUIRE(env.count(key) == 1);
    REQUIRE(!env[key].empty());
  }
  CHECK(std::stoi(env["cores"]) >= 1);
  CHECK(env["repro_version"] == REPRO_VERSION);
  // The same machine gives the same fingerprint: nothing time- or run-dependent is in it.
  CHECK(env == repro::environment_fingerprint());
}
