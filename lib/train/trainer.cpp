// The training loop: pipeline batch -> model forward -> softmax cross-entropy -> backward ->
// optimizer step, with Keras's batch-size-weighted running means, and the run folder writer.
// Checkpoint files and signal handling are not here; TrainState holds what they need.
#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "core/error.h"
#include "core/fs.h"
#include "dist/agree.h"
#include "keras/keras_weights.h"
#include "record/safetensors.h"
#include "train/checkpoint.h"
#include "train/data_parallel.h"

namespace repro {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

PipelineOptions pipeline_options(const RunConfig& config, bool training, int threads) {
  PipelineOptions options;
  options.seed = config.seed;
  options.shuffle = training && config.data.shuffle;
  options.shuffle_buffer = config.data.shuffle_buffer;
  options.reshuffle_each_iteration = config.data.reshuffle_each_iteration;
  options.batch_size = config.data.batch_size;
  options.out_h = config.data.resize[0];
  options.out_w = config.data.resize[1];
  options.workers = config.data.num_parallel_calls > 0 ? config.data.num_parallel_calls : threads;
  options.prefetch = config.data.prefetch > 0 ? config.data.prefetch : 2;
  return options;
}

void check_labels(const Dataset& data, int classes, const std::string& split) {
  for (uint8_t label : data.labels)
    if (label >= classes)
      throw InputError("data: the " + split + " split has label " + std::to_string(label) +
                       " but the model's last layer has " + std::to_string(classes) +
                       " units; make the last dense layer at least " + std::to_string(label + 1) +
                       " units wide");
}

}  // namespace

std::string resolve_backend_name(const RunConfig& config, const std::string& name) {
  if (!name.empty()) return name;
  if (config.determinism == Determinism::portable)
    return config.device == Device::cuda ? "portable_cuda" : "portable";
  if (config.device == Device::cuda) return "cudnn";
  // A build without oneDNN serves on and off with the portable backend (repro env says so).
  return REPRO_HAVE_ONEDNN ? "onednn" : "portable";
}

std::string config_sha256(const RunConfig& config) {
  std::string text;
  for (const auto& [key, value] : flatten_config(config)) text += key + "=" + value + "\n";
  return sha256_hex(text.data(), text.size());
}

void Trainer::open_data(bool ranks) {
  splits_ = load_splits(config_.data);
  const FeatureShape& input = model_->input_shape();
  for (const Dataset* split : {&splits_.train, &splits_.test}) {
    if (split->count == 0) continue;  // no test split
    if (flat_input(config_) && split->channels != input.c)
      throw InputError("data: the table has " + std::to_string(split->channels) +
                       " feature columns but data.features says " + std::to_string(input.c) +
                       "; remove data.features (the header decides it)");
    if (split->channels != input.c)
      throw InputError("data: images have " + std::to_string(split->channels) + " channel(s) (" +
                       image_shape_text(*split) + ") but the config says " +
                       std::to_string(input.c) +
                       "; set data.channels: " + std::to_string(split->channels));
    if (config_.data.resize[0] == 0 && (split->rows != input.h || split->cols != input.w))
      throw InputError("data: images are " + std::to_string(split->rows) + "x" +
                       std::to_string(split->cols) + " but the model expects " +
                       std::to_string(input.h) + "x" + std::to_string(input.w) +
                       "; set data.resize: [" + std::to_string(split->rows) + ", " +
                       std::to_string(split->cols) + "] or resize to the model's input");
  }
  check_labels(splits_.train, model_->classes(), "training");
  check_labels(splits_.test, model_->classes(), "test");
  check_labels(splits_.validation, model_->classes(), "validation");
  const bool on_split = splits_.validation.count > 0;
  if (config_.training.validation && !on_split && splits_.test.count == 0)
    throw InputError("data: " + config_.data.dataset +
                     " data without a test split leaves training.validation nothing to evaluate: "
                     "set data.validation_split (e.g. 0.2) or training.validation: false");
  PipelineOptions train_options = pipeline_options(config_, true, threads_);
  PipelineOptions test_options = pipeline_options(config_, false, threads_);
  if (ranks) {  // a rank maps only the images of its chunks
    train_options.mapped_images = test_options.mapped_images = [this](int n) {
      const RankSpan span = rank_span(n, comm_->rank(), comm_->size());
      return std::pair<int, int>{span.first_image, span.first_image + span.images};
    };
  }
  train_pipeline_ = std::make_unique<Pipeline>(splits_.train, train_options);
  if (splits_.test.count > 0)
    test_pipeline_ = std::make_unique<Pipeline>(splits_.test, test_options);
  if (on_split) validation_pipeline_ = std::make_unique<Pipeline>(splits_.validation, test_options);
}

Trainer::Trainer(const RunConfig& config, const TrainOptions& options) : config_(config) {
  if (options.comm) comm_ = options.comm;
  threads_ = options.threads > 0 ? options.threads : config.threads;
  if (threads_ <= 0)
    threads_ = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) /
                               std::max(1, comm_->local_size()));
  config_.threads = threads_;
  if (config_.training.loss != "sparse_categorical_crossentropy")
    throw InputError("training.loss: only sparse_categorical_crossentropy is supported, got '" +
                     config_.training.loss + "'");

  BackendOptions backend_options;
  backend_options.threads = threads_;
  backend_options.deterministic = config_.determinism != Determinism::off;
  backend_options.isa = options.isa;
  backend_ = make_backend(resolve_backend_name(config_, options.backend), backend_options);
  const bool ranks = comm_->size() > 1;
  if (ranks && !backend_->chunk_grads_supported())
    throw InputError(
        "the " + backend_->name() + " backend runs as one process only (" +
        std::to_string(comm_->size()) +
        " ranks asked): train with the onednn or portable backend (device: cpu) or without "
        "mpirun");

  // The model first: a layer the backend cannot run is refused before any data is read (but a
  // table's header, which gives the model's input width).
  resolve_input(config_);
  model_ = std::make_unique<Model>(config_, *backend_, config_.data.batch_size, ranks);
  if (options.with_data) open_data(ranks);

  std::vector<std::string> names;
  std::vector<size_t> sizes;
  for (Parameter* p : model_->parameters()) {
    names.push_back(p->name);
    sizes.push_back(p->size());
    weights_.push_back(p->value);
    grads_.push_back(p->grad);
  }
  optimizer_ = make_optimizer(config_.training.optimizer, *backend_, names, sizes);
  if (ranks) parallel_ = std::make_unique<DataParallel>(*comm_, *model_, *backend_);
  if (!config_.initial_weights.empty() && !options.weights_follow) load_initial_weights();
  state_.run_id = new_run_id();
  state_.initial_weights_sha256 = weights_sha256();
}

// The first collective of a run: every rank's host and threads for run.json, and a check that
// every rank starts from the same weights and step (a resume read the same checkpoint).
void Trainer::join_ranks() {
  if (joined_) return;
  joined_ = true;
  const int ranks = comm_->size();
  struct Joined {
    char host[64] = {};
    int64_t threads = 0, step = 0;
    char weights[65] = {};
  } mine;
  std::snprintf(mine.host, sizeof mine.host, "%s", comm_->host().c_str());
  mine.threads = threads_;
  mine.step = state_.global_step;
  std::snprintf(mine.weights, sizeof mine.weights, "%s", weights_sha256().c_str());
  std::vector<Joined> all(ranks);
  comm_->allgatherv(&mine, all.data(), std::vector<size_t>(ranks, sizeof(Joined)));
  for (int r = 0; r < ranks; ++r) {
    hosts_.push_back(all[r].host);
    rank_threads_.push_back(static_cast<int>(all[r].threads));
    if (all[r].step != all[0].step || std::string(all[r].weights) != all[0].weights)
      throw_shared(InputError("rank " + std::to_string(r) + " (" + all[r].host +
                              ") starts at step " + std::to_string(all[r].step) +
                              " with other weights than rank 0 (step " +
                              std::to_string(all[0].step) +
                              "): every rank must read the same run folder and "
                              "checkpoint (a folder shared by all hosts)"));
  }
}

Trainer::~Trainer() = default;

const TrainProfile& Trainer::profile() const {
  profile_.ops = model_->op_times();
  if (parallel_) {
    profile_.combine = parallel_->combine_seconds();
    profile_.bytes_per_step = parallel_->combine_bytes_per_step();
  }
  return profile_;
}

void Trainer::run(TrainObserver& observer, int64_t max_steps) {
  join_ranks();
  if (config_.training.trace.every > 0 && state_.global_step == 0 && state_.trace.empty())
    record_initial_trace();
  const int epochs = config_.training.epochs;
  while (!finished()) {
    train_epoch(observer, max_steps);
    if (stopped_) return;
    if (state_.batch < train_pipeline_->batches_per_epoch()) break;  // stopped mid-epoch

    EpochMetrics metrics;
    metrics.loss = static_cast<float>(state_.loss_sum / static_cast<double>(state_.seen));
    metrics.accuracy =
        static_cast<float>(static_cast<double>(state_.correct) / static_cast<double>(state_.seen));
    if (config_.training.validation) {
      // On the held-out images (data.validation_split), else on the test split, as Keras's fit
      // with validation_data=(x_test, y_test).
      const EpochMetrics val =
          evaluate_on(validation_pipeline_ ? *validation_pipeline_ : *test_pipeline_);
      metrics.val_loss = val.loss;
      metrics.val_accuracy = val.accuracy;
      metrics.has_validation = true;
      if (!validation_pipeline_) {
        test_ = val;
        tested_ = state_.epoch + 1 == epochs;
      }
    }
    state_.history["accuracy"].push_back(metrics.accuracy);
    state_.history["loss"].push_back(metrics.loss);
    if (metrics.has_validation) {
      state_.history["val_accuracy"].push_back(metrics.val_accuracy);
      state_.history["val_loss"].push_back(metrics.val_loss);
    }
    state_.epochs.push_back(EpochRecord{state_.epoch + 1, state_.epoch_seconds, weights_sha256()});
    observer.epoch_end(state_.epoch + 1, metrics, state_.epoch_seconds);
    apply_callbacks();

    state_.epoch += 1;
    state_.batch = 0;
    state_.loss_sum = 0;
    state_.correct = 0;
    state_.seen = 0;
    state_.epoch_seconds = 0;
    if (config_.training.checkpoint.enabled && config_.training.checkpoint.every_steps == 0)
      checkpoint();
    if (state_.early_stopped) break;
    if (max_steps > 0 && state_.global_step >= max_steps) break;
  }
  // EarlyStopping(restore_best_weights) at the end of training, as Keras's on_train_end.
  if (finished() && config_.training.early_stopping.restore_best_weights &&
      !state_.best_weights.empty() && !state_.restored_best) {
    model_->import_weights(state_.best_weights);
    state_.restored_best = true;
    tested_ = false;
  }
  if (finished() && !tested_ && test_pipeline_) {
    test_ = evaluate();
    tested_ = true;
  }
  // A stop before the end (--steps, a signal): the last checkpoint is where a resume goes on.
  if (!finished() && !stopped_ && last_checkpoint_step_ != state_.global_step) checkpoint();
}

// initial_weights: the model's tensors of a run's model.safetensors or of a checkpoint
// ("model/<name>"), or a Keras .weights.h5 or .keras file, every name and shape checked against
// this model.
void Trainer::load_initial_weights() {
  const std::string& path = config_.initial_weights;
  if (!std::filesystem::exists(path))
    throw InputError("initial_weights: " + path +
                     ": no such file; give a model.safetensors of a run of this architecture, "
                     "or a Keras .weights.h5 or .keras file of the same model");
  const auto ends_with = [&](const std::string& suffix) {
    return path.size() >= suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::vector<NamedTensor> tensors;
  try {
    if (ends_with(".h5") || ends_with(".keras")) {
      tensors = read_keras_weights(path, config_, model_->export_weights());
    } else {
      for (NamedTensor& t : read_safetensors(path)) {
        if (t.name.rfind("optimizer/", 0) == 0 || t.name.rfind("best/", 0) == 0) continue;
        if (t.name.rfind("model/", 0) == 0) t.name = t.name.substr(6);
        tensors.push_back(std::move(t));
      }
    }
  } catch (const InputError& e) {
    throw InputError(std::string("initial_weights: ") + e.what());
  }
  try {
    model_->import_weights(tensors);
  } catch (const InputError& e) {
    throw InputError("initial_weights: " + path + ": " + e.what());
  }
}

int64_t Trainer::steps_per_epoch() const {
  REPRO_CHECK(train_pipeline_ != nullptr, "the trainer was made without its data");
  return train_pipeline_->batches_per_epoch();
}

bool Trainer::finished() const {
  return state_.epoch >= config_.training.epochs || state_.early_stopped;
}

// The Keras callbacks after an epoch's history: decide, then keep weights, write
// best.safetensors and change the learning rate as they ask.
void Trainer::apply_callbacks() {
  const TrainingConfig& t = config_.training;
  if (!t.early_stopping.enabled && !t.reduce_lr_on_plateau.enabled &&
      !(t.checkpoint.enabled && t.checkpoint.best))
    return;
  std::map<std::string, double> logs;
  for (const auto& [key, values] : state_.history) logs[key] = values.back();
  const float rate = optimizer_->learning_rate();
  // ReduceLROnPlateau puts the epoch's rate into the logs, so Keras's history holds it.
  if (t.reduce_lr_on_plateau.enabled) state_.history["learning_rate"].push_back(rate);
  const CallbackActions a = on_epoch_end(t, state_.epoch, logs, rate, state_.callbacks);
  const bool write_best = a.save_best && !run_dir_.empty() && comm_->rank() == 0;
  std::vector<NamedTensor> weights;
  if (a.keep_best_weights || write_best) weights = model_->export_weights();
  if (write_best) {
    const std::string path = (std::filesystem::path(run_dir_) / "best.safetensors").string();
    write_safetensors(path, weights,
                      {{"format", "keras"},
                       {"epoch", std::to_string(state_.epoch + 1)},
                       {"monitor", t.checkpoint.best_monitor.monitor}});
  }
  if (a.keep_best_weights) state_.best_weights = std::move(weights);
  if (a.learning_rate) optimizer_->set_learning_rate(*a.learning_rate);
  if (a.stop) state_.early_stopped = true;
}

std::optional<StopRecord> Trainer::stop_record() const {
  if (finished()) return std::nullopt;
  return StopRecord{stopped_ ? "signal" : "steps", state_.epoch + 1, state_.batch,
                    state_.global_step};
}

void Trainer::train_epoch(TrainObserver& observer, int64_t max_steps) {
  const int64_t steps = train_pipeline_->batches_per_epoch();
  observer.epoch_begin(state_.epoch + 1, config_.training.epochs, steps);
  const auto epoch_start = Clock::now();
  const double seconds_before = state_.epoch_seconds;
  if (state_.batch >= steps) return;  // resumed from a checkpoint taken at the epoch's last step
  train_pipeline_->start_epoch(state_.epoch, state_.batch);
  Batch batch;
  ForwardContext ctx;
  ctx.training = true;
  ctx.seed = static_cast<uint64_t>(config_.seed);
  while (true) {
    if (max_steps > 0 && state_.global_step >= max_steps) break;
    const auto wait_start = Clock::now();
    const bool more = train_pipeline_->next(batch);
    profile_.data_wait += seconds_since(wait_start);
    if (!more) break;
    REPRO_CHECK(batch.index == state_.batch, "pipeline returned batch " +
                                                 std::to_string(batch.index) + ", expected " +
                                                 std::to_string(state_.batch));
    ctx.global_step = state_.global_step;
    LossSums sums;
    bool stop = false;
    if (parallel_) {
      // This rank's chunks, then gradients and losses combined in chunk and image order; a
      // stop request on any rank stops every rank after this step.
      const ParallelStep step =
          parallel_->step(batch, ctx, stop_flag_ != nullptr && *stop_flag_ != 0);
      sums = step.sums;
      stop = step.stop;
    } else {
      const float* logits = model_->forward(batch.x.data(), batch.size, ctx);
      const auto loss_start = Clock::now();
      sums =
          backend_->softmax_cross_entropy(logits, batch.y.data(), batch.size, model_->classes(),
                                          model_->dlogits(), 1.0f / static_cast<float>(batch.size));
      profile_.loss += seconds_since(loss_start);
      model_->backward(batch.size);
    }
    const int64_t trace_every = config_.training.trace.every;
    if (trace_every > 0 && (state_.global_step + 1) % trace_every == 0) record_trace(batch.size);
    const auto optimizer_start = Clock::now();
    const float step_learning_rate = optimizer_->learning_rate();  // before the step counts
    optimizer_->step(weights_, grads_);
    profile_.optimizer += seconds_since(optimizer_start);

    state_.loss_sum += sums.loss;
    state_.correct += sums.correct;
    state_.seen += batch.size;
    state_.global_step += 1;
    state_.batch += 1;

    EpochMetrics running;
    running.loss = static_cast<float>(state_.loss_sum / static_cast<double>(state_.seen));
    running.accuracy =
        static_cast<float>(static_cast<double>(state_.correct) / static_cast<double>(state_.seen));
    observer.batch_end(state_.batch, steps, running);
    const int64_t log_every = config_.training.log.every;
    if (log_every > 0 && state_.global_step % log_every == 0) {
      double finished = 0;
      for (const EpochRecord& e : state_.epochs) finished += e.seconds;
      state_.steps.push_back(
          StepRecord{state_.global_step, state_.epoch + 1, state_.batch - 1, running.accuracy,
                     running.loss, static_cast<float>(sums.loss / static_cast<double>(batch.size)),
                     step_learning_rate, finished + seconds_before + seconds_since(epoch_start)});
    }

    const CheckpointConfig& every = config_.training.checkpoint;
    if (!parallel_) stop = stop_flag_ != nullptr && *stop_flag_ != 0;
    if (stop ||
        (every.enabled && every.every_steps > 0 && state_.global_step % every.every_steps == 0)) {
      state_.epoch_seconds = seconds_before + seconds_since(epoch_start);
      checkpoint();
    }
    if (stop) {
      stopped_ = true;
      break;
    }
  }
  const double elapsed = seconds_since(epoch_start);
  state_.epoch_seconds = seconds_before + elapsed;
  profile_.training += elapsed;
}

// Step 0 of the trace: every parameter before the first update, so that runs whose initial
// weights differ are located "before step 1", not at the first traced step.
void Trainer::record_initial_trace() {
  for (const Parameter* p : model_->parameters())
    state_.trace.push_back(TraceEntry{0, 1, 0, p->name, device_sha256(p->value.data(), p->size())});
}

// SHA-256 of COUNT floats on the device, downloaded first.
std::string Trainer::device_sha256(const float* data, size_t count) const {
  std::vector<float> host(count);
  backend_->download(data, host.data(), count);
  return sha256_hex(host.data(), host.size() * sizeof(float));
}

// Digests of every parameter and its gradient (before this step's update) and of every layer's
// output and output gradient (where backward computes one), taken after backward: where two runs
// part, these differ first.
void Trainer::record_trace(int n) {
  TraceEntry base;
  base.step = state_.global_step + 1;
  base.epoch = state_.epoch + 1;
  base.batch = state_.batch;
  auto add = [&](const std::string& tensor, const std::string& sha) {
    TraceEntry entry = base;
    entry.tensor = tensor;
    entry.sha256 = sha;
    state_.trace.push_back(entry);
  };
  for (const Parameter* p : model_->parameters()) {
    add(p->name, device_sha256(p->value.data(), p->size()));
    add(p->name + "_grad", device_sha256(p->grad.data(), p->size()));
  }
  const auto& layers = model_->layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    if (parallel_) {  // the whole batch, gathered from the ranks
      for (bool grad : {false, true}) {
        if (grad && !model_->output_grad_computed(i)) continue;
        const std::vector<float> all = parallel_->gather_layer(i, grad, n);
        add(layers[i]->name() + (grad ? "/output_grad" : "/output"),
            sha256_hex(all.data(), all.size() * sizeof(float)));
      }
      continue;
    }
    const size_t count = layers[i]->out_shape().size() * static_cast<size_t>(n);
    add(layers[i]->name() + "/output", device_sha256(model_->layer_output(i), count));
    if (model_->output_grad_computed(i))
      add(layers[i]->name() + "/output_grad", device_sha256(model_->layer_output_grad(i), count));
  }
}

void Trainer::checkpoint() {
  if (run_dir_.empty() || comm_->rank() != 0) return;
  last_checkpoint_ = write_checkpoint(run_dir_, *this, config_.training.checkpoint.keep);
  last_checkpoint_step_ = state_.global_step;
}

EpochMetrics Trainer::evaluate() {
  if (!test_pipeline_)
    throw InputError("the run's data (" + config_.data.dataset + ") has no test split");
  return evaluate_on(*test_pipeline_);
}

EpochMetrics Trainer::evaluate(Split split) {
  REPRO_CHECK(train_pipeline_ != nullptr, "the trainer was made without its data");
  if (split == Split::test) return evaluate();
  if (split == Split::validation) {
    if (!validation_pipeline_)
      throw InputError(
          "the run has no validation split (its config sets no data.validation_split)");
    return evaluate_on(*validation_pipeline_);
  }
  Pipeline train(splits_.train, pipeline_options(config_, false, threads_));
  return evaluate_on(train);
}

std::vector<float> Trainer::predict(const Dataset& images) {
  REPRO_CHECK(!parallel_, "predict runs in one process");
  REPRO_CHECK(images.labels.size() == static_cast<size_t>(images.count),
              "predict takes one (unused) label per image");
  Pipeline pipeline(images, pipeline_options(config_, false, threads_));
  pipeline.start_epoch(0, 0);
  const int k = model_->classes();
  std::vector<float> out;
  out.reserve(static_cast<size_t>(images.count) * k);
  std::vector<float> logits;
  Batch batch;
  ForwardContext ctx;
  ctx.training = false;
  while (pipeline.next(batch)) {
    const float* device = model_->forward(batch.x.data(), batch.size, ctx);
    logits.resize(static_cast<size_t>(batch.size) * k);
    backend_->download(device, logits.data(), logits.size());
    for (int q = 0; q < batch.size; ++q) {  // softmax per image: exp(z - max) / sum, in float
      const float* z = logits.data() + static_cast<size_t>(q) * k;
      float m = z[0];
      for (int j = 1; j < k; ++j) m = std::max(m, z[j]);
      float sum = 0.0f;
      const size_t first = out.size();
      for (int j = 0; j < k; ++j) {
        out.push_back(std::exp(z[j] - m));
        sum += out.back();
      }
      for (int j = 0; j < k; ++j) out[first + j] /= sum;
    }
  }
  return out;
}

EpochMetrics Trainer::evaluate_on(Pipeline& pipeline) {
  const auto start = Clock::now();
  pipeline.start_epoch(0, 0);
  Batch batch;
  ForwardContext ctx;
  ctx.training = false;
  double loss_sum = 0;
  int64_t correct = 0, seen = 0;
  while (pipeline.next(batch)) {
    if (parallel_) {  // this rank's chunks of the batch; the losses are gathered at the end
      parallel_->evaluate_batch(batch);
      continue;
    }
    const float* logits = model_->forward(batch.x.data(), batch.size, ctx);
    const LossSums sums = backend_->softmax_cross_entropy(logits, batch.y.data(), batch.size,
                                                          model_->classes(), nullptr, 1.0f);
    loss_sum += sums.loss;
    correct += sums.correct;
    seen += batch.size;
  }
  if (parallel_) {
    const LossSums sums = parallel_->finish_evaluation(seen);
    loss_sum = sums.loss;
    correct = sums.correct;
  }
  REPRO_CHECK(seen > 0, "the test split is empty");
  EpochMetrics metrics;
  metrics.loss = static_cast<float>(loss_sum / static_cast<double>(seen));
  metrics.accuracy = static_cast<float>(static_cast<double>(correct) / static_cast<double>(seen));
  profile_.validation += seconds_since(start);
  return metrics;
}

std::string Trainer::weights_sha256() const {
  return repro::weights_sha256(model_->export_weights());
}

RunRecord Trainer::run_record() const {
  RunRecord record;
  record.repro_version = REPRO_VERSION;
  record.config_path = config_.path;
  record.config_sha256 = config_sha256(config_);
  record.config = flatten_config(config_);
  record.config_yaml = to_yaml(config_);
  record.seed = config_.seed;
  record.rng = config_.rng == RngKind::tf ? "tf" : "jax";
  record.backend = backend_->name();
  record.device = config_.device == Device::cuda ? "cuda" : "cpu";
  record.determinism = determinism_name(config_.determinism);
  record.threads = threads_;
  record.ranks = comm_->size();
  record.hosts = hosts_.empty() ? std::vector<std::string>{comm_->host()} : hosts_;
  record.rank_threads = rank_threads_.empty() ? std::vector<int>{threads_} : rank_threads_;
  record.environment = environment_fingerprint();
  record.environment["backend"] = backend_->describe();
  record.data_files = splits_.files;
  record.epochs = state_.epochs;
  record.run_id = state_.run_id;
  record.initial_weights_sha256 = state_.initial_weights_sha256;
  record.weights_sha256 = weights_sha256();
  record.tested = tested_;
  if (tested_) {
    record.test_loss = test_.loss;
    record.test_accuracy = test_.accuracy;
  }
  record.stopped = stop_record();
  record.completed = finished() && (tested_ || splits_.test.count == 0);
  const CallbackState& c = state_.callbacks;
  if (config_.training.early_stopping.enabled)
    record.early_stopping = EarlyStoppingRecord{state_.early_stopped ? c.stopped_epoch + 1 : 0,
                                                c.best_epoch >= 0 ? c.best_epoch + 1 : 0,
                                                c.stop_best, state_.restored_best};
  if (config_.training.checkpoint.enabled && config_.training.checkpoint.best)
    record.best_checkpoint_epoch = c.saved_epoch >= 0 ? c.saved_epoch + 1 : 0;
  return record;
}

void Trainer::write_run_folder(const std::string& dir) const {
  const std::vector<NamedTensor> tensors = model_->export_weights();
  const std::filesystem::path folder(dir);
  const std::filesystem::path weights = folder / "model.safetensors";
  // All files staged, then renamed together: a failed write (disk full) leaves the previous
  // run folder whole. run.json last: its presence marks a complete run folder.
  std::vector<std::pair<std::filesystem::path, std::string>> files;
  files.emplace_back(
      weights, encode_safetensors(tensors, {{"format", "keras"}, {"repro_version", REPRO_VERSION}},
                                  weights.string()));
  files.emplace_back(folder / "history.json", history_to_json(state_.history));
  if (config_.training.trace.every > 0)
    files.emplace_back(folder / "trace.jsonl", trace_to_jsonl(state_.trace));
  if (config_.training.log.every > 0)
    files.emplace_back(folder / "steps.csv", steps_to_csv(state_.steps));
  RunRecord record = run_record();
  for (const auto& [path, content] : files)
    record.files[path.filename().string()] = sha256_hex(content.data(), content.size());
  const std::filesystem::path best = folder / "best.safetensors";
  if (config_.training.checkpoint.best && std::filesystem::exists(best))
    record.files["best.safetensors"] = sha256_file(best.string());
  files.emplace_back(folder / "run.json", run_record_to_json(record));
  write_files_atomic(files);
}

}  // namespace repro
