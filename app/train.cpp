// repro train CONFIG: trains a config and writes its run folder (history.json, run.json,
// model.safetensors), printing Keras-style progress. Wiring only: the loop lives in lib/train.
// Under mpirun every rank trains its share of each batch; rank 0 alone prints and writes files.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <system_error>

#include "backend/backend.h"
#include "commands.h"
#include "config/config.h"
#include "core/error.h"
#include "core/fs.h"
#include "dist/agree.h"
#include "dist/communicator.h"
#include "record/run_folder.h"
#include "train/checkpoint.h"
#include "train/progress.h"
#include "train/trainer.h"

namespace repro::app {

namespace {

struct TrainCliOptions {
  std::string config;
  std::string out;
  std::vector<std::string> sets;
  std::string device;
  std::string backend;
  std::string resume;
  int threads = 0;
  int epochs = 0;
  int64_t seed = -1;  // -1: the config's
  int64_t steps = 0;
  bool quiet = false;
  bool profile = false;
  bool overwrite = false;
};

volatile std::sig_atomic_t stop_requested = 0;

void request_stop(int) { stop_requested = 1; }

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Keras's fit(verbose=1) output: "Epoch 1/2", then a bar redrawn in place on a terminal, or only
// the final line of each epoch when stdout is a pipe or a file.
class ProgressPrinter : public TrainObserver {
 public:
  explicit ProgressPrinter(bool live) : live_(live) {}

  void epoch_begin(int epoch, int epochs, int64_t steps) override {
    std::printf("Epoch %d/%d\n", epoch, epochs);
    std::fflush(stdout);
    bar_ = std::make_unique<Progbar>(steps, use_color(live_), now_seconds());
    steps_ = steps;
    last_draw_ = 0;
    width_ = 0;
  }

  void batch_end(int64_t done, int64_t steps, const EpochMetrics& running) override {
    const double now = now_seconds();
    std::string text =
        bar_->line(done, {{"accuracy", running.accuracy}, {"loss", running.loss}}, false, now);
    if (!live_ || (now - last_draw_ < 0.05 && done < steps)) return;
    draw(text);
    last_draw_ = now;
  }

  void epoch_end(int epoch, const EpochMetrics& m, double seconds) override {
    std::vector<std::pair<std::string, double>> values = {{"accuracy", m.accuracy},
                                                          {"loss", m.loss}};
    if (m.has_validation) {
      values.push_back({"val_accuracy", m.val_accuracy});
      values.push_back({"val_loss", m.val_loss});
    }
    draw(bar_->line(steps_, values, true, now_seconds()));
    std::printf("\n");
    std::fflush(stdout);
  }

 private:
  void draw(const std::string& text) {
    // Visible width: ANSI escapes take no columns, "━" is 3 bytes for one column.
    int width = 0;
    bool escape = false;
    for (unsigned char ch : text) {
      if (ch == 0x1b) escape = true;
      if (escape) {
        if (ch == 'm') escape = false;
        continue;
      }
      if ((ch & 0xC0) != 0x80) ++width;
    }
    std::string line = live_ ? "\r" + text : text;
    if (live_ && width < width_) line += std::string(width_ - width, ' ');
    width_ = width;
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
  }

  bool live_;
  std::unique_ptr<Progbar> bar_;
  int64_t steps_ = 0;
  double last_draw_ = 0;
  int width_ = 0;
};

void print_profile(Trainer& trainer) {
  const TrainProfile& p = trainer.profile();
  std::vector<std::pair<std::string, double>> rows(p.ops.begin(), p.ops.end());
  rows.push_back({"loss", p.loss});
  rows.push_back({"optimizer", p.optimizer});
  rows.push_back({"data wait", p.data_wait});
  if (trainer.ranks() > 1) rows.push_back({"combine", p.combine});
  double measured = 0;
  for (const auto& row : rows) measured += row.second;
  std::printf("profile: %s backend, %d threads%s (seconds over all training steps)\n",
              trainer.backend().name().c_str(), trainer.threads(),
              trainer.ranks() > 1
                  ? (" per rank, rank 0 of " + std::to_string(trainer.ranks())).c_str()
                  : "");
  for (const auto& [name, seconds] : rows)
    std::printf("  %-14s %9.3f s  %5.1f%%\n", name.c_str(), seconds,
                p.training > 0 ? 100.0 * seconds / p.training : 0.0);
  std::printf("  %-14s %9.3f s  %5.1f%%\n", "other", p.training - measured,
              p.training > 0 ? 100.0 * (p.training - measured) / p.training : 0.0);
  std::printf("  %-14s %9.3f s\n", "training", p.training);
  std::printf("  %-14s %9.3f s\n", "validation", p.validation);
  if (trainer.ranks() > 1)
    std::printf("  %-14s %9.0f bytes sent by rank 0 per step (%d ranks)\n", "combine",
                p.bytes_per_step, trainer.ranks());
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("  peak RSS       %9.1f MB\n", static_cast<double>(usage.ru_maxrss) / 1024.0);
}

// The config of a run: the file with its overrides, or for --resume without a file, the one the
// newest checkpoint holds (the file and every --set of the run that wrote it) with these
// overrides. `backend` becomes the checkpoint's backend unless --backend names one.
RunConfig run_config(const TrainCliOptions& cli, const std::vector<std::string>& overrides,
                     std::string& backend) {
  if (cli.resume.empty()) return load_config(cli.config, overrides);
  if (!std::filesystem::is_directory(cli.resume))
    throw InputError("--resume " + cli.resume +
                     ": no such run folder; give the --out folder of "
                     "an earlier repro train");
  const CheckpointHeader header = read_checkpoint_header(cli.resume);
  if (backend.empty()) backend = header.backend;
  if (!cli.config.empty()) return load_config(cli.config, overrides);
  if (header.config_yaml.empty())
    throw InputError(header.path +
                     ": an older checkpoint (format 2) without the run's config; "
                     "resume with the config file: repro train CONFIG --resume " +
                     shell_word(cli.resume));
  RunConfig config = parse_config(header.config_yaml, header.path + " (its config)", overrides);
  config.path = header.config_path;
  config.name = std::filesystem::path(header.config_path).stem().string();
  return config;
}

// "epoch 2 of 4, batch 13 of 16 (step 29)": where a run that stopped early stands.
std::string stop_place(const StopRecord& stop, const Trainer& trainer) {
  return "epoch " + std::to_string(stop.epoch) + " of " +
         std::to_string(trainer.config().training.epochs) + ", batch " +
         std::to_string(stop.batch) + " of " + std::to_string(trainer.steps_per_epoch()) +
         " (step " + std::to_string(stop.step) + ")";
}

int run_train(const TrainCliOptions& cli) {
  // Under mpirun: MPI starts here, and every rank checks the config, data and checkpoint before
  // the first collective; when any rank fails, all exit with one message.
  Communicator& comm = world();
  const bool lead = comm.rank() == 0;
  std::unique_ptr<FolderLock> lock;
  std::unique_ptr<Trainer> owned;
  std::string out, from;
  bool created_out = false;  // this run made the folder: a failure before training removes it
  std::exception_ptr failure;
  try {
    if (cli.config.empty() && cli.resume.empty())
      throw InputError(
          "train: give a config (repro train CONFIG) or the run folder to go on "
          "with (repro train --resume RUN_DIR)");
    if (!cli.resume.empty() && cli.overwrite)
      throw InputError(
          "--overwrite starts the run again, --resume goes on with it: give one of "
          "them");
    if (!cli.resume.empty() && !cli.out.empty() && cli.out != cli.resume)
      throw InputError("--resume " + cli.resume +
                       " writes into the run folder it resumes; drop --out " + cli.out +
                       " or make it the same folder");
    std::vector<std::string> overrides = cli.sets;
    if (!cli.device.empty()) overrides.push_back("device=" + cli.device);
    if (cli.epochs > 0) overrides.push_back("training.epochs=" + std::to_string(cli.epochs));
    if (cli.seed >= 0) overrides.push_back("seed=" + std::to_string(cli.seed));
    if (cli.threads > 0) overrides.push_back("threads=" + std::to_string(cli.threads));
    TrainOptions options;
    options.backend = cli.backend;
    options.comm = &comm;
    options.weights_follow = !cli.resume.empty();  // the checkpoint holds them
    RunConfig config = run_config(cli, overrides, options.backend);

    out = !cli.resume.empty() ? cli.resume : cli.out.empty() ? "runs/" + config.name : cli.out;
    if (lead) {
      std::error_code error;
      created_out = !std::filesystem::exists(out, error);
      std::filesystem::create_directories(out, error);
      if (error || !std::filesystem::is_directory(out))
        throw InputError("--out " + out + ": cannot create the run folder (" + error.message() +
                         "); pick a writable path");
      // Held to the end: a second `repro train` into this folder refuses instead of interleaving.
      lock = std::make_unique<FolderLock>(out);
      // A run folder holds one run: never write over another run's files, or read them as ours.
      const std::vector<std::string> present = run_entries_present(out);
      if (cli.resume.empty() && !present.empty() && !cli.overwrite)
        throw InputError("--out " + out + ": holds another run (" + describe_entries(present) +
                         "); go on with it (repro train --resume " + shell_word(out) +
                         "), train into a new --out, or replace it with --overwrite");
    }
    owned = std::make_unique<Trainer>(config, options);
    owned->set_run_dir(out);
    if (!cli.resume.empty()) {
      from = restore_latest_checkpoint(out, *owned);
    } else if (lead && cli.overwrite) {
      // The config, data and model are good: only now does the old run go, all of it.
      remove_run_entries(out);
    }
  } catch (...) {
    failure = std::current_exception();
    // Nothing was written yet: a folder this run created goes again (its lock file first).
    if (created_out) {
      lock.reset();
      std::error_code ignored;  // best effort: the error being reported is the one above
      std::filesystem::remove(std::filesystem::path(out) / ".lock", ignored);
      std::filesystem::remove(out, ignored);  // only when empty
    }
  }
  agree_on_failure(comm, failure);
  Trainer& trainer = *owned;
  const bool quiet = cli.quiet || !lead;
  if (!cli.resume.empty() && !quiet)
    std::printf("Resuming from %s (epoch %d, batch %lld, step %lld)\n", from.c_str(),
                trainer.state().epoch + 1, static_cast<long long>(trainer.state().batch),
                static_cast<long long>(trainer.state().global_step));
  // Ctrl-C or SIGTERM: finish the step, write a checkpoint, say how to resume, exit 130.
  stop_requested = 0;
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  trainer.set_stop_flag(&stop_requested);
  // Under a launcher stdout is mpirun's pseudo-terminal, whatever mpirun writes to: plain lines.
  ProgressPrinter printer(isatty(fileno(stdout)) != 0 && !launch_from_environment().launched);
  TrainObserver silent;
  trainer.run(quiet ? static_cast<TrainObserver&>(silent) : printer, cli.steps);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!lead) return trainer.stopped() ? 130 : 0;
  // Every run leaves a whole run folder, a stopped one too: its finished epochs, its weights
  // and where it stopped, so compare and report read it like any other.
  trainer.write_run_folder(out);
  const std::string resume = "repro train --resume " + shell_word(out);
  const std::optional<StopRecord> stop = trainer.stop_record();
  if (trainer.stopped()) {
    std::fflush(stdout);
    std::fprintf(stderr,
                 "\nrepro: stopped at %s; history.json holds %zu finished epoch(s); checkpoint "
                 "%s\nresume with: %s\n",
                 stop_place(*stop, trainer).c_str(), trainer.state().epochs.size(),
                 trainer.last_checkpoint().c_str(), resume.c_str());
    return 130;
  }
  if (!cli.quiet) {
    const CallbackState& c = trainer.state().callbacks;
    if (trainer.state().early_stopped)
      std::printf("Epoch %lld: early stopping (%s: no improvement in %d epoch(s))\n",
                  static_cast<long long>(c.stopped_epoch + 1),
                  trainer.config().training.early_stopping.monitor.monitor.c_str(),
                  trainer.config().training.early_stopping.patience);
    if (trainer.state().restored_best)
      std::printf("Restoring model weights from the end of the best epoch: %lld.\n",
                  static_cast<long long>(c.best_epoch + 1));
    if (c.saved_epoch >= 0)
      std::printf("Best epoch by %s: %lld, its weights in %s/best.safetensors\n",
                  trainer.config().training.checkpoint.best_monitor.monitor.c_str(),
                  static_cast<long long>(c.saved_epoch + 1), out.c_str());
    if (stop) {
      std::printf(
          "Stopped at %s by --steps %lld: no test evaluation ran (run.json's "
          "test_accuracy is null)\n",
          stop_place(*stop, trainer).c_str(), static_cast<long long>(cli.steps));
    } else if (trainer.tested()) {
      std::printf("Model accuracy on test data: %.2f%%\n", trainer.test_metrics().accuracy * 100.0);
    } else {
      std::printf(
          "The data has no test split: no test evaluation (run.json's test_accuracy is "
          "null)\n");
    }
    std::printf("Run folder: %s\n", out.c_str());
    if (stop && !trainer.last_checkpoint().empty()) std::printf("Go on with: %s\n", resume.c_str());
    std::printf("Curves and run.json in one HTML file: repro report %s\n", shell_word(out).c_str());
  }
  if (cli.profile) print_profile(trainer);
  return 0;
}

}  // namespace

void setup_train(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<TrainCliOptions>();
  auto* cmd = app.add_subcommand("train", "Train a config and write its run folder");
  cmd->add_option("config", options->config,
                  "The run's YAML config (with --resume: optional, the checkpoint holds it)");
  cmd->add_option("--out", options->out, "Run folder (default runs/<config name>)");
  cmd->add_option("--set", options->sets, "Override a config key: key.path=value (repeatable)");
  cmd->add_option("--device", options->device, "cpu or cuda (overrides the config)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--backend", options->backend,
                  "reference, onednn, portable, cudnn or portable_cuda (default: by device and "
                  "determinism)")
      ->check(CLI::IsMember(backend_names()));
  cmd->add_option("--threads", options->threads,
                  "CPU threads (default: the config's, else all cores)")
      ->check(integer_range(1, limits::threads));
  cmd->add_option("--epochs", options->epochs, "Epochs (overrides training.epochs)")
      ->check(integer_range(1, limits::epochs));
  cmd->add_option("--seed", options->seed, "The run seed (overrides seed, as --set seed=N)")
      ->check(integer_range(0, limits::seed));
  cmd->add_option("--steps", options->steps,
                  "Stop after N optimizer steps in all and write the run folder (for quick checks)")
      ->check(integer_range(1, limits::steps));
  cmd->add_option("--resume", options->resume,
                  "Continue the run in this folder from its newest checkpoint");
  cmd->add_flag("--overwrite", options->overwrite,
                "Replace the run already in the --out folder (every file repro wrote there)");
  cmd->add_flag("--quiet", options->quiet, "Print nothing but errors");
  cmd->add_flag("--profile", options->profile,
                "Print time per op kind, data wait, optimizer and peak RSS at the end");
  cmd->callback([options, &exit_code] { exit_code = run_train(*options); });
}

}  // namespace repro::app
