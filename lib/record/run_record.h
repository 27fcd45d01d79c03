// run.json: everything needed to explain why two runs differ (config, seeds, versions, hardware,
// threads, per-epoch weight digests and times), and the environment fingerprint.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/named_tensor.h"

namespace repro {

struct EpochRecord {
  int epoch = 0;               // 1-based
  double seconds = 0;          // training wall time of the epoch
  std::string weights_sha256;  // SHA-256 of all weights (float32 bytes, layer order) after it
};

// What EarlyStopping did (epochs 1-based; 0: none).
struct EarlyStoppingRecord {
  int64_t stopped_epoch = 0;  // the epoch after which it stopped the run; 0: it did not
  int64_t best_epoch = 0;     // the best epoch by its monitor
  double best = 0;            // the monitor's value there
  bool restored = false;      // restore_best_weights put that epoch's weights back
};

// Where a run that did not finish stopped (--steps, Ctrl-C or SIGTERM).
struct StopRecord {
  std::string reason;  // "steps" (--steps N) | "signal" (Ctrl-C, SIGTERM)
  int epoch = 0;       // 1-based epoch in progress
  int64_t batch = 0;   // batches done in that epoch
  int64_t step = 0;    // optimizer steps done in all
};

struct RunRecord {
  std::string repro_version;
  // Names this run: written at its start, kept across resumes, stored in every checkpoint. A
  // digest of host, process, clock and folder: an identity, never an input to any computation.
  std::string run_id;
  std::string config_path;
  std::string config_sha256;                                // of the flattened config text
  std::vector<std::pair<std::string, std::string>> config;  // flatten_config()
  std::string config_yaml;  // the whole config as canonical YAML ("" in older run.json): what
                            // evaluate, predict and export rebuild the model from
  int64_t seed = 0;
  std::string rng;                 // jax | tf
  std::string backend;             // one of backend_names()
  std::string device;              // cpu | cuda
  std::string determinism = "on";  // on | off | portable
  int threads = 0;
  int ranks = 1;                                   // data-parallel processes (mpirun -n)
  std::vector<std::string> hosts;                  // per rank: the host it ran on
  std::vector<int> rank_threads;                   // per rank: its CPU threads
  std::map<std::string, std::string> environment;  // environment_fingerprint() + backend entries
  std::vector<std::string> data_files;
  std::vector<EpochRecord> epochs;
  std::string initial_weights_sha256;  // the weights before step 1 ("" in older run.json)
  std::string weights_sha256;          // the weights in model.safetensors ("" in older run.json)
  // SHA-256 of every other file of the run folder as written (history.json, model.safetensors,
  // trace.jsonl, steps.csv): a file that does not match is not this run's, or changed after it.
  std::map<std::string, std::string> files;
  bool tested = false;  // the test split was evaluated on the final weights
  double test_loss = std::numeric_limits<double>::quiet_NaN();  // NaN (null) unless tested
  double test_accuracy = std::numeric_limits<double>::quiet_NaN();
  std::optional<StopRecord> stopped;  // set when the run ended before its last epoch
  std::optional<EarlyStoppingRecord> early_stopping;  // with training.early_stopping
  std::optional<int64_t> best_checkpoint_epoch;       // with checkpoint.best: best.safetensors
  bool completed = false;
};

std::string run_record_to_json(const RunRecord& record);
void write_run_record(const std::string& path, const RunRecord& record);  // atomic
RunRecord read_run_record(const std::string& path);  // InputError with file:line:col
RunRecord parse_run_record(const std::string& json_text, const std::string& file_label);

// What results depend on: architecture (the one repro was built for: x86_64, aarch64,
// riscv64), os, compiler, cpu_model, cpu_isa (avx2, avx512f, ...; neon or sve on aarch64),
// cores, repro_version.
std::map<std::string, std::string> environment_fingerprint();

// A new run's id: 16 hex digits, distinct for every run started (see RunRecord::run_id).
std::string new_run_id();

// The weights digest of run.json, checkpoints and compare: SHA-256 of the tensors' float32 values
// concatenated in the order given (a model's export order, as model.safetensors holds them).
std::string weights_sha256(const std::vector<NamedTensor>& tensors);

// Lowercase hex SHA-256 (OpenSSL EVP).
std::string sha256_hex(const void* data, size_t size);
// The same of a file's bytes, read in pieces; InputError naming the file when it cannot be read.
std::string sha256_file(const std::string& path);
// Lowercase hex MD5 of a file: only to check a download against a publisher who gives MD5
// (CIFAR-10), never as a digest of repro's own.
std::string md5_file(const std::string& path);

}  // namespace repro
