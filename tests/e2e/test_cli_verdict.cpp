// A verdict rests on evidence, on real MNIST: compare never says SAME for runs whose
// architecture, final weights or recorded results differ; "nothing compared" is an input error;
// a run folder holds one run (train over it refuses, --overwrite leaves no old file); --steps
// says where it stopped and records no test metrics; runs that differ from the start part
// "before step 1"; a hand-edited model.safetensors is named as changed after the run.
#include <catch2/catch.hpp>

#include "support/skip.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_cli.h"

namespace fs = std::filesystem;
using repro_test::contains;
using repro_test::data_env;
using repro_test::run_repro;
using repro_test::scratch_dir;
using repro_test::slurp_file;

namespace {

// `repro train configs/tiny.yaml ARGS --quiet --out DIR`, required to succeed.
void train(const std::string& env, const fs::path& out, const std::string& args) {
  const auto run =
      run_repro(env, "train configs/tiny.yaml " + args + " --quiet --out '" + out.string() + "'");
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
}

repro_test::CliResult compare(const fs::path& a, const fs::path& b, const std::string& flags = "") {
  return run_repro("", "compare '" + a.string() + "' '" + b.string() + "' " + flags);
}

nlohmann::json read_json(const fs::path& path) { return nlohmann::json::parse(slurp_file(path)); }

// The first line of `text` that starts with `prefix`, or "".
std::string line_starting(const std::string& text, const std::string& prefix) {
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end == std::string::npos ? end : end - start);
    if (line.rfind(prefix, 0) == 0) return line;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return "";
}

}  // namespace

TEST_CASE("compare: two different models stopped mid-epoch DIFFER, architecture first") {
  const std::string env = data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path dir = scratch_dir("verdict_models");
  train(env, dir / "a", "--steps 10");
  train(env, dir / "b", "--steps 10 --set seed=8 --set model.0.conv2d.filters=4");
  // Both histories are empty: no epoch finished.
  REQUIRE(read_json(dir / "a" / "history.json").empty());
  REQUIRE(read_json(dir / "b" / "history.json").empty());

  const auto folders = compare(dir / "a", dir / "b");
  INFO(folders.out << folders.err);
  CHECK(folders.exit_code == 1);
  // Said first, in one line, before the table.
  CHECK(folders.out.rfind("architecture: differs: weight conv2d/kernel is 3x3x1x8 in A, "
                          "3x3x1x4 in B\n",
                          0) == 0);
  CHECK(contains(folders.out,
                 "verdict: DIFFER (numpy.allclose: rtol=1e-05, atol=1e-08): "
                 "architecture ("));
  CHECK(!contains(folders.out, "verdict: SAME"));

  // A different layer list is named by its first differing layer.
  train(env, dir / "c", "--steps 10 --set model.2.dropout.rate=0.0");
  const fs::path yaml = dir / "pool.yaml";
  {
    std::ofstream out(yaml);
    out << slurp_file(fs::path(REPRO_SOURCE_DIR) / "configs/tiny.yaml");
  }
  std::string text = slurp_file(yaml);
  const std::string dropout = "  - dropout: {rate: 0.1}\n";
  REQUIRE(contains(text, dropout));
  text.replace(text.find(dropout), dropout.size(), "");
  {
    std::ofstream out(yaml);
    out << text;
  }
  const auto fewer = run_repro(
      env, "train '" + yaml.string() + "' --steps 10 --quiet --out '" + (dir / "d").string() + "'");
  REQUIRE(fewer.exit_code == 0);
  const auto layers = compare(dir / "c", dir / "d", "--exact");
  INFO(layers.out);
  CHECK(layers.exit_code == 1);
  CHECK(contains(layers.out,
                 "architecture: differs: layer 2 is dropout in A, flatten in B "
                 "(A has 5 layers, B 4)"));

  // The two empty histories given as files: nothing to compare is an input error.
  const auto files = compare(dir / "a" / "history.json", dir / "b" / "history.json");
  INFO(files.err);
  CHECK(files.exit_code == 2);
  CHECK(contains(files.err, "nothing to compare: both histories are empty"));
  CHECK(contains(files.err, "compare the run folders instead"));
  CHECK(files.out.empty());

  // The same run twice, stopped mid-epoch: the final weights are the evidence.
  train(env, dir / "a2", "--steps 10");
  const auto same = compare(dir / "a", dir / "a2", "--exact");
  INFO(same.out);
  CHECK(same.exit_code == 0);
  CHECK(contains(same.out, "final weights: 4,010 values identical"));
  fs::remove_all(dir);
}

TEST_CASE("train --out over another run refuses, and --overwrite leaves no file of the old run") {
  const std::string env = data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path dir = scratch_dir("verdict_overwrite");
  const fs::path x = dir / "x";
  // The old run: traced, checkpointed, 3 epochs of 2,048 images.
  const std::string old_args =
      "--set data.limit=2048 --epochs 3 --set training.trace.every=16 "
      "--set training.checkpoint.every=epoch";
  train(env, x, old_args);
  fs::copy(x, dir / "old", fs::copy_options::recursive);
  const std::string old_run_json = slurp_file(x / "run.json");

  const auto refused = run_repro(env, "train configs/tiny.yaml --quiet --out '" + x.string() + "'");
  INFO(refused.err);
  CHECK(refused.exit_code == 2);
  CHECK(contains(refused.err,
                 "holds another run (run.json, history.json, model.safetensors, "
                 "trace.jsonl, steps.csv and checkpoints/)"));
  CHECK(contains(refused.err, "--resume"));
  CHECK(contains(refused.err, "--overwrite"));
  CHECK(slurp_file(x / "run.json") == old_run_json);  // untouched

  // A bad config with --overwrite fails before anything of the old run goes.
  const auto bad = run_repro(env,
                             "train configs/tiny.yaml --set data.batch_size=0 --overwrite "
                             "--quiet --out '" +
                                 x.string() + "'");
  CHECK(bad.exit_code == 2);
  CHECK(slurp_file(x / "run.json") == old_run_json);

  // --overwrite with another config: no trace, no checkpoints, nothing of the old run left.
  train(env, x, "--overwrite --set training.log.every=0");
  for (const char* gone : {"trace.jsonl", "checkpoints", "steps.csv"}) {
    INFO(gone);
    CHECK(!fs::exists(x / gone));
  }
  const auto record = read_json(x / "run.json");
  CHECK(record.at("run_id") != read_json(dir / "old" / "run.json").at("run_id"));

  const auto compared = compare(x, dir / "old", "--exact");
  INFO(compared.out << compared.err);
  CHECK(compared.exit_code == 1);
  CHECK(contains(compared.out, "verdict: DIFFER"));
  CHECK(!contains(compared.out, "digests agree"));
  fs::remove_all(dir);
}

TEST_CASE("resume refuses a folder whose checkpoints belong to another run, and writes nothing") {
  const std::string env = data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path dir = scratch_dir("verdict_mixed");
  train(env, dir / "a", "--steps 10");
  train(env, dir / "b", "--steps 10");
  // b's folder now holds a's checkpoints beside b's run.json.
  fs::remove_all(dir / "b" / "checkpoints");
  fs::copy(dir / "a" / "checkpoints", dir / "b" / "checkpoints", fs::copy_options::recursive);
  const std::string before = slurp_file(dir / "b" / "run.json");
  const auto resumed = run_repro(env, "train --resume '" + (dir / "b").string() + "' --quiet");
  INFO(resumed.out << resumed.err);
  CHECK(resumed.exit_code == 2);
  CHECK(contains(
      resumed.err,
      "belongs to run " + read_json(dir / "a" / "run.json").at("run_id").get<std::string>()));
  CHECK(contains(resumed.err, "the folder mixes two runs"));
  CHECK(slurp_file(dir / "b" / "run.json") == before);
  // The folder's own checkpoints resume.
  const auto own = run_repro(env, "train --resume '" + (dir / "a").string() + "' --quiet");
  INFO(own.err);
  CHECK(own.exit_code == 0);
  fs::remove_all(dir);
}

TEST_CASE("train --steps says where it stopped, records no test metrics, and goes on to the end") {
  const std::string env = data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path dir = scratch_dir("verdict_steps");
  train(env, dir / "full", "");
  for (const int steps : {10, 20}) {  // tiny.yaml: 16 steps per epoch, so epochs 1 and 2
    const fs::path run = dir / ("steps" + std::to_string(steps));
    const auto stopped = run_repro(env, "train configs/tiny.yaml --steps " + std::to_string(steps) +
                                            " --out '" + run.string() + "'");
    INFO(stopped.out << stopped.err);
    REQUIRE(stopped.exit_code == 0);
    const int epoch = steps < 16 ? 1 : 2;
    CHECK(contains(stopped.out, "Stopped at epoch " + std::to_string(epoch) + " of 2, batch " +
                                    std::to_string(steps - 16 * (epoch - 1)) + " of 16 (step " +
                                    std::to_string(steps) + ") by --steps " +
                                    std::to_string(steps) + ": no test evaluation ran"));
    CHECK(!contains(stopped.out, "Model accuracy on test data"));
    const auto record = read_json(run / "run.json");
    CHECK(record.at("test_accuracy").is_null());
    CHECK(record.at("test_loss").is_null());
    CHECK(record.at("tested") == false);
    CHECK(record.at("completed") == false);
    CHECK(record.at("stopped").at("step") == steps);
    CHECK(read_json(run / "history.json").value("val_accuracy", nlohmann::json::array()).size() ==
          static_cast<size_t>(epoch - 1));

    // The printed "Go on with" command finishes the run with the uninterrupted run's bits.
    const std::string go_on = line_starting(stopped.out, "Go on with: repro ");
    REQUIRE(!go_on.empty());
    const auto resumed =
        run_repro(env, go_on.substr(std::string("Go on with: repro ").size()) + " --quiet");
    INFO(resumed.err);
    REQUIRE(resumed.exit_code == 0);
    const auto compared = compare(run, dir / "full", "--exact");
    INFO(compared.out);
    CHECK(compared.exit_code == 0);
    CHECK(read_json(run / "run.json").at("test_accuracy").is_number());
  }
  fs::remove_all(dir);
}

TEST_CASE("runs whose seeds differ part before step 1, at the initial weights") {
  const std::string env = data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path dir = scratch_dir("verdict_seeds");
  train(env, dir / "a", "--steps 20 --set training.trace.every=5");
  train(env, dir / "b", "--steps 20 --set training.trace.every=5 --set seed=8");
  const auto compared = compare(dir / "a", dir / "b", "--exact");
  INFO(compared.out);
  CHECK(compared.exit_code == 1);
  CHECK(contains(compared.out,
                 "first divergence: before step 1 (initial weights differ: conv2d "
                 "kernel)"));
  CHECK(contains(compared.out, "weights: differ from the start (the initial weights differ)"));
  fs::remove_all(dir);
}

TEST_CASE("a hand-edited model.safetensors is named as changed after the run") {
  const std::string env = data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path dir = scratch_dir("verdict_edited");
  train(env, dir / "a", "");
  fs::copy(dir / "a", dir / "b", fs::copy_options::recursive);
  REQUIRE(compare(dir / "a", dir / "b", "--exact").exit_code == 0);

  // One bit of the last weight flipped, in both copies alike: still never SAME.
  for (const char* run : {"a", "b"}) {
    const fs::path weights = dir / run / "model.safetensors";
    std::string bytes = slurp_file(weights);
    bytes.back() = static_cast<char>(bytes.back() ^ 1);
    std::ofstream(weights, std::ios::binary | std::ios::trunc) << bytes;
    const auto edited = compare(dir / run, dir / "a", "--exact");
    INFO(edited.out);
    CHECK(edited.exit_code == 1);
    CHECK(contains(edited.out, "A: model.safetensors changed after the run (its weights' SHA-256"));
  }
  const auto report = run_repro("", "report '" + (dir / "a").string() + "' --out '" +
                                        (dir / "r.html").string() + "' --quiet");
  CHECK(report.exit_code == 0);
  CHECK(contains(slurp_file(dir / "r.html"), "model.safetensors changed after the run"));

  // history.json edited: its digest no longer matches run.json's.
  train(env, dir / "c", "");
  std::string history = slurp_file(dir / "c" / "history.json");
  history.insert(history.find('[') + 1, "0.5, ");
  std::ofstream(dir / "c" / "history.json", std::ios::trunc) << history;
  const auto changed = compare(dir / "c", dir / "c");
  INFO(changed.out << changed.err);
  CHECK(changed.exit_code == 1);
  CHECK(contains(changed.out, "A: history.json changed after the run"));
  fs::remove_all(dir);
}

TEST_CASE("usage errors exit 2: --keys naming no key, --vary on an unknown key, a non-run folder") {
  const std::string env = data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path dir = scratch_dir("verdict_usage");
  train(env, dir / "a", "");
  const auto keys = compare(dir / "a", dir / "a", "--keys nosuch");
  CHECK(keys.exit_code == 2);
  CHECK(contains(keys.err,
                 "--keys nosuch: no such key in A or B (their keys: accuracy, loss, "
                 "val_accuracy, val_loss)"));
  const auto some =
      compare(dir / "a" / "history.json", dir / "a" / "history.json", "--keys loss,nosuch");
  CHECK(some.exit_code == 2);

  const auto vary = run_repro(
      env, "check configs/tiny.yaml --vary nosuch=1,2 --out '" + (dir / "check").string() + "'");
  INFO(vary.out << vary.err);
  CHECK(vary.exit_code == 2);
  CHECK(contains(vary.err, "--vary nosuch=1,2: "));

  fs::create_directories(dir / "empty");
  const auto folder = compare(dir / "empty", dir / "a");
  CHECK(folder.exit_code == 2);
  CHECK(contains(folder.err, "not a run folder (no run.json)"));

  // A run folder alone names its run: resume without a config after the run ended is refused
  // for want of a checkpoint, with the way on.
  const auto resume = run_repro(env, "train --resume '" + (dir / "a").string() + "' --quiet");
  CHECK(resume.exit_code == 2);
  CHECK(contains(resume.err, "no checkpoint"));
  const auto none = run_repro(env, "train");
  CHECK(none.exit_code == 2);
  fs::remove_all(dir);
}

TEST_CASE("early stopping, the best checkpoint and a lowered rate resume to the same bits") {
  const std::string env = data_env();
  if (env.empty()) REPRO_SKIP("no MNIST found (set REPRO_DATA_DIR to a folder holding mnist/)");
  const fs::path dir = scratch_dir("verdict_callbacks");
  const fs::path config = dir / "callbacks.yaml";
  std::ofstream(config) << "seed: 7\n"
                           "data: {dataset: mnist, limit: 2048, batch_size: 64, resize: [16, 16]}\n"
                           "model:\n"
                           "  - conv2d: {filters: 8, kernel_size: 3, activation: relu}\n"
                           "  - max_pooling2d: {pool_size: 2}\n"
                           "  - flatten: {}\n"
                           "  - dense: {units: 10, activation: softmax}\n"
                           "training:\n"
                           "  epochs: 12\n"
                           "  optimizer: {name: adam, learning_rate: 0.05}\n"
                           "  checkpoint: {every: epoch, best: {monitor: val_accuracy}}\n"
                           "  early_stopping: {patience: 2, restore_best_weights: true}\n"
                           "  reduce_lr_on_plateau: {factor: 0.5, patience: 1}\n";
  const auto straight =
      run_repro(env, "train '" + config.string() + "' --out '" + (dir / "straight").string() + "'");
  INFO(straight.out << straight.err);
  REQUIRE(straight.exit_code == 0);
  CHECK(contains(straight.out, ": early stopping (val_loss: no improvement in 2 epoch(s))"));
  CHECK(contains(straight.out, "Restoring model weights from the end of the best epoch: "));
  const auto record = read_json(dir / "straight" / "run.json");
  const int64_t stopped = record.at("early_stopping").at("stopped_epoch").get<int64_t>();
  CHECK(stopped < 12);
  CHECK(record.at("completed") == true);
  CHECK(record.at("stopped").is_null());
  const auto history = read_json(dir / "straight" / "history.json");
  CHECK(history.at("loss").size() == static_cast<size_t>(stopped));
  CHECK(history.at("learning_rate").size() == static_cast<size_t>(stopped));
  CHECK(history.at("learning_rate").back().get<double>() < 0.05);  // lowered on the plateau
  CHECK(fs::exists(dir / "straight" / "best.safetensors"));
  // The test split is evaluated on the restored best weights.
  const int64_t best = record.at("early_stopping").at("best_epoch").get<int64_t>();
  CHECK(record.at("test_loss").get<double>() ==
        history.at("val_loss")[static_cast<size_t>(best - 1)].get<double>());

  // Stopped mid-run (epoch 3), then resumed from the folder alone: the same bits, files included.
  const fs::path run = dir / "resumed";
  REQUIRE(run_repro(env, "train '" + config.string() + "' --steps 70 --quiet --out '" +
                             run.string() + "'")
              .exit_code == 0);
  const auto resumed = run_repro(env, "train --resume '" + run.string() + "' --quiet");
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  const auto compared = compare(run, dir / "straight", "--exact");
  INFO(compared.out);
  CHECK(compared.exit_code == 0);
  CHECK(slurp_file(run / "best.safetensors") == slurp_file(dir / "straight" / "best.safetensors"));
  fs::remove_all(dir);
}
