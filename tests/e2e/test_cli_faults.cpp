// Faults lose nothing: a write that fails (disk full, a file size limit) exits 3 with one line,
// keeps the previous history.json and checkpoints and leaves no temp file; a run killed while
// writing a checkpoint resumes from the one before; a second run into a busy folder refuses.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include "run_cli.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using repro_test::CliResult;
using repro_test::run_repro;
using repro_test::slurp_file;

// Every file under `dir` whose name holds ".tmp." (a temp file left behind).
std::vector<std::string> temp_files(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp.") != std::string::npos)
      out.push_back(entry.path().string());
  return out;
}

struct Tiny {
  std::string env;
  fs::path dir;
  CliResult train(const fs::path& out, const std::string& extra,
                  const std::string& env_extra = "") {
    return run_repro(env + " " + env_extra, "train configs/tiny.yaml --threads 1 --quiet --out '" +
                                                out.string() + "' " + extra);
  }
};

}  // namespace

TEST_CASE("a write that fails exits 3 and keeps the previous run folder whole", "[e2e][faults]") {
  const std::string data = repro_test::mnist_parent_dir();
  if (data.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  Tiny tiny{"REPRO_DATA_DIR='" + data + "'", repro_test::scratch_dir("faults_write")};
  const fs::path run = tiny.dir / "run";
  fs::remove_all(run);
  // A run stopped at step 20: its folder holds its first epoch; resuming it rewrites every file.
  REQUIRE(tiny.train(run, "--steps 20").exit_code == 0);
  const std::string history = slurp_file(run / "history.json");
  const std::string record = slurp_file(run / "run.json");
  const std::string weights = slurp_file(run / "model.safetensors");
  const std::string resume = "train --resume '" + run.string() + "' --threads 1 --quiet";

  SECTION("the disk fills while run.json is written") {
    const CliResult full = run_repro(tiny.env + " REPRO_FAULT=fail:run.json", resume);
    CHECK(full.exit_code == 3);
    CHECK(full.err == "repro: " + (run / "run.json").string() +
                          ": write failed: No space left on device (the disk is full); the "
                          "previous file is unchanged. Free space or raise the limit, then run "
                          "again\n");
  }
  SECTION("a file size limit (RLIMIT_FSIZE) stops model.safetensors") {
    // 4 KiB: history.json fits, the weights (about 16 KB) do not.
    const CliResult limited = run_repro("ulimit -f 4; " + tiny.env, resume);
    CHECK(limited.exit_code == 3);
    CHECK(limited.err.find((run / "model.safetensors").string() +
                           ": write failed: File too large (a file size limit was hit)") !=
          std::string::npos);
  }
  // Nothing of the failed run reached the folder: all files are the first run's.
  CHECK(slurp_file(run / "history.json") == history);
  CHECK(slurp_file(run / "run.json") == record);
  CHECK(slurp_file(run / "model.safetensors") == weights);
  CHECK(temp_files(run).empty());
  fs::remove_all(tiny.dir);
}

TEST_CASE("a failed checkpoint write keeps the one before, and the run resumes from it",
          "[e2e][faults]") {
  const std::string data = repro_test::mnist_parent_dir();
  if (data.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  Tiny tiny{"REPRO_DATA_DIR='" + data + "'", repro_test::scratch_dir("faults_ckpt")};
  const std::string checkpoint = "--set training.checkpoint.every=epoch";
  const fs::path straight = tiny.dir / "straight", run = tiny.dir / "run";
  fs::remove_all(straight);
  fs::remove_all(run);
  REQUIRE(tiny.train(straight, checkpoint).exit_code == 0);

  SECTION("the disk fills while the epoch-2 checkpoint's tensors are written") {
    const CliResult full =
        tiny.train(run, checkpoint, "REPRO_FAULT=fail:step-000000032.safetensors");
    CHECK(full.exit_code == 3);
    CHECK(full.err.find("step-000000032.safetensors: write failed: No space left on device") !=
          std::string::npos);
  }
  SECTION("the process is killed (SIGKILL) halfway through the epoch-2 checkpoint's JSON") {
    const CliResult killed = tiny.train(run, checkpoint, "REPRO_FAULT=kill:step-000000032.json");
    CHECK(killed.exit_code != 0);
    CHECK(killed.exit_code != 3);
  }
  // Only the epoch-1 checkpoint is complete; the epoch-2 one left no file under its name.
  CHECK(fs::exists(run / "checkpoints/step-000000016.json"));
  CHECK(fs::exists(run / "checkpoints/step-000000016.safetensors"));
  CHECK_FALSE(fs::exists(run / "checkpoints/step-000000032.json"));
  CHECK_FALSE(fs::exists(run / "checkpoints/step-000000032.safetensors"));

  const CliResult resumed =
      run_repro(tiny.env, "train configs/tiny.yaml --threads 1 --quiet " + checkpoint +
                              " --resume '" + run.string() + "'");
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(slurp_file(run / "history.json") == slurp_file(straight / "history.json"));
  // steps.csv survives the resume: the same rows but for the wall time.
  auto without_seconds = [](const std::string& csv) {
    std::string out, line;
    std::istringstream lines(csv);
    while (std::getline(lines, line)) out += line.substr(0, line.rfind(',')) + "\n";
    return out;
  };
  const std::string steps = slurp_file(straight / "steps.csv");
  CHECK(steps.rfind("step,epoch,batch,accuracy,loss,batch_loss,learning_rate,wall_seconds\n10,1,9,",
                    0) == 0);
  CHECK(std::count(steps.begin(), steps.end(), '\n') == 4);  // steps 10, 20, 30
  CHECK(without_seconds(slurp_file(run / "steps.csv")) == without_seconds(steps));
  const CliResult same = run_repro("", "compare --exact '" + straight.string() +
                                           "/history.json' '" + run.string() + "/history.json'");
  CHECK(same.exit_code == 0);
  CHECK(temp_files(run).empty());  // the lock removed what the killed process left
  fs::remove_all(tiny.dir);
}

TEST_CASE("a second repro train into a run folder in use refuses at once", "[e2e][faults]") {
  const fs::path dir = repro_test::scratch_dir("faults_lock");
  const fs::path run = dir / "run";
  fs::create_directories(run);
  // Hold the folder's lock as a running `repro train` does.
  const int fd = ::open((run / ".lock").c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  const CliResult busy =
      run_repro("", "train configs/tiny.yaml --quiet --out '" + run.string() + "'");
  CHECK(busy.exit_code == 2);
  CHECK(busy.err == "repro: " + run.string() +
                        ": another repro process is writing this run folder; wait for it to "
                        "finish or pass another --out\n");
  ::close(fd);
  CHECK(fs::directory_iterator(run) != fs::directory_iterator());  // only .lock
  fs::remove_all(dir);
}
