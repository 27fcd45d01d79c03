// repro check CONFIG: the CI one-liner. Trains the config several times in this process (the
// same settings, or one run per value of a varied setting), compares the runs bit for bit and
// prints PASS or FAIL with the first divergence. Exit 0 on PASS, 1 on FAIL.
// It trains through lib/train and compares through lib/compare; it keeps no logic of its own
// beyond choosing the runs and printing. `--vary ranks=1,2,4` is the exception that trains out of
// process: one `mpirun -n K repro train` per value.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "backend/portable/portable_backend.h"
#include "commands.h"
#include "compare/compare.h"
#include "compare/describe.h"
#include "config/config.h"
#include "core/error.h"
#include "core/fs.h"
#include "data/dataset.h"
#include "dist/launch.h"
#include "record/safetensors.h"
#include "report/junit.h"
#include "train/trainer.h"

namespace repro::app {

struct CheckOptions {
  std::string config;
  int runs = 2;
  std::string vary;   // "key=v1,v2,..."
  int64_t steps = 0;  // 0 = the whole config
  std::vector<std::string> sets;
  std::string out;  // where the run folders go (default: runs/check-<config name>)
  bool keep = false;
  std::string junit;  // JUnit XML report path ("" = none)
};

namespace {

struct Variant {
  std::string label;                   // "threads=2" or "run 2"
  std::vector<std::string> overrides;  // --set entries for this run
  std::string isa;                     // portable's ISA path for this run ("" = the default)
  int ranks = 0;                       // --vary ranks: mpirun -n ranks (0: train in process)
};

std::vector<Variant> plan_variants(const CheckOptions& options) {
  std::vector<Variant> variants;
  if (options.vary.empty()) {
    if (options.runs < 2)
      throw InputError("--runs " + std::to_string(options.runs) +
                       ": a check needs at least 2 runs to compare");
    for (int i = 1; i <= options.runs; ++i)
      variants.push_back(Variant{"run " + std::to_string(i), options.sets, "", 0});
    return variants;
  }
  const size_t eq = options.vary.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == options.vary.size())
    throw InputError("--vary " + options.vary +
                     ": expected key=value1,value2 (for example --vary threads=1,2)");
  const std::string key = options.vary.substr(0, eq);
  std::string rest = options.vary.substr(eq + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t comma = rest.find(',', start);
    if (comma == std::string::npos) comma = rest.size();
    const std::string value = rest.substr(start, comma - start);
    if (value.empty())
      throw InputError("--vary " + options.vary + ": empty value; list values as key=v1,v2");
    Variant v{key + "=" + value, options.sets, "", 0};
    if (key == "isa") {
      try {  // unknown, or not on this CPU: refused before any training
        portable_isa_path(value);
      } catch (const InputError& e) {
        throw InputError("--vary " + options.vary + ": " + e.what());
      }
      v.isa = value;
    } else if (key == "ranks") {  // not a config key: the number of processes mpirun starts
      char* end = nullptr;
      const long ranks = std::strtol(value.c_str(), &end, 10);
      if (*end != '\0' || ranks < 1 || ranks > 1024)
        throw InputError("--vary " + options.vary +
                         ": ranks must be integers from 1 to 1024 (got " + clipped(value) + ")");
      v.ranks = static_cast<int>(ranks);
    } else {
      v.overrides.push_back(key + "=" + value);
    }
    variants.push_back(v);
    start = comma + 1;
  }
  if (variants.size() < 2)
    throw InputError("--vary " + options.vary + ": give at least two values, e.g. threads=1,2");
  return variants;
}

// The optimizer steps a config will run, where the training set's size is known before loading
// (the published size of mnist and fashion_mnist, or data.limit); 0 for idx files.
int64_t planned_steps(const RunConfig& config) {
  const DataConfig& data = config.data;
  const int64_t published = published_train_images(data.dataset);
  if (published == 0) return 0;
  const int64_t images = data.limit > 0 ? std::min<int64_t>(data.limit, published) : published;
  const int64_t batches = (images + data.batch_size - 1) / data.batch_size;
  return batches * config.training.epochs;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// `mpirun -n RANKS repro train CONFIG --out FOLDER ...`, its output in LOG; throws when it fails.
void train_with_ranks(const CheckOptions& options, int ranks, const std::vector<std::string>& sets,
                      const std::filesystem::path& folder, const std::filesystem::path& log) {
  std::vector<std::string> args = {std::filesystem::read_symlink("/proc/self/exe").string(),
                                   "train",
                                   options.config,
                                   "--out",
                                   folder.string(),
                                   "--quiet"};
  if (options.steps > 0) args.insert(args.end(), {"--steps", std::to_string(options.steps)});
  for (const std::string& set : sets) args.insert(args.end(), {"--set", set});
  std::fflush(stdout);
  run_under_mpirun(ranks, args, log, "--vary ranks");
}

int run_check(const CheckOptions& options) {
  const auto check_start = std::chrono::steady_clock::now();
  const std::vector<Variant> variants = plan_variants(options);

  // Load every variant first, so a bad value fails before any training.
  std::vector<RunConfig> configs;
  std::vector<std::vector<std::string>> run_sets;  // each run's final --set list
  load_config(options.config, options.sets);       // the file and --set alone: their own errors
  for (const Variant& v : variants) {
    RunConfig config;
    try {
      config = load_config(options.config, v.overrides);
    } catch (const InputError& e) {
      // A bad --vary key or value is the flag's error, not a --set the user never wrote.
      if (options.vary.empty() || v.ranks > 0 || !v.isa.empty()) throw;
      throw InputError("--vary " + options.vary + ": " + e.what());
    }
    run_sets.push_back(v.overrides);
    if (config.training.trace.every == 0) {
      // Trace digests so a FAIL names the first step and tensor that differ: about ten per run.
      const int64_t total = options.steps > 0 ? options.steps : planned_steps(config);
      const int64_t every = total > 0 ? std::max<int64_t>(1, total / 10) : 100;
      std::vector<std::string> traced = v.overrides;
      traced.push_back("training.trace.every=" + std::to_string(every));
      config = load_config(options.config, traced);
      run_sets.back() = traced;
    }
    if (!v.isa.empty() && config.determinism != Determinism::portable)
      throw InputError("--vary " + options.vary +
                       ": the ISA path is a choice of determinism: "
                       "portable only; add --set determinism=portable");
    configs.push_back(config);
  }

  const std::filesystem::path out =
      options.out.empty() ? std::filesystem::path("runs") / ("check-" + configs[0].name)
                          : std::filesystem::path(options.out);
  std::printf("repro check %s: %zu runs (%s), %s\n", options.config.c_str(), variants.size(),
              options.vary.empty() ? "same settings" : options.vary.c_str(),
              options.steps > 0 ? (std::to_string(options.steps) + " steps").c_str()
                                : (std::to_string(configs[0].training.epochs) + " epochs").c_str());
  std::fflush(stdout);

  std::error_code made;
  std::filesystem::create_directories(out, made);
  if (made || !std::filesystem::is_directory(out))
    throw InputError("--out " + out.string() + ": cannot create the folder (" + made.message() +
                     "); pick a writable path");
  // Held to the end: a second check into the same folder refuses instead of mixing runs.
  const FolderLock lock(out);
  std::vector<std::string> folders;
  std::vector<std::string> digests;
  for (size_t i = 0; i < variants.size(); ++i) {
    const auto start = std::chrono::steady_clock::now();
    const std::filesystem::path folder = out / ("run" + std::to_string(i + 1));
    std::error_code ignore;
    std::filesystem::remove_all(folder, ignore);
    if (variants[i].ranks > 0) {
      const std::filesystem::path log = out / ("run" + std::to_string(i + 1) + ".log");
      train_with_ranks(options, variants[i].ranks, run_sets[i], folder, log);
      std::filesystem::remove(log, ignore);
      folders.push_back(folder.string());
      digests.push_back(weights_sha256(read_safetensors((folder / "model.safetensors").string())));
      std::printf("  %-14s %7.1f s  mpirun -n %d  weights %s\n", variants[i].label.c_str(),
                  seconds_since(start), variants[i].ranks, digests.back().substr(0, 16).c_str());
      std::fflush(stdout);
      continue;
    }
    TrainOptions train_options;
    train_options.isa = variants[i].isa;
    Trainer trainer(configs[i], train_options);
    TrainObserver silent;
    trainer.run(silent, options.steps);
    trainer.write_run_folder(folder.string());
    folders.push_back(folder.string());
    digests.push_back(trainer.weights_sha256());
    std::printf("  %-14s %7.1f s  %lld steps  weights %s\n", variants[i].label.c_str(),
                seconds_since(start), static_cast<long long>(trainer.state().global_step),
                digests.back().substr(0, 16).c_str());
    std::fflush(stdout);
  }

  CompareOptions exact;
  exact.exact = true;
  bool pass = true;
  std::vector<JunitCase> cases;
  for (size_t i = 1; i < folders.size(); ++i) {
    CompareReport report = compare_runs(folders[0], folders[i], exact);
    const bool weights_same = report.weights.compared && report.weights.same;
    const std::string pair =
        "repro check " + options.config + ": " + variants[0].label + " vs " + variants[i].label;
    for (const KeyComparison& key : report.keys) {
      std::string failure;
      if (!key.same) {
        failure = key.note.empty()
                      ? "differs from epoch " + std::to_string(key.first_differing_epoch) +
                            " (max abs diff " + std::to_string(key.max_abs_diff) + ")"
                      : key.note;
      }
      cases.push_back(JunitCase{pair, key.key, failure});
    }
    if (!report.architecture_difference.empty())
      cases.push_back(JunitCase{pair, "architecture", report.architecture_difference});
    cases.push_back(JunitCase{pair, "weights", weights_same ? "" : weights_line(report, exact)});
    if (report.traced && (report.divergence || report.trace_steps_compared > 0)) {
      cases.push_back(JunitCase{
          pair, "trace",
          report.divergence ? "first divergence: " + describe_divergence(*report.divergence) : ""});
    }
    if (report.same && weights_same) continue;
    pass = false;
    std::printf("FAIL: %s and %s differ\n", variants[0].label.c_str(), variants[i].label.c_str());
    if (!report.architecture_difference.empty())
      std::printf("  architecture differs: %s\n", report.architecture_difference.c_str());
    if (report.divergence)
      std::printf("  first divergence: %s\n", describe_divergence(*report.divergence).c_str());
    else if (report.first_weights_epoch)
      std::printf("  first epoch whose weights differ: %d\n", report.first_weights_epoch);
    else if (!weights_same)
      std::printf("  %s\n", weights_line(report, exact).c_str());
    for (const KeyComparison& key : report.keys)
      if (!key.same)
        std::printf("  %s differs from epoch %d (max abs diff %.3g)\n", key.key.c_str(),
                    key.first_differing_epoch, key.max_abs_diff);
    for (const EnvironmentDifference& d : report.environment)
      std::printf("  likely cause: %s: %s vs %s\n", d.key.c_str(), d.a.c_str(), d.b.c_str());
  }
  if (!options.junit.empty()) {
    write_file_atomic(options.junit, junit_xml("repro check " + options.config, cases,
                                               seconds_since(check_start)));
  }
  if (pass)
    std::printf("PASS: %zu runs bit-identical (history, weight digests, traces)\n", folders.size());
  if (pass && !options.keep) {
    // Only what this check made: its run folders, then the folder if nothing else is in it.
    std::error_code ignore;
    for (const std::string& folder : folders) std::filesystem::remove_all(folder, ignore);
    std::filesystem::remove(out / ".lock", ignore);
    std::filesystem::remove(out, ignore);  // fails, as it should, when other files are there
  } else {
    std::printf("run folders: %s\n", out.string().c_str());
  }
  return pass ? 0 : 1;
}

}  // namespace

void setup_check(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<CheckOptions>();
  auto* cmd = app.add_subcommand(
      "check", "Train a config twice (or once per varied value) and require identical bits");
  cmd->add_option("config", options->config, "The run's YAML config")->required();
  cmd->add_option("--runs", options->runs, "Runs with the same settings (default 2)")
      ->check(integer_range(2, 100));
  cmd->add_option(
      "--vary", options->vary,
      "One run per value of a config key, e.g. threads=1,2 or data.num_parallel_calls=1,4; "
      "isa=sse2,avx2,avx512 runs the portable kernels' ISA paths; ranks=1,2,4 trains with "
      "mpirun -n K");
  cmd->add_option("--steps", options->steps, "Stop each run after N optimizer steps (default: all)")
      ->check(integer_range(1, limits::steps));
  cmd->add_option("--set", options->sets, "Override a config key: key.path=value (repeatable)");
  cmd->add_option("--out", options->out, "Folder for the run folders (default runs/check-<name>)");
  cmd->add_flag("--keep", options->keep, "Keep the run folders after a PASS");
  cmd->add_option("--junit", options->junit,
                  "Also write a JUnit XML report: one test case per compared key and run pair");
  cmd->callback([options, &exit_code] { exit_code = run_check(*options); });
}

}  // namespace repro::app
