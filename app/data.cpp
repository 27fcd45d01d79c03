// repro data fetch|verify|bench: download a dataset into the cache, check its files against their
// published SHA-256, and time the input pipeline. Wiring only: the work is in lib/data.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "core/error.h"
#include "data/dataset.h"
#include "data/pipeline.h"

namespace repro::app {

namespace {

struct DataOptions {
  std::string dataset;
  std::string dir;
  int workers = 0;                     // bench: 0 = 1 and 2
  int runs = 3;                        // bench: epochs timed per worker count (median)
  std::string config;                  // bench: a config whose data section is timed
  std::vector<std::string> overrides;  // bench: --set for that config
};

// --dir may name the dataset's own folder or, like REPRO_DATA_DIR, the folder above it that holds
// DATASET/: the dataset's subfolder when it exists, else the folder given.
std::string dataset_dir(const std::string& dir, const std::string& dataset) {
  if (dir.empty()) return dir;
  std::error_code error;
  const std::filesystem::path below = std::filesystem::path(dir) / dataset;
  return std::filesystem::is_directory(below, error) ? below.string() : dir;
}

void print_check(const FileCheck& c, const std::string& status) {
  std::cout << c.path << "  " << (c.sha256.empty() ? std::string("-") : c.sha256) << "  " << status
            << "\n";
}

int run_data_verify(const DataOptions& o) {
  const auto checks = verify_dataset(o.dataset, dataset_dir(o.dir, o.dataset));
  int missing = 0, failed = 0;
  for (const auto& c : checks) {
    if (!c.present) {
      ++missing;
      print_check(c, "MISSING");
    } else if (!c.ok) {
      ++failed;
      print_check(c, "FAIL (expected " + c.expected + ")");
    } else {
      print_check(c, "OK");
    }
  }
  std::cout.flush();
  if (missing > 0) {
    std::cerr << "repro: " << missing << " of " << checks.size() << " " << o.dataset
              << " files missing; run `repro data fetch " << o.dataset
              << "` or point --dir (or REPRO_DATA_DIR) at them\n";
    return 2;
  }
  if (failed > 0) {
    std::cerr << "repro: " << failed << " " << o.dataset
              << " file(s) do not match their published checksum; delete them and run `repro data "
                 "fetch "
              << o.dataset << "`\n";
    return 1;
  }
  return 0;
}

int run_data_fetch(const DataOptions& o) {
  for (const auto& c : fetch_dataset(o.dataset, o.dir)) {
    print_check(c, c.downloaded ? "downloaded, OK" : "present, OK");
  }
  return 0;
}

struct EpochRate {
  double wall = 0;  // images per second
  double cpu = 0;   // images per CPU-second of the whole process (all threads)
};

// One full training epoch: shuffle, batch 64, map (decode for image files) with resize to
// out_h x out_w.
EpochRate epoch_rate(const Dataset& train, int workers, int out_h, int out_w) {
  PipelineOptions po;
  po.seed = 42;
  po.batch_size = 64;
  po.out_h = out_h;
  po.out_w = out_w;
  po.workers = workers;
  po.prefetch = 2;
  Pipeline pipeline(train, po);
  Batch batch;
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  pipeline.start_epoch(0);
  int64_t images = 0;
  while (pipeline.next(batch)) images += batch.size;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  return {static_cast<double>(images) / seconds, static_cast<double>(images) / cpu_seconds};
}

int run_data_bench(const DataOptions& o) {
  if (o.runs < 1) throw InputError("--runs must be at least 1");
  DataConfig config;
  config.dataset = "mnist";
  int out_h = 32, out_w = 32;  // MNIST: the recipe's resize
  if (!o.config.empty()) {
    const RunConfig run = load_config(o.config, o.overrides);
    config = run.data;
    const std::array<int, 3> input = input_shape(run);
    out_h = input[0], out_w = input[1];
  }
  if (!o.dir.empty()) config.dir = dataset_dir(o.dir, config.dataset);
  const auto load_start = std::chrono::steady_clock::now();
  const Splits splits = load_splits(config);
  const double load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  std::printf("load: %lld images in %.3f s\n",
              static_cast<long long>(splits.train.count + splits.test.count), load_seconds);
  std::vector<int> worker_counts =
      o.workers > 0 ? std::vector<int>{o.workers} : std::vector<int>{1, 2};
  for (int workers : worker_counts) {
    std::vector<double> wall, cpu;
    for (int r = 0; r < o.runs; ++r) {
      const EpochRate rate = epoch_rate(splits.train, workers, out_h, out_w);
      wall.push_back(rate.wall);
      cpu.push_back(rate.cpu);
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    std::printf(
        "workers %d: %.0f images/s, %.0f images per CPU-second (median of %d epochs of "
        "%lld %s images, %s -> %dx%dx%d, batch 64)\n",
        workers, wall[wall.size() / 2], cpu[cpu.size() / 2], o.runs,
        static_cast<long long>(splits.train.count), config.dataset.c_str(),
        splits.train.is_encoded() ? "decoded from their files"
                                  : image_shape_text(splits.train).c_str(),
        out_h, out_w, splits.train.channels);
  }
  return 0;
}

}  // namespace

void setup_data(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("data", "Download, verify and benchmark datasets");
  cmd->require_subcommand(1);
  auto options = std::make_shared<DataOptions>();

  auto* fetch = cmd->add_subcommand(
      "fetch",
      "Download DATASET (mnist | fashion_mnist | cifar10) into the cache, checksum checked");
  fetch->add_option("dataset", options->dataset, "mnist, fashion_mnist or cifar10")->required();
  fetch->add_option("--dir", options->dir, "Folder to download into (default: the cache)");
  fetch->callback([options, &exit_code] { exit_code = run_data_fetch(*options); });

  auto* verify = cmd->add_subcommand(
      "verify",
      "Check DATASET's files against their published SHA-256 (CIFAR-10: MD5): exit 1 on FAIL, "
      "2 if missing");
  verify->add_option("dataset", options->dataset, "mnist, fashion_mnist or cifar10")->required();
  verify->add_option("--dir", options->dir,
                     "Folder holding the files, or the folder above it holding DATASET/ as "
                     "REPRO_DATA_DIR does (default: the first one found in the lookup order)");
  verify->callback([options, &exit_code] { exit_code = run_data_verify(*options); });

  auto* bench = cmd->add_subcommand(
      "bench",
      "Images/s of the input pipeline for one full epoch (MNIST at 32x32, or --config's data)");
  bench->add_option("--workers", options->workers, "Map threads (default: 1, then 2)")
      ->check(integer_range(1, 1024));
  bench->add_option("--dir", options->dir,
                    "Folder holding the dataset's files, or the folder above it holding DATASET/");
  bench->add_option("--config", options->config,
                    "Time this config's data (any source, its resize or image_size) instead of "
                    "MNIST at 32x32");
  bench->add_option("--set", options->overrides, "key.path=value for --config (repeatable)");
  bench->add_option("--runs", options->runs, "Epochs per worker count; the median is printed")
      ->check(integer_range(1, 1000));
  bench->callback([options, &exit_code] { exit_code = run_data_bench(*options); });
}

}  // namespace repro::app
