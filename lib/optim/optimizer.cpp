// Keras 3 Adam, AdamW, SGD (momentum, nesterov) and RMSprop (momentum, centered): state per
// parameter in backend memory, the update arithmetic in the backend. Slot names are Keras's
// (Adam momentum / velocity, SGD momentum, RMSprop velocity / momentum / average_gradient).
// No clipping, no EMA, no weight decay outside AdamW.
#include "optim/optimizer.h"

#include "core/error.h"
#include "optim/schedule.h"

namespace repro {

float Optimizer::learning_rate() const {
  return constant_rate_ ? *constant_rate_ : learning_rate_at(config_, iterations_);
}

namespace {

// Copies each slot array to and from the host, with its "<param>/<suffix>" name.
std::vector<OptimizerSlot> download_slots(Backend& backend, const std::vector<std::string>& names,
                                          const std::vector<Array>& arrays,
                                          const std::string& suffix) {
  std::vector<OptimizerSlot> out;
  for (size_t i = 0; i < arrays.size(); ++i) {
    OptimizerSlot slot{names[i] + "/" + suffix, std::vector<float>(arrays[i].size())};
    backend.download(arrays[i].data(), slot.data.data(), slot.data.size());
    out.push_back(std::move(slot));
  }
  return out;
}

void upload_slot(Backend& backend, const std::vector<OptimizerSlot>& slots, const std::string& name,
                 const Array& dst) {
  for (const OptimizerSlot& slot : slots) {
    if (slot.name != name) continue;
    if (slot.data.size() != dst.size())
      throw InputError("optimizer state '" + name + "' has " + std::to_string(slot.data.size()) +
                       " values, the model needs " + std::to_string(dst.size()));
    backend.upload(slot.data.data(), dst.data(), dst.size());
    return;
  }
  throw InputError("optimizer state '" + name + "' is missing from the checkpoint");
}

void check_step_args(const std::vector<Array>& weights, const std::vector<Array>& grads,
                     const std::vector<size_t>& sizes) {
  REPRO_CHECK(weights.size() == sizes.size() && grads.size() == sizes.size(),
              "optimizer step: wrong number of parameters");
  for (size_t i = 0; i < sizes.size(); ++i)
    REPRO_CHECK(weights[i].size() == sizes[i] && grads[i].size() == sizes[i],
                "optimizer step: parameter " + std::to_string(i) + " has the wrong size");
}

// What every optimizer shares: the parameters' names and sizes in step() order, and named slots
// (one zeroed array per parameter each, in backend memory), exported and imported by name as
// "<parameter>/<slot>" in the order the slots were added.
class SlotOptimizer : public Optimizer {
 public:
  SlotOptimizer(const OptimizerConfig& config, Backend& backend,
                const std::vector<std::string>& names, const std::vector<size_t>& sizes)
      : Optimizer(config), backend_(backend), names_(names), sizes_(sizes) {}

  std::vector<OptimizerSlot> export_state() const override {
    std::vector<OptimizerSlot> out;
    for (const auto& [suffix, arrays] : slots_) {
      std::vector<OptimizerSlot> more = download_slots(backend_, names_, arrays, suffix);
      out.insert(out.end(), more.begin(), more.end());
    }
    return out;
  }

  void import_state(const std::vector<OptimizerSlot>& slots, int64_t iterations) override {
    for (size_t i = 0; i < names_.size(); ++i)
      for (const auto& [suffix, arrays] : slots_)
        upload_slot(backend_, slots, names_[i] + "/" + suffix, arrays[i]);
    iterations_ = iterations;
  }

 protected:
  // Adds a slot; returns its index for slot().
  size_t add_slot(const std::string& suffix) {
    std::vector<Array> arrays;
    for (size_t n : sizes_) arrays.push_back(backend_.alloc(n));
    slots_.emplace_back(suffix, std::move(arrays));
    return slots_.size() - 1;
  }
  float* slot(size_t index, size_t parameter) { return slots_[index].second[parameter].data(); }

  Backend& backend_;
  std::vector<std::string> names_;
  std::vector<size_t> sizes_;

 private:
  std::vector<std::pair<std::string, std::vector<Array>>> slots_;  // (suffix, one per parameter)
};

class Adam : public SlotOptimizer {
 public:
  Adam(const OptimizerConfig& config, Backend& backend, const std::vector<std::string>& names,
       const std::vector<size_t>& sizes)
      : SlotOptimizer(config, backend, names, sizes),
        m_(add_slot("momentum")),
        v_(add_slot("velocity")) {
    params_.beta_1 = static_cast<float>(config.beta_1);
    params_.beta_2 = static_cast<float>(config.beta_2);
    params_.epsilon = static_cast<float>(config.epsilon);
  }

  void step(const std::vector<Array>& weights, const std::vector<Array>& grads) override {
    check_step_args(weights, grads, sizes_);
    AdamParams p = params_;
    p.learning_rate = learning_rate();
    ++iterations_;
    p.step = iterations_;
    // AdamW: Keras applies the decay with the same rate before the update.
    if (config_.name == "adamw" && config_.weight_decay != 0.0) {
      const float weight_decay = static_cast<float>(config_.weight_decay);
      for (size_t i = 0; i < weights.size(); ++i)
        backend_.weight_decay_update(weights[i].data(), sizes_[i], weight_decay, p.learning_rate);
    }
    for (size_t i = 0; i < weights.size(); ++i)
      backend_.adam_update(weights[i].data(), grads[i].data(), slot(m_, i), slot(v_, i), sizes_[i],
                           p);
  }

 private:
  AdamParams params_;
  size_t m_, v_;  // first and second moments
};

class Sgd : public SlotOptimizer {
 public:
  Sgd(const OptimizerConfig& config, Backend& backend, const std::vector<std::string>& names,
      const std::vector<size_t>& sizes)
      : SlotOptimizer(config, backend, names, sizes) {
    params_.momentum = static_cast<float>(config.momentum);
    params_.nesterov = config.nesterov;
    if (params_.momentum != 0.0f) velocity_ = add_slot("momentum");
  }

  void step(const std::vector<Array>& weights, const std::vector<Array>& grads) override {
    check_step_args(weights, grads, sizes_);
    SgdParams p = params_;
    p.learning_rate = learning_rate();
    ++iterations_;
    for (size_t i = 0; i < weights.size(); ++i)
      backend_.sgd_update(weights[i].data(), grads[i].data(),
                          velocity_ == kNone ? nullptr : slot(velocity_, i), sizes_[i], p);
  }

 private:
  static constexpr size_t kNone = ~size_t{0};
  SgdParams params_;
  size_t velocity_ = kNone;  // Keras's "momentum" slot; none without momentum
};

class Rmsprop : public SlotOptimizer {
 public:
  Rmsprop(const OptimizerConfig& config, Backend& backend, const std::vector<std::string>& names,
          const std::vector<size_t>& sizes)
      : SlotOptimizer(config, backend, names, sizes), velocity_(add_slot("velocity")) {
    params_.rho = static_cast<float>(config.rho);
    params_.momentum = static_cast<float>(config.momentum);
    params_.epsilon = static_cast<float>(config.epsilon);
    params_.centered = config.centered;
    if (params_.momentum > 0.0f) momentum_ = add_slot("momentum");
    if (params_.centered) average_gradient_ = add_slot("average_gradient");
  }

  void step(const std::vector<Array>& weights, const std::vector<Array>& grads) override {
    check_step_args(weights, grads, sizes_);
    RmspropParams p = params_;
    p.learning_rate = learning_rate();
    ++iterations_;
    for (size_t i = 0; i < weights.size(); ++i)
      backend_.rmsprop_update(weights[i].data(), grads[i].data(), slot(velocity_, i),
                              momentum_ == kNone ? nullptr : slot(momentum_, i),
                              average_gradient_ == kNone ? nullptr : slot(average_gradient_, i),
                              sizes_[i], p);
  }

 private:
  static constexpr size_t kNone = ~size_t{0};
  RmspropParams params_;
  size_t velocity_;
  size_t momentum_ = kNone;          // only with momentum > 0
  size_t average_gradient_ = kNone;  // only when centered
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, Backend& backend,
                                          const std::vector<std::string>& names,
                                          const std::vector<size_t>& sizes) {
  REPRO_CHECK(names.size() == sizes.size(), "optimizer: names and sizes differ in length");
  auto require = [&](OptionalOp op) {
    if (!backend.supports(op))
      throw InputError("training.optimizer: the " + backend.name() + " backend does not run " +
                       optional_op_name(op) + "; use adam or sgd, or device: cpu");
  };
  if (config.name == "rmsprop") require(OptionalOp::rmsprop);
  if (config.name == "adamw" && config.weight_decay != 0.0) require(OptionalOp::weight_decay);
  if (config.name == "adam" || config.name == "adamw")
    return std::make_unique<Adam>(config, backend, names, sizes);
  if (config.name == "rmsprop") return std::make_unique<Rmsprop>(config, backend, names, sizes);
  if (config.name == "sgd") return std::make_unique<Sgd>(config, backend, names, sizes);
  throw InputError("training.optimizer.name: unknown optimizer '" + config.name + "'; use " +
                   optimizer_names_text());
}

}  // namespace repro
