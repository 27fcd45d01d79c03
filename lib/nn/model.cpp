// Sequential forward/backward over the layers with one activation and one gradient buffer per
// layer boundary, sized for max_batch; the op objects inside the layers are cached per batch size.
// Timing per op kind is wall-clock around each call (synchronous on the CPU backends).
#include "nn/model.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"

namespace repro {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

Model::Model(const RunConfig& config, Backend& backend, int max_batch, bool chunk_grads)
    : backend_(backend), max_batch_(max_batch) {
  if (config.model.empty())
    throw InputError(at_place(config.path, 0, 0, "model: the layer list is empty"));
  REPRO_CHECK(max_batch > 0, "batch size must be positive");
  const std::array<int, 3> hwc = repro::input_shape(config);
  input_ = FeatureShape{hwc[2], hwc[0], hwc[1], flat_input(config)};

  InitSeeds seeds{static_cast<uint64_t>(config.seed), config.rng, 0};
  RunConfig named = config;
  std::map<LayerKind, int> kind_counts;
  for (LayerConfig& layer_config : named.model) {
    int& count = kind_counts[layer_config.kind];
    if (layer_config.name.empty()) {
      layer_config.name = layer_key(layer_config.kind);  // Keras auto names: conv2d, conv2d_1
      if (count > 0) layer_config.name += "_" + std::to_string(count);
    }
    ++count;
  }
  // The config's shape inference sizes every layer (and refuses what does not fit, at its place).
  const std::vector<LayerShape> shapes = infer_shapes(named);
  FeatureShape shape = input_;
  graph_ = is_graph(config);
  inputs_ = layer_inputs(config);
  for (size_t i = 0; i < named.model.size(); ++i) {
    const LayerConfig& layer_config = named.model[i];
    const bool last = i + 1 == named.model.size();
    // A layer's input: the output of the layer it takes (-1: the model's input).
    const auto output_of = [&](int p) {
      return p < 0 ? input_ : feature_shape(shapes[size_t(p)].output);
    };
    const FeatureShape out = feature_shape(shapes[i].output);
    if (is_merge(layer_config.kind)) {
      std::vector<FeatureShape> ins;
      for (int p : inputs_[i]) ins.push_back(output_of(p));
      layers_.push_back(std::make_unique<MergeLayer>(layer_config, ins, out, backend));
    } else {
      layers_.push_back(make_layer(layer_config, static_cast<int>(i), last,
                                   output_of(inputs_[i][0]), out, backend, seeds));
    }
    shape = layers_.back()->out_shape();
    for (Parameter* p : layers_.back()->parameters()) parameters_.push_back(p);
    for (Parameter* p : layers_.back()->parameters()) weights_.push_back(p);
    for (Parameter* p : layers_.back()->non_trainable()) weights_.push_back(p);
  }
  if (!shape.flat)
    throw InputError(
        at_place(config.path, config.model.back().place.line, config.model.back().place.col,
                 "the model must end with flat class scores (dense), got " + shape.str()));
  classes_ = shape.c;

  // Channel blocks between image layers: where both neighbours take them, in the backend's
  // block for that channel count. A layer that is the identity in evaluation (dropout) is
  // skipped then, so it needs one layout on both sides: plain wherever they disagree.
  // A graph keeps every buffer plain (a branch or merge would need its own block choice).
  blocks_.assign(layers_.size() + 1, 1);
  for (size_t i = 1; i < layers_.size() && !graph_; ++i) {
    if (layers_[i - 1]->takes_channel_blocks() && layers_[i]->takes_channel_blocks())
      blocks_[i] = backend.channel_block(layers_[i]->in_shape().c);
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < layers_.size(); ++i) {
      if (layers_[i]->identity_in_eval() && blocks_[i] != blocks_[i + 1]) {
        blocks_[i] = blocks_[i + 1] = 1;
        changed = true;
      }
    }
  }
  for (size_t i = 0; i < layers_.size(); ++i)
    layers_[i]->set_channel_blocks(blocks_[i], blocks_[i + 1]);
  if (chunk_grads) {
    const size_t chunks = static_cast<size_t>(chunk_count(max_batch));
    for (auto& layer : layers_) layer->set_chunk_grads(true);
    for (Parameter* p : parameters_) p->chunk_grads = backend.alloc(chunks * p->size());
  }

  grad_needed_.assign(layers_.size() + 1, false);
  for (size_t i = 0; i < layers_.size(); ++i) {
    bool needed = !layers_[i]->parameters().empty();
    for (int p : inputs_[i]) needed = needed || grad_needed_[size_t(p + 1)];
    grad_needed_[i + 1] = needed;
  }

  acts_.push_back(backend.alloc(input_.size() * max_batch));
  grads_.push_back(Array());
  size_t largest = 0, merged = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    acts_.push_back(backend.alloc(layers_[i]->out_shape().size() * max_batch));
    grads_.push_back(backend.alloc(layers_[i]->out_shape().size() * max_batch));
    largest = std::max(largest, layers_[i]->out_shape().size() * max_batch);
    merged = std::max(merged, inputs_[i].size());
  }
  // A second (or later) gradient for an output taken by several layers lands in a scratch
  // buffer first, then is added in; one per input of the widest merge.
  if (graph_)
    for (size_t k = 0; k < merged; ++k) scratch_.push_back(backend.alloc(largest));
}

const float* Model::forward(const float* x_host, int n, const ForwardContext& ctx) {
  REPRO_CHECK(n > 0 && n <= max_batch_, "batch of " + std::to_string(n) +
                                            " images exceeds the model's buffers (" +
                                            std::to_string(max_batch_) + ")");
  const auto upload_start = Clock::now();
  backend_.upload(x_host, acts_[0].data(), input_.size() * n);
  if (ctx.training) op_times_["upload"] += seconds_since(upload_start);
  // outs[t]: where tensor t is (t = layer + 1; 0 the input): an evaluation identity layer's
  // output is its input, read in place without a copy.
  std::vector<const float*> outs(layers_.size() + 1);
  outs[0] = acts_[0].data();
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& layer = *layers_[i];
    float* y = acts_[i + 1].data();
    const float* x = outs[size_t(inputs_[i][0] + 1)];
    if (!ctx.training && layer.identity_in_eval()) {
      outs[i + 1] = x;
      continue;
    }
    const auto start = Clock::now();
    if (auto* merge = dynamic_cast<MergeLayer*>(&layer)) {
      std::vector<const float*> xs;
      for (int p : inputs_[i]) xs.push_back(outs[size_t(p + 1)]);
      merge->merge_forward(xs, y, n);
    } else {
      layer.forward(x, y, n, ctx);
    }
    if (ctx.training) op_times_[std::string(layer.kind()) + " fwd"] += seconds_since(start);
    outs[i + 1] = y;
  }
  last_train_n_ = ctx.training ? n : -1;
  return outs.back();
}

// Layers run backward from the last (those with no parameter before them are skipped, and no
// layer computes a gradient that no parameter needs); a layer's output gradient is complete when
// its turn comes,
// since every layer that takes it comes later. Where several layers (or inputs of one merge) take
// one output, the first gradient to arrive is written into its buffer and each later one, in
// that same backward order (the highest layer index first, a merge's inputs in order), is written
// to scratch and added in: one fixed order of the sums, whatever the threads or ranks.
void Model::backward(int n) {
  REPRO_CHECK(n == last_train_n_, "backward() must follow a training forward() of the same batch");
  std::vector<int> arrived(layers_.size() + 1, 0);
  for (size_t i = layers_.size(); i-- > 0;) {
    Layer& layer = *layers_[i];
    if (!grad_needed_[i + 1]) continue;  // no parameter before it: nothing to compute
    std::vector<float*> dxs;
    std::vector<std::pair<size_t, float*>> adds;  // (tensor, scratch to add into its gradient)
    for (size_t k = 0; k < inputs_[i].size(); ++k) {
      const size_t t = size_t(inputs_[i][k] + 1);
      if (t == 0 || !grad_needed_[t]) {
        dxs.push_back(nullptr);  // the model's input, or an output no parameter precedes
      } else if (arrived[t]++ == 0) {
        dxs.push_back(grads_[t].data());
      } else {
        dxs.push_back(scratch_[k].data());
        adds.emplace_back(t, scratch_[k].data());
      }
    }
    const auto start = Clock::now();
    if (auto* merge = dynamic_cast<MergeLayer*>(&layer)) {
      std::vector<const float*> xs;
      for (int p : inputs_[i]) xs.push_back(acts_[size_t(p + 1)].data());
      merge->merge_backward(xs, grads_[i + 1].data(), dxs, n);
    } else {
      layer.backward(acts_[size_t(inputs_[i][0] + 1)].data(), acts_[i + 1].data(),
                     grads_[i + 1].data(), dxs[0], n);
    }
    for (const auto& [t, extra] : adds)
      backend_.accumulate(grads_[t].data(), extra, layers_[t - 1]->out_shape().size() * n);
    op_times_[std::string(layer.kind()) + " bwd"] += seconds_since(start);
  }
}

void Model::set_chunk_sum_exchange(ChunkSumExchange* exchange) {
  for (auto& layer : layers_) layer->set_chunk_sum_exchange(exchange);
}

void Model::join_exchanges(const ForwardContext& ctx) {
  REPRO_CHECK(ctx.training, "join_exchanges() stands in for a training step");
  for (auto& layer : layers_)
    if (layer->exchanges_chunk_sums()) layer->forward(nullptr, nullptr, 0, ctx);
  for (size_t i = layers_.size(); i-- > 0;)
    if (layers_[i]->exchanges_chunk_sums())
      layers_[i]->backward(nullptr, nullptr, nullptr, nullptr, 0);
  last_train_n_ = -1;
}

const float* Model::plain(const Array& a, size_t boundary, Array& view) const {
  const int block = blocks_[boundary];
  if (block == 1) return a.data();
  const FeatureShape& shape = layers_[boundary]->in_shape();
  std::vector<float> blocked(a.size()), host(a.size());
  backend_.download(a.data(), blocked.data(), a.size());
  channel_blocks_to_plain(blocked.data(), host.data(), max_batch_, shape.c, shape.h * shape.w,
                          block);
  if (view.size() != a.size()) view = backend_.alloc(a.size());
  backend_.upload(host.data(), view.data(), host.size());
  return view.data();
}

std::vector<NamedTensor> Model::export_weights() const {
  std::vector<NamedTensor> out;
  for (const Parameter* p : weights_) {
    std::vector<float> values(p->size());
    backend_.download(p->value.data(), values.data(), values.size());
    out.push_back(NamedTensor{p->name, p->keras_shape, backend_to_keras(values, p->keras_shape)});
  }
  return out;
}

void Model::import_weights(const std::vector<NamedTensor>& tensors) {
  auto shape = [](const std::vector<int64_t>& dims) {
    std::string text = "(";
    for (size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
    return text + ")";
  };
  if (tensors.size() != weights_.size())
    throw InputError("holds " + std::to_string(tensors.size()) +
                     " weight tensors, this model has " + std::to_string(weights_.size()) +
                     "; are they of a model of this architecture?");
  for (size_t i = 0; i < tensors.size(); ++i) {
    Parameter& p = *weights_[i];
    if (tensors[i].name != p.name || tensors[i].shape != p.keras_shape ||
        tensors[i].data.size() != p.size())
      throw InputError("weights: tensor " + std::to_string(i + 1) + " is '" + tensors[i].name +
                       "' " + shape(tensors[i].shape) + ", this model's is '" + p.name + "' " +
                       shape(p.keras_shape));
    std::vector<float> values = keras_to_backend(tensors[i].data, p.keras_shape);
    backend_.upload(values.data(), p.value.data(), values.size());
  }
}

}  // namespace repro
