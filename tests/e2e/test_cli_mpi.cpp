// Data-parallel ranks end to end: `mpirun -n K repro train` writes the single process's bits
// (history, weight digests, traces) for K = 1, 2, 4, on tiny.yaml and on the recipe; checkpoints
// resume across rank counts; a bad input, a dead rank and Ctrl-C end every rank cleanly; and
// `repro check --vary ranks=...`. Skipped without mpirun or without an MPI build.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

#include <fstream>

#include "data/cifar_files.h"
#include "data/image_files.h"
#include "dist/communicator.h"
#include "run_cli.h"

using repro_test::mnist_parent_dir;
using repro_test::run_repro;
using repro_test::scratch_dir;
using repro_test::slurp_file;

namespace {

// Why the MPI tests cannot run here, or "" when they can.
std::string mpi_missing() {
  if (!repro::built_with_mpi())
    return "repro was built without MPI (REPRO_WITH_MPI=OFF or no libopenmpi-dev)";
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0)
    return "no mpirun on PATH (openmpi-bin)";
  return "";
}

// Why an MPI test cannot run here ("" when it can); `data` gets the folder holding mnist/.
std::string cannot_run(std::string& data) {
  data = mnist_parent_dir();
  if (data.empty()) return "no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)";
  return mpi_missing();
}

// "mpirun -n K ...", and with REPRO_DATA_DIR=... as run_repro's env prefix (the binary follows).
std::string launcher(int ranks) {
  return "mpirun -n " + std::to_string(ranks) + " --oversubscribe" +
         (geteuid() == 0 ? " --allow-run-as-root" : "");
}
// Open MPI's shared-memory transport copies through the sender (CMA) by default, which
// containers often forbid (ptrace); plain copies work everywhere.
const std::string kMpiEnv = "OMPI_MCA_btl_vader_single_copy_mechanism=none ";
std::string mpirun(const std::string& data, int ranks) {
  return kMpiEnv + "REPRO_DATA_DIR='" + data + "' " + launcher(ranks);
}

// A shell command that runs in the source tree and execs `mpirun ...` (so its pid is mpirun's).
std::string exec_mpirun(const std::string& data, int ranks) {
  return "cd '" + std::string(REPRO_SOURCE_DIR) + "' && export " + kMpiEnv + "REPRO_DATA_DIR='" +
         data + "' && exec " + launcher(ranks);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The env prefix of a run without mpirun.
std::string one_process(const std::string& data) { return "REPRO_DATA_DIR='" + data + "'"; }

// Runs `ENV repro ARGS` and requires exit 0; returns its output.
repro_test::CliResult require_trains(const std::string& env, const std::string& args) {
  auto r = run_repro(env, args);
  INFO(env << " repro " << args << "\n" << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

// Exit 0 from `repro compare --exact A B`, which compares history, weight digests and traces.
void require_same(const std::string& a, const std::string& b) {
  const auto compared = require_trains("", "compare --exact '" + a + "' '" + b + "'");
  REQUIRE(compared.out.find("SAME") != std::string::npos);
}

// The short last batch (500 = 15 * 32 + 20: chunks of 8, 8, 4) leaves a rank of 4 without a
// chunk; traces every step compare every gradient and activation.
const std::string kTiny = "configs/tiny.yaml --set data.limit=500 --set training.trace.every=1";

}  // namespace

namespace {

// Starts `sh -c COMMAND` (which should exec its last program) with its output in LOG; once
// `ready()`, runs `act` with the pid; waits at most `limit_s` seconds for the end and returns the
// wait status (-1: still running after the limit, then killed).
int run_until(const std::string& command, const std::string& log,
              const std::function<bool()>& ready, const std::function<void(pid_t)>& act,
              int limit_s) {
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    const std::string full = command + " >'" + log + "' 2>&1";
    execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  bool acted = false;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(limit_s)) {
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    if (!acted && ready()) {
      act(pid);
      acted = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(-pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

}  // namespace

TEST_CASE(
    "mpirun -n 1, 2 and 4 train tiny.yaml to the single process's history, weights and traces") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto dir = scratch_dir("mpi_tiny");
  const std::string reference = (dir / "one").string();
  require_trains(one_process(data), "train " + kTiny + " --quiet --out '" + reference + "'");
  for (int ranks : {1, 2, 4}) {
    const std::string run = (dir / ("ranks" + std::to_string(ranks))).string();
    // Without --quiet: only rank 0 prints.
    const auto r = require_trains(mpirun(data, ranks), "train " + kTiny + " --out '" + run + "'");
    REQUIRE(count(r.out, "Epoch 1/2") == 1);
    REQUIRE(count(r.out, "Run folder: ") == 1);
    require_same(reference, run);
    const std::string record = slurp_file(std::filesystem::path(run) / "run.json");
    REQUIRE(record.find("\"ranks\": " + std::to_string(ranks)) != std::string::npos);
    REQUIRE(record.find("\"hosts\": [") != std::string::npos);
    REQUIRE(record.find("\"rank_threads\": [") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("mpirun -n 4 trains the recipe for 122 steps to the single process's bits") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto dir = scratch_dir("mpi_recipe");
  // 3,850 images: 60 batches of 64 and one of 10 per epoch, two epochs with validation.
  const std::string args =
      "train configs/mnist_recipe.yaml --set data.limit=3850 "
      "--set training.trace.every=10 --quiet --out ";
  const std::string reference = (dir / "one").string(), run = (dir / "four").string();
  require_trains(one_process(data), args + "'" + reference + "'");
  require_trains(mpirun(data, 4), args + "'" + run + "'");
  require_same(reference, run);
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "a checkpoint written by 2 ranks resumes on 4 ranks and one written by 4 on one process") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto dir = scratch_dir("mpi_resume");
  const std::string args = "train " + kTiny + " --set training.checkpoint.every=5 --quiet ";
  const std::string reference = (dir / "one").string();
  require_trains(one_process(data), args + "--out '" + reference + "'");
  for (auto [first, second] : {std::pair{2, 4}, std::pair{4, 0}}) {
    const std::string run = (dir / ("from" + std::to_string(first))).string();
    // Stopped after 23 steps: the newest checkpoint is that of step 20, in epoch 2.
    require_trains(mpirun(data, first), args + "--steps 23 --out '" + run + "'");
    const std::string env = second > 0 ? mpirun(data, second) : one_process(data);
    require_trains(env, args + "--resume '" + run + "'");
    require_same(reference, run);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a bad config on one rank: every rank exits 2 with one message, no hang, no run files") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto dir = scratch_dir("mpi_bad");
  const std::string out = (dir / "run").string();

  // The same bad file on every rank: rank 0's message alone.
  auto missing = run_repro(mpirun(data, 2), "train configs/no_such.yaml --out '" + out + "'");
  INFO(missing.out << missing.err);
  REQUIRE(missing.exit_code == 2);
  REQUIRE(count(missing.err, "repro: ") == 1);
  REQUIRE(missing.err.find("no_such.yaml") != std::string::npos);

  // Only rank 1 fails (its data files are missing, as on a host without them): every rank
  // stops before the first collective, with rank 1's message.
  std::string missing_data = " --set data.dataset=idx";
  for (const char* key : {"train_images", "train_labels", "test_images", "test_labels"})
    missing_data += std::string(" --set data.") + key + "=/nonexistent/" + key;
  const std::string exe =
      "'" + std::string(REPRO_EXE) + "' train configs/tiny.yaml --out '" + out + "'";
  auto split = run_repro(
      mpirun(data, 1), "train configs/tiny.yaml --out '" + out + "' : -n 1 " + exe + missing_data);
  INFO(split.out << split.err);
  REQUIRE(split.exit_code == 2);
  REQUIRE(count(split.err, "repro: ") == 1);
  REQUIRE(split.err.find("repro: rank 1 (") != std::string::npos);
  REQUIRE(split.err.find("/nonexistent/") != std::string::npos);
  REQUIRE_FALSE(std::filesystem::exists(std::filesystem::path(out) / "history.json"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a rank killed mid-run ends the whole job with a message, no hang, no run files") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto dir = scratch_dir("mpi_kill");
  const std::string out = (dir / "run").string(), pid_file = (dir / "pid").string();
  const std::string train = "'" + std::string(REPRO_EXE) +
                            "' train configs/tiny.yaml --set data.limit=4096 --epochs 20 --out '" +
                            out + "'";
  // Rank 1 records its pid (exec keeps it) so the test can kill it.
  const std::string command = exec_mpirun(data, 1) + " " + train + " : -n 1 sh -c 'echo $$ >\"" +
                              pid_file + "\"; exec " + train + "'";
  const std::string log = (dir / "log").string();
  const int status = run_until(
      command, log, [&] { return slurp_file(log).find("Epoch 2/") != std::string::npos; },
      [&](pid_t) { kill(std::stoi(slurp_file(pid_file)), SIGKILL); }, 60);
  const std::string text = slurp_file(log);
  INFO(text);
  REQUIRE(status != -1);  // ended by itself, within the limit
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) != 0);
  REQUIRE(text.find("rank 1") != std::string::npos);
  REQUIRE_FALSE(std::filesystem::exists(std::filesystem::path(out) / "history.json"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("repro check --vary ranks=1,2,4 launches mpirun per value and passes") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto out = scratch_dir("mpi_check");
  const auto r = require_trains(
      kMpiEnv + one_process(data),
      "check configs/tiny.yaml --steps 20 --vary ranks=1,2,4 --out '" + out.string() + "'");
  REQUIRE(r.out.find("mpirun -n 4") != std::string::npos);
  REQUIRE(r.out.find("PASS: 3 runs bit-identical") != std::string::npos);
}

TEST_CASE(
    "determinism: portable under mpirun: 1, 2 and 3 ranks and the SSE2 path give one result") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto out = scratch_dir("mpi_portable");
  const std::string portable = kTiny + " --set determinism=portable --epochs 1 --quiet --out '";
  require_trains(one_process(data), "train " + portable + (out / "one").string() + "'");
  for (int ranks : {2, 3}) {
    const auto folder = out / ("ranks" + std::to_string(ranks));
    require_trains("REPRO_ISA=sse2 " + mpirun(data, ranks),
                   "train " + portable + folder.string() + "'");
    require_same((out / "one").string(), folder.string());
  }
  std::filesystem::remove_all(out);
}

TEST_CASE("a build without MPI refuses to train under a launcher that started several ranks") {
  if (repro::built_with_mpi())
    REPRO_SKIP("this repro is built with MPI (the refusal is for builds without it)");
  auto r = run_repro("OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0", "train configs/tiny.yaml");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 2);
  REQUIRE(r.err.find("built without MPI") != std::string::npos);
}

TEST_CASE("Ctrl-C to mpirun checkpoints on rank 0, and the run resumes to the uninterrupted bits") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto dir = scratch_dir("mpi_interrupt");
  // Epochs of 1,875 steps, a checkpoint every 500: the interrupt comes once the first is written
  // (mpirun's forwarded output lags too much to time it).
  const std::string args =
      "train configs/tiny.yaml --set data.limit=60000 "
      "--set training.validation=false --epochs 5 "
      "--set training.checkpoint.every=500";
  const std::string reference = (dir / "one").string(), run = (dir / "run").string();
  require_trains(one_process(data), args + " --quiet --out '" + reference + "'");
  // mpirun passes the interrupt on to every rank (as SIGTERM); they stop after the same step
  // and rank 0 writes the checkpoint. mpirun's own exit code is then non-zero.
  const std::string command =
      exec_mpirun(data, 2) + " '" + REPRO_EXE + "' " + args + " --out '" + run + "'";
  const std::string log = (dir / "log").string();
  const auto first = std::filesystem::path(run) / "checkpoints" / "step-000000500.json";
  const int status = run_until(
      command, log, [&] { return std::filesystem::exists(first); },
      [](pid_t pid) { kill(pid, SIGINT); }, 60);
  const std::string text = slurp_file(log);
  INFO(text);
  REQUIRE(status != -1);
  REQUIRE_FALSE(std::filesystem::is_empty(std::filesystem::path(run) / "checkpoints"));
  // Rank 0 wrote the stopped run's folder; the run goes on from the folder alone.
  REQUIRE(slurp_file(std::filesystem::path(run) / "run.json").find("\"reason\": \"signal\"") !=
          std::string::npos);
  require_trains(one_process(data), "train --quiet --resume '" + run + "'");
  require_same(reference, run);
  std::filesystem::remove_all(dir);
}

TEST_CASE("every data source gives the same bits for 1 and 2 ranks (cifar10, image_folder, csv)") {
  if (const std::string why = mpi_missing(); !why.empty()) REPRO_SKIP(why);
  const auto root = scratch_dir("mpi_sources");
  repro_test::write_cifar_archive(root / "cifar10", 20, 10);
  for (int i = 0; i < 24; ++i) {
    const std::vector<uint8_t> px = repro_test::rgb_pattern(10 + i % 3, 12, i);
    repro_test::write_bytes(root / "photos" /
                                (i % 3 == 0   ? "a"
                                 : i % 3 == 1 ? "b"
                                              : "c") /
                                ("p" + std::to_string(i) + ".png"),
                            repro_test::png_bytes(px, 10 + i % 3, 12, 2));
  }
  {
    std::ofstream table(root / "table.csv");
    table << "x,species,y\n";
    for (int i = 0; i < 90; ++i) table << (i % 7) * 0.5 << "," << i % 3 << "," << i * 0.1 << "\n";
  }
  // A plain CNN: batch normalization over ranks has its own test below.
  std::ofstream(root / "cifar.yaml")
      << "seed: 5\ndata: {dataset: cifar10, batch_size: 16}\nmodel:\n"
         "  - random_flip: {mode: horizontal}\n"
         "  - conv2d: {filters: 4, kernel_size: 3, activation: relu}\n"
         "  - max_pooling2d: {pool_size: 2}\n  - flatten: {}\n"
         "  - dense: {units: 10, activation: softmax}\n";
  const std::string env = kMpiEnv + "REPRO_DATA_DIR='" + root.string() + "'";
  const std::vector<std::string> configs = {
      "'" + (root / "cifar.yaml").string() + "' --steps 3",
      "configs/image_folder.yaml --steps 3 --set data.directory='" + (root / "photos").string() +
          "' --set data.image_size=[8,8]",
      "configs/csv_table.yaml --steps 8 --set data.path='" + (root / "table.csv").string() + "'"};
  for (const std::string& config : configs) {
    const auto r = require_trains(
        env, "check " + config + " --vary ranks=1,2 --out '" + (root / "check").string() + "'");
    INFO(config << "\n" << r.out);
    CHECK(r.out.find("PASS: 2 runs bit-identical") != std::string::npos);
  }
  std::filesystem::remove_all(root);
}

TEST_CASE(
    "a layer graph (residual add, concatenated branch, depthwise and separable convolutions) "
    "gives the same bits for 1 and 2 ranks") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto root = scratch_dir("mpi_graph");
  std::ofstream(root / "graph.yaml")
      << "seed: 1\ndata: {dataset: mnist, limit: 256, batch_size: 32, resize: [12, 12]}\n"
         "model:\n"
         "  - conv2d: {filters: 4, kernel_size: 3, padding: same, activation: relu, name: a}\n"
         "  - conv2d: {filters: 4, kernel_size: 3, padding: same}\n"
         "  - add: {inputs: [a, conv2d]}\n"
         "  - separable_conv2d: {filters: 2, kernel_size: 3, padding: same, inputs: [input], "
         "name: side}\n"
         "  - concatenate: {inputs: [add, side]}\n"
         "  - depthwise_conv2d: {kernel_size: 3, depth_multiplier: 2, activation: relu}\n"
         "  - flatten: {}\n  - dense: {units: 10, activation: softmax}\n";
  const auto r =
      require_trains(kMpiEnv + one_process(data), "check '" + (root / "graph.yaml").string() +
                                                      "' --steps 8 --vary ranks=1,2 --out '" +
                                                      (root / "check").string() + "'");
  CHECK(r.out.find("PASS: 2 runs bit-identical") != std::string::npos);
  std::filesystem::remove_all(root);
}

TEST_CASE("mpirun -n 2 splits layer_normalization over ranks to the single process's bits") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto dir = scratch_dir("mpi_layer_norm");
  std::ofstream(dir / "ln.yaml") << "seed: 6\n"
                                    "data: {dataset: mnist, limit: 200, batch_size: 60, resize: "
                                    "[12, 12]}\n"
                                    "model:\n"
                                    "  - conv2d: {filters: 8, kernel_size: 3}\n"
                                    "  - layer_normalization: {}\n"
                                    "  - flatten: {}\n"
                                    "  - dense: {units: 12, activation: silu}\n"
                                    "  - layer_normalization: {scale: false}\n"
                                    "  - dense: {units: 10, activation: softmax}\n"
                                    "training: {epochs: 1, optimizer: adam}\n";
  const std::string config = "'" + (dir / "ln.yaml").string() + "'";
  const std::string reference = (dir / "one").string(), split = (dir / "two").string();
  require_trains(one_process(data), "train " + config + " --quiet --out '" + reference + "'");
  require_trains(mpirun(data, 2), "train " + config + " --quiet --out '" + split + "'");
  require_same(reference, split);
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "mpirun -n 2 and 3 split batch_normalization over ranks to the single process's bits, a rank "
    "without images included") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto dir = scratch_dir("mpi_batch_norm");
  // 200 images in batches of 64: the last batch is 8 images, one chunk, so ranks 2 and 3 hold
  // none of it and still take part in its statistics (and move their moving statistics).
  std::ofstream(dir / "bn.yaml") << "seed: 8\n"
                                    "data: {dataset: mnist, limit: 200, batch_size: 64, resize: "
                                    "[12, 12]}\n"
                                    "model:\n"
                                    "  - conv2d: {filters: 6, kernel_size: 3, use_bias: false}\n"
                                    "  - batch_normalization: {}\n"
                                    "  - activation: {activation: relu}\n"
                                    "  - flatten: {}\n"
                                    "  - dense: {units: 12}\n"
                                    "  - batch_normalization: {center: false, momentum: 0.9}\n"
                                    "  - dense: {units: 10, activation: softmax}\n"
                                    "training: {epochs: 2, optimizer: adam, trace: {every: 1}}\n";
  const std::string config = "'" + (dir / "bn.yaml").string() + "'";
  const std::string reference = (dir / "one").string();
  require_trains(one_process(data), "train " + config + " --quiet --out '" + reference + "'");
  for (int ranks : {2, 3}) {
    const std::string split = (dir / ("ranks" + std::to_string(ranks))).string();
    require_trains(mpirun(data, ranks), "train " + config + " --quiet --out '" + split + "'");
    INFO(ranks << " ranks");
    require_same(reference, split);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("configs/resnet_small.yaml gives the same bits for 1 and 2 ranks") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto root = scratch_dir("mpi_resnet");
  const auto r = require_trains(
      kMpiEnv + one_process(data),
      "check configs/resnet_small.yaml --set data.dataset=mnist --set data.limit=192 "
      "--set data.resize=[14,14] --steps 4 --vary ranks=1,2 --out '" +
          (root / "check").string() + "'");
  CHECK(r.out.find("PASS: 2 runs bit-identical") != std::string::npos);
  std::filesystem::remove_all(root);
}

TEST_CASE(
    "configs/mnist_lstm.yaml (dropout and recurrent_dropout) gives the same bits for 1 and 2 "
    "ranks") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto root = scratch_dir("mpi_lstm");
  const auto r =
      require_trains(kMpiEnv + one_process(data),
                     "check configs/mnist_lstm.yaml --set data.limit=200 --set data.batch_size=40 "
                     "--set model.1.lstm.units=12 --steps 6 --vary ranks=1,2 --out '" +
                         (root / "check").string() + "'");
  CHECK(r.out.find("PASS: 2 runs bit-identical") != std::string::npos);
  std::filesystem::remove_all(root);
}

TEST_CASE(
    "bidirectional (lstm, both dropouts) and time_distributed give the same bits for 1 and 2 "
    "ranks") {
  std::string data;
  if (const std::string why = cannot_run(data); !why.empty()) REPRO_SKIP(why);
  const auto root = scratch_dir("mpi_wrappers");
  std::ofstream(root / "wrappers.yaml")
      << "seed: 3\ndata: {dataset: mnist, limit: 144, batch_size: 36, resize: [12, 12]}\n"
         "model:\n"
         "  - reshape: {target_shape: [12, 12]}\n"
         "  - bidirectional: {layer: {lstm: {units: 6, dropout: 0.1, recurrent_dropout: 0.2, "
         "return_sequences: true}}}\n"
         "  - time_distributed: {layer: {dense: {units: 4, activation: relu}}}\n"
         "  - bidirectional: {merge_mode: mul, layer: {gru: {units: 5}}}\n"
         "  - dense: {units: 10, activation: softmax}\n"
         "training: {epochs: 1}\n";
  const auto r = require_trains(kMpiEnv + one_process(data),
                                "check '" + (root / "wrappers.yaml").string() +
                                    "' --vary ranks=1,2 --out '" + (root / "check").string() + "'");
  CHECK(r.out.find("PASS: 2 runs bit-identical") != std::string::npos);
  std::filesystem::remove_all(root);
}
