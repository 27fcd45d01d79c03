// run.json: everything needed to explain why two runs differ (config, seeds, versions, hardware,
// threads, per-epoch weight digests and times), and the environment fingerprint.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace repro {

struct EpochRecord {
  int epoch = 0;                // 1-based
  double seconds = 0;           // training wall time of the epoch
  std::string weights_sha256;   // SHA-256 of all weights (float32 bytes, layer order) after it
};

struct RunRecord {
  std::string repro_version;
  std::string config_path;
  std::string config_sha256;                                 // of the flattened config text
  std::vector<std::pair<std::string, std::string>> config;   // flatten_config()
  int64_t seed = 0;
  std::string rng;            // jax | tf
  std::string backend;        // reference | onednn | portable | cudnn
  std::string device;         // cpu | cuda
  std::string determinism = "on";  // on | off | portable
  int threads = 0;
  int ranks = 1;                        // data-parallel processes (mpirun -n)
  std::vector<std::string> hosts;       // per rank: the host it ran on
  std::vector<int> rank_threads;        // per rank: its CPU threads
  std::map<std::string, std::string> environment;  // environment_fingerprint() + backend entries
  std::vector<std::string> data_files;
  std::vector<EpochRecord> epochs;
  double test_loss = 0, test_accuracy = 0;
  bool completed = false;
};

std::string run_record_to_json(const RunRecord& record);
void write_run_record(const std::string& path, const RunRecord& record);  // atomic
RunRecord read_run_record(const std::string& path);  // InputError with file:line:col
RunRecord parse_run_record(const std::string& json_text, const std::string& file_label);

// What results depend on: os, compiler, cpu_model, cpu_isa (avx2, avx512f, ...), cores, repro_version.
std::map<std::string, std::string> environment_fingerprint();

// Lowercase hex SHA-256 (OpenSSL EVP).
std::string sha256_hex(const void* data, size_t size);

}  // namespace repro
