// Keras 3 Adam, AdamW, SGD (momentum, nesterov) and RMSprop (momentum, centered): state per
// parameter in backend memory, the update arithmetic in the backend. Slot names are Keras's
// (Adam momentum / velocity, SGD momentum, RMSprop velocity / momentum / average_gradient).
// No clipping, no EMA, no weight decay outside AdamW.
#include "optim/optimizer.h"

#include "core/error.h"
#include "optim/schedule.h"

namespace repro {

float Optimizer::learning_rate() const { return learning_rate_at(config_, iterations_); }

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

class Adam : public Optimizer {
 public:
  Adam(const OptimizerConfig& config, Backend& backend, const std::vector<std::string>& names,
       const std::vector<size_t>& sizes)
      : Optimizer(config), backend_(backend), names_(names), sizes_(sizes) {
    params_.beta_1 = static_cast<float>(config.beta_1);
    params_.beta_2 = static_cast<float>(config.beta_2);
    params_.epsilon = static_cast<float>(config.epsilon);
    for (size_t n : sizes) {
      m_.push_back(backend.alloc(n));
      v_.push_back(backend.alloc(n));
    }
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
      backend_.adam_update(weights[i].data(), grads[i].data(), m_[i].data(), v_[i].data(),
                           sizes_[i], p);
  }

  std::vector<OptimizerSlot> export_state() const override {
    std::vector<OptimizerSlot> out = download_slots(backend_, names_, m_, "momentum");
    std::vector<OptimizerSlot> v = download_slots(backend_, names_, v_, "velocity");
    out.insert(out.end(), v.begin(), v.end());
    return out;
  }

  void import_state(const std::vector<OptimizerSlot>& slots, int64_t iterations) override {
    for (size_t i = 0; i < names_.size(); ++i) {
      upload_slot(backend_, slots, names_[i] + "/momentum", m_[i]);
      upload_slot(backend_, slots, names_[i] + "/velocity", v_[i]);
    }
    iterations_ = iterations;
  }

 private:
  Backend& backend_;
  std::vector<std::string> names_;
  std::vector<size_t> sizes_;
  AdamParams params_;
  std::vector<Array> m_, v_;  // first and second moments, one per parameter
};

class Sgd : public Optimizer {
 public:
  Sgd(const OptimizerConfig& config, Backend& backend, const std::vector<std::string>& names,
      const std::vector<size_t>& sizes)
      : Optimizer(config), backend_(backend), names_(names), sizes_(sizes) {
    params_.momentum = static_cast<float>(config.momentum);
    params_.nesterov = config.nesterov;
    if (params_.momentum != 0.0f)
      for (size_t n : sizes) velocity_.push_back(backend.alloc(n));
  }

  void step(const std::vector<Array>& weights, const std::vector<Array>& grads) override {
    check_step_args(weights, grads, sizes_);
    SgdParams p = params_;
    p.learning_rate = learning_rate();
    ++iterations_;
    for (size_t i = 0; i < weights.size(); ++i)
      backend_.sgd_update(weights[i].data(), grads[i].data(),
                          velocity_.empty() ? nullptr : velocity_[i].data(), sizes_[i], p);
  }

  std::vector<OptimizerSlot> export_state() const override {
    return download_slots(backend_, names_, velocity_, "momentum");
  }

  void import_state(const std::vector<OptimizerSlot>& slots, int64_t iterations) override {
    for (size_t i = 0; i < velocity_.size(); ++i)
      upload_slot(backend_, slots, names_[i] + "/momentum", velocity_[i]);
    iterations_ = iterations;
  }

 private:
  Backend& backend_;
  std::vector<std::string> names_;
  std::vector<size_t> sizes_;
  SgdParams params_;
  std::vector<Array> velocity_;  // one per parameter; empty without momentum
};

class Rmsprop : public Optimizer {
 public:
  Rmsprop(const OptimizerConfig& config, Backend& backend, const std::vector<std::string>& names,
          const std::vector<size_t>& sizes)
      : Optimizer(config), backend_(backend), names_(names), sizes_(sizes) {
    params_.rho = static_cast<float>(config.rho);
    params_.momentum = static_cast<float>(config.momentum);
    params_.epsilon = static_cast<float>(config.epsilon);
    params_.centered = config.centered;
    for (size_t n : sizes) {
      velocity_.push_back(backend.alloc(n));
      if (params_.momentum > 0.0f) momentum_.push_back(backend.alloc(n));
      if (params_.centered) average_gradient_.push_back(backend.alloc(n));
    }
  }

  void step(const std::vector<Array>& weights, const std::vector<Array>& grads) override {
    check_step_args(weights, grads, sizes_);
    RmspropParams p = params_;
    p.learning_rate = learning_rate();
    ++iterations_;
    for (size_t i = 0; i < weights.size(); ++i)
      backend_.rmsprop_update(weights[i].data(), grads[i].data(), velocity_[i].data(),
                              momentum_.empty() ? nullptr : momentum_[i].data(),
                              average_gradient_.empty() ? nullptr : average_gradient_[i].data(),
                              sizes_[i], p);
  }

  std::vector<OptimizerSlot> export_state() const override {
    std::vector<OptimizerSlot> out = download_slots(backend_, names_, velocity_, "velocity");
    for (const auto& [arrays, suffix] :
         {std::pair{&momentum_, "momentum"}, std::pair{&average_gradient_, "average_gradient"}}) {
      std::vector<OptimizerSlot> more = download_slots(backend_, names_, *arrays, suffix);
      out.insert(out.end(), more.begin(), more.end());
    }
    return out;
  }

  void import_state(const std::vector<OptimizerSlot>& slots, int64_t iterations) override {
    for (size_t i = 0; i < names_.size(); ++i) {
      upload_slot(backend_, slots, names_[i] + "/velocity", velocity_[i]);
      if (!momentum_.empty()) upload_slot(backend_, slots, names_[i] + "/momentum", momentum_[i]);
      if (!average_gradient_.empty())
        upload_slot(backend_, slots, names_[i] + "/average_gradient", average_gradient_[i]);
    }
    iterations_ = iterations;
  }

 private:
  Backend& backend_;
  std::vector<std::string> names_;
  std::vector<size_t> sizes_;
  RmspropParams params_;
  // One per parameter; momentum_ only with momentum > 0, average_gradient_ only when centered.
  std::vector<Array> velocity_, momentum_, average_gradient_;
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, Backend& backend,
                                          const std::vector<std::string>& names,
                                          const std::vector<size_t>& sizes) {
  REPRO_CHECK(names.size() == sizes.size(), "optimizer: names and sizes differ in length");
  if (config.name == "adam" || config.name == "adamw")
    return std::make_unique<Adam>(config, backend, names, sizes);
  if (config.name == "rmsprop") return std::make_unique<Rmsprop>(config, backend, names, sizes);
  if (config.name == "sgd") return std::make_unique<Sgd>(config, backend, names, sizes);
  throw InputError("training.optimizer.name: unknown optimizer '" + config.name + "'; use " +
                   optimizer_names_text());
}

}  // namespace repro
