// repro evaluate RUN [--checkpoint STEP] [--split test|train|validation]: Keras's evaluate() on a
// saved run: the loss and accuracy of its weights, computed by the same code as the run's own
// evaluation, so the final weights on the test split give the bits run.json recorded. Wiring only.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/error.h"
#include "record/history.h"
#include "train/saved_run.h"

namespace repro::app {

namespace {

struct EvaluateOptions {
  std::string run;
  int64_t checkpoint = -1;
  std::string split = "test";
  int threads = 0;
  bool json = false;
};

int run_evaluate(const EvaluateOptions& options) {
  const SavedRun run = open_saved_run(options.run, options.checkpoint);
  const auto trainer = inference_trainer(run, options.threads);
  const bool test = options.split == "test";
  const EpochMetrics m =
      trainer->evaluate(test                            ? Trainer::Split::test
                        : options.split == "validation" ? Trainer::Split::validation
                                                        : Trainer::Split::train);
  // The same bits as the run's own test evaluation, where there is one to hold them against.
  const bool comparable = test && options.checkpoint < 0 && run.record.tested;
  const bool same = comparable && static_cast<double>(m.loss) == run.record.test_loss &&
                    static_cast<double>(m.accuracy) == run.record.test_accuracy;
  const std::string weights = options.checkpoint < 0
                                  ? "final weights"
                                  : "checkpoint step " + std::to_string(options.checkpoint);
  if (options.json) {
    nlohmann::ordered_json out = {{"run", options.run},
                                  {"weights", weights},
                                  {"split", options.split},
                                  {"loss", static_cast<double>(m.loss)},
                                  {"accuracy", static_cast<double>(m.accuracy)}};
    out["matches_run_json"] = comparable ? nlohmann::ordered_json(same) : nullptr;
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("%s (%s), %s split: loss: %s - accuracy: %s\n", options.run.c_str(),
                weights.c_str(), options.split.c_str(), python_float_repr(m.loss).c_str(),
                python_float_repr(m.accuracy).c_str());
    if (comparable)
      std::printf("%s\n", same ? "run.json recorded the same test loss and accuracy, bit for bit"
                               : ("run.json recorded other values (loss " +
                                  python_float_repr(run.record.test_loss) + ", accuracy " +
                                  python_float_repr(run.record.test_accuracy) +
                                  "): another build, backend or library version?")
                                     .c_str());
  }
  return 0;
}

}  // namespace

void setup_evaluate(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<EvaluateOptions>();
  auto* cmd = app.add_subcommand("evaluate",
                                 "Loss and accuracy of a run's saved weights (Keras's evaluate())");
  cmd->add_option("RUN", options->run, "the run folder (the --out of repro train)")->required();
  cmd->add_option("--checkpoint", options->checkpoint,
                  "the weights of the checkpoint of this step (default: the final weights)")
      ->check(integer_range(0, limits::steps));
  cmd->add_option("--split", options->split,
                  "test, train (the training split, unshuffled) or validation (the images "
                  "data.validation_split held out)")
      ->check(CLI::IsMember({"test", "train", "validation"}))
      ->capture_default_str();
  cmd->add_option("--threads", options->threads, "CPU threads (default: the run's)")
      ->check(integer_range(1, limits::threads));
  cmd->add_flag("--json", options->json, "print the result as JSON");
  cmd->callback([options, &exit_code] { exit_code = run_evaluate(*options); });
}

}  // namespace repro::app
