// The ONNX exporter: walks the config's layers in order, keeping the current tensor's name and
// rank (4: NCHW images, 2: (N, features)), and appends one or a few ONNX nodes per layer, with
// the weights as initializers (conv kernels permuted from Keras's (R, S, C, K) to ONNX's
// (K, C, R, S); dense kernels stay (IN, OUT) for Gemm).
#include "export/onnx_export.h"

#include <cstring>
#include <limits>
#include <map>

#include "core/error.h"
#include "nn/layers.h"

// Last: ONNX's headers define a macro `fail_check`, the name of core/error.h's function.
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#undef fail_check

namespace repro {

namespace {

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto& graph) : graph_(graph) {}

  // A float initializer of `shape`.
  std::string constant(const std::string& name, const std::vector<int64_t>& shape,
                       const std::vector<float>& values) {
    onnx::TensorProto* t = graph_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape) t->add_dims(d);
    t->set_raw_data(
        std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    return name;
  }
  std::string int64s(const std::string& name, const std::vector<int64_t>& values) {
    onnx::TensorProto* t = graph_.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
    return name;
  }

  // A node; returns its output's name (unique: "<name>:<op>").
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::string& name) {
    onnx::NodeProto* n = graph_.add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const std::string& in : inputs) n->add_input(in);
    n->add_output(name);
    return n;
  }
  static void ints(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void integer(onnx::NodeProto* n, const std::string& name, int64_t v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void real(onnx::NodeProto* n, const std::string& name, float v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void text(onnx::NodeProto* n, const std::string& name, const std::string& v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }

 private:
  onnx::GraphProto& graph_;
};

void add_value_info(onnx::ValueInfoProto* v, const std::string& name, int type,
                    const std::vector<std::string>& dims) {
  v->set_name(name);
  onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(type);
  for (const std::string& d : dims) {
    onnx::TensorShapeProto_Dimension* dim = t->mutable_shape()->add_dim();
    if (!d.empty() && d[0] >= '0' && d[0] <= '9')
      dim->set_dim_value(std::stoll(d));
    else
      dim->set_dim_param(d);
  }
}

// Pads (top, left, bottom, right) of a window under `padding`, as Keras/TF place them.
std::vector<int64_t> window_pads(int64_t in_h, int64_t in_w, const std::array<int, 2>& k,
                                 const std::array<int, 2>& s, Padding padding) {
  const WindowExtent h = window_extent(in_h, k[0], s[0], padding);
  const WindowExtent w = window_extent(in_w, k[1], s[1], padding);
  return {h.pad_before, w.pad_before, h.pad_after, w.pad_after};
}

// Keras's (rows, G * U) recurrent weights with gate blocks in Keras's order as ONNX's
// (1, G * U, rows): gate block `order[k]` of Keras becomes block k, each row of the result one
// output unit's weights.
std::vector<float> onnx_gates(const std::vector<float>& keras, int64_t rows, int64_t u,
                              const std::vector<int>& order) {
  const int64_t width = int64_t(order.size()) * u;
  std::vector<float> out(keras.size());
  for (size_t k = 0; k < order.size(); ++k)
    for (int64_t j = 0; j < u; ++j)
      for (int64_t r = 0; r < rows; ++r)
        out[size_t((int64_t(k) * u + j) * rows + r)] = keras[size_t(r * width + order[k] * u + j)];
  return out;
}

// An activation of a recurrent cell as ONNX's RNN, GRU and LSTM ops name it.
std::string onnx_cell_activation(const LayerConfig& layer, Activation a) {
  switch (a) {
    case Activation::tanh: return "Tanh";
    case Activation::sigmoid: return "Sigmoid";
    case Activation::relu: return "Relu";
    default:
      throw InputError("export: " + layer.name + " (" + layer_key(layer.kind) + ") uses " +
                       activation_name(a) +
                       "; its ONNX form supports tanh, sigmoid and relu in recurrent cells");
  }
}

}  // namespace

std::string export_onnx(const RunConfig& config, const std::vector<NamedTensor>& weights,
                        const OnnxExportOptions& options) {
  std::map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& t : weights) by_name[t.name] = &t;
  // The weight "<owner>/<what>" (owner: a layer's name, or a sub-layer's "<layer>/<copy>").
  auto weight_of = [&](const std::string& owner, const std::string& what,
                       const std::vector<int64_t>& shape) -> const NamedTensor& {
    const auto it = by_name.find(owner + "/" + what);
    if (it == by_name.end())
      throw InputError("export: the weights hold no " + owner + "/" + what +
                       "; are they this run's?");
    if (it->second->shape != shape)
      throw InputError("export: " + owner + "/" + what + " has another shape than the " +
                       "config's layer; are they this run's?");
    return *it->second;
  };
  auto weight = [&](const LayerConfig& layer, const std::string& what,
                    const std::vector<int64_t>& shape) -> const NamedTensor& {
    return weight_of(layer.name, what, shape);
  };

  onnx::ModelProto model;
  model.set_ir_version(7);
  model.set_producer_name("repro");
  model.set_producer_version(options.producer_version);
  model.add_opset_import()->set_version(kOnnxOpset);
  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name(options.graph_name);
  GraphBuilder g(graph);

  const std::vector<LayerShape> shapes = infer_shapes(config);
  const std::array<int, 3> input = input_shape(config);  // (H, W, C) after the resize
  const bool resize = config.data.resize[0] != 0;
  std::string x;  // the current tensor
  if (flat_input(config)) {
    // A table's rows: float features as the table holds them, no preprocessing.
    add_value_info(graph.add_input(), "features", onnx::TensorProto::FLOAT,
                   {"batch", std::to_string(input[2])});
    x = "features";
  } else if (options.preprocessed) {
    add_value_info(
        graph.add_input(), "images", onnx::TensorProto::FLOAT,
        {"batch", std::to_string(input[0]), std::to_string(input[1]), std::to_string(input[2])});
    onnx::NodeProto* t = g.node("Transpose", {"images"}, "input:nchw");
    GraphBuilder::ints(t, "perm", {0, 3, 1, 2});
    x = t->output(0);
  } else {
    // With a resize any image size goes in (the graph resizes it, as the pipeline does).
    // Grayscale images are (N, H, W) as repro reads them, others (N, H, W, C).
    std::vector<std::string> dims = {"batch", resize ? "height" : std::to_string(input[0]),
                                     resize ? "width" : std::to_string(input[1])};
    if (input[2] != 1) dims.push_back(std::to_string(input[2]));
    add_value_info(graph.add_input(), "images", onnx::TensorProto::UINT8, dims);
    onnx::NodeProto* cast = g.node("Cast", {"images"}, "input:cast");
    GraphBuilder::integer(cast, "to", onnx::TensorProto::FLOAT);
    const std::string scaled =
        g.node("Div", {cast->output(0), g.constant("input:255", {}, {255.0f})}, "input:scale")
            ->output(0);
    if (input[2] == 1) {
      x = g.node("Unsqueeze", {scaled, g.int64s("input:channel_axis", {1})}, "input:nchw")
              ->output(0);
    } else {
      onnx::NodeProto* t = g.node("Transpose", {scaled}, "input:nchw");
      GraphBuilder::ints(t, "perm", {0, 3, 1, 2});
      x = t->output(0);
    }
    if (resize) {
      // sizes = (N, 1) of the input, then the config's (h, w).
      const std::string shape = g.node("Shape", {x}, "resize:shape")->output(0);
      const std::string nc =
          g.node("Slice", {shape, g.int64s("resize:0", {0}), g.int64s("resize:2", {2})},
                 "resize:nc")
              ->output(0);
      onnx::NodeProto* sizes = g.node(
          "Concat", {nc, g.int64s("resize:hw", {config.data.resize[0], config.data.resize[1]})},
          "resize:sizes");
      GraphBuilder::integer(sizes, "axis", 0);
      onnx::NodeProto* resize = g.node("Resize", {x, "", "", sizes->output(0)}, "input:resize");
      GraphBuilder::text(resize, "mode", "linear");
      GraphBuilder::text(resize, "coordinate_transformation_mode", "half_pixel");
      x = resize->output(0);
    }
  }

  std::string not_exported;
  bool image = !flat_input(config);  // x is (N, C, H, W); else (N, features)
  int64_t h = input[0], w = input[1], c = input[2];
  auto activation = [&](Activation a, const std::string& name) {
    if (a == Activation::relu) x = g.node("Relu", {x}, name + ":relu")->output(0);
    if (a == Activation::sigmoid) x = g.node("Sigmoid", {x}, name + ":sigmoid")->output(0);
    if (a == Activation::tanh) x = g.node("Tanh", {x}, name + ":tanh")->output(0);
    if (a == Activation::elu) {  // Elu's alpha defaults to 1, as keras.activations.elu's
      x = g.node("Elu", {x}, name + ":elu")->output(0);
    }
    if (a == Activation::leaky_relu) {
      onnx::NodeProto* n = g.node("LeakyRelu", {x}, name + ":leaky_relu");
      GraphBuilder::real(n, "alpha", kLeakyReluSlope);
      x = n->output(0);
    }
    if (a == Activation::softplus) x = g.node("Softplus", {x}, name + ":softplus")->output(0);
    if (a == Activation::hard_sigmoid) {  // relu6(x + 3) / 6 = max(0, min(1, x / 6 + 0.5))
      onnx::NodeProto* n = g.node("HardSigmoid", {x}, name + ":hard_sigmoid");
      GraphBuilder::real(n, "alpha", 1.0f / 6.0f);
      GraphBuilder::real(n, "beta", 0.5f);
      x = n->output(0);
    }
    // Opset 13 has no Gelu: its formulas from Erf, Tanh and Mul (scalar initializers broadcast).
    auto scalar = [&](const std::string& what, float v) {
      return g.constant(name + ":" + what, {}, {v});
    };
    auto mul = [&](const std::string& a, const std::string& b, const std::string& what) {
      return g.node("Mul", {a, b}, name + ":" + what)->output(0);
    };
    auto add = [&](const std::string& a, const std::string& b, const std::string& what) {
      return g.node("Add", {a, b}, name + ":" + what)->output(0);
    };
    if (a == Activation::gelu) {  // 0.5 x (1 + erf(x sqrt(1/2)))
      const std::string erf =
          g.node("Erf", {mul(x, scalar("sqrt_half", kSqrtHalf), "scaled")}, name + ":erf")
              ->output(0);
      const std::string one_plus = add(erf, scalar("one", 1.0f), "one_plus");
      x = mul(mul(x, scalar("half", 0.5f), "half_x"), one_plus, "gelu");
    }
    if (a == Activation::gelu_approximate) {  // x 0.5 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const std::string cube = mul(mul(x, x, "square"), x, "cube");
      const std::string inner =
          add(x, mul(cube, scalar("cubic", kGeluCubic), "cubic_term"), "inner");
      const std::string tanh =
          g.node("Tanh", {mul(inner, scalar("sqrt_2_over_pi", kSqrt2OverPi), "scaled")},
                 name + ":tanh")
              ->output(0);
      const std::string cdf =
          mul(add(tanh, scalar("one", 1.0f), "one_plus"), scalar("half", 0.5f), "cdf");
      x = mul(x, cdf, "gelu");
    }
    if (a == Activation::silu)
      x = mul(x, g.node("Sigmoid", {x}, name + ":sigmoid")->output(0), "silu");
    // linear: nothing; softmax (the last layer only): the final Softmax below.
  };
  // tensors[t]: the graph's name for the model's input (t = 0) or layer t - 1's output.
  std::vector<std::string> tensors{x};
  const std::vector<int64_t> input_dims =
      image ? std::vector<int64_t>{h, w, c} : std::vector<int64_t>{c};
  for (size_t i = 0; i < config.model.size(); ++i) {
    const LayerConfig& layer = config.model[i];
    const std::string& name = layer.name;
    // The layer's (first) input and its shape, from the one shape rule.
    const std::vector<int64_t>& in_dims =
        shapes[i].inputs[0] < 0 ? input_dims : shapes[shapes[i].inputs[0]].output;
    x = tensors[size_t(shapes[i].inputs[0] + 1)];
    image = in_dims.size() == 3;
    if (image) h = in_dims[0], w = in_dims[1];
    c = in_dims.back();
    switch (layer.kind) {
      case LayerKind::add:
      case LayerKind::subtract:
      case LayerKind::multiply:
      case LayerKind::average:
      case LayerKind::maximum:
      case LayerKind::minimum: {
        // Keras folds left: ((x0 + x1) + x2) ..., then the average divides by the count.
        const char* op = layer.kind == LayerKind::subtract   ? "Sub"
                         : layer.kind == LayerKind::multiply ? "Mul"
                         : layer.kind == LayerKind::maximum  ? "Max"
                         : layer.kind == LayerKind::minimum  ? "Min"
                                                             : "Add";
        for (size_t k = 1; k < shapes[i].inputs.size(); ++k)
          x = g.node(op, {x, tensors[size_t(shapes[i].inputs[k] + 1)]},
                     name + ":" + std::to_string(k))
                  ->output(0);
        if (layer.kind == LayerKind::average)
          x = g.node("Div",
                     {x, g.constant(name + "/count", {},
                                    {static_cast<float>(shapes[i].inputs.size())})},
                     name + ":average")
                  ->output(0);
        break;
      }
      case LayerKind::concatenate: {  // the channel axis: 1 in NCHW and in (N, F)
        std::vector<std::string> parts;
        for (int p : shapes[i].inputs) parts.push_back(tensors[size_t(p + 1)]);
        onnx::NodeProto* n = g.node("Concat", parts, name + ":concat");
        GraphBuilder::integer(n, "axis", 1);
        x = n->output(0);
        break;
      }
      case LayerKind::conv2d: {
        const int64_t k = layer.filters, r = layer.kernel_size[0], s = layer.kernel_size[1];
        const NamedTensor& kernel = weight(layer, "kernel", {r, s, c, k});
        std::vector<std::string> inputs = {x,
                                           g.constant(name + "/kernel", {k, c, r, s},
                                                      keras_to_backend(kernel.data, kernel.shape))};
        if (layer.use_bias)
          inputs.push_back(g.constant(name + "/bias", {k}, weight(layer, "bias", {k}).data));
        onnx::NodeProto* n = g.node("Conv", inputs, name + ":conv");
        GraphBuilder::ints(n, "kernel_shape", {r, s});
        GraphBuilder::ints(n, "strides", {layer.strides[0], layer.strides[1]});
        GraphBuilder::ints(n, "pads",
                           window_pads(h, w, layer.kernel_size, layer.strides, layer.padding));
        x = n->output(0);
        activation(layer.activation, name);
        break;
      }
      case LayerKind::depthwise_conv2d:
      case LayerKind::separable_conv2d: {
        // The depthwise part: a Conv of `c` groups, output channel c * DM + m from input channel
        // c, weights (C * DM, 1, R, S) from Keras's (R, S, C, DM).
        const bool separable = layer.kind == LayerKind::separable_conv2d;
        const int64_t dm = layer.depth_multiplier, r = layer.kernel_size[0],
                      s = layer.kernel_size[1], middle = c * dm;
        const NamedTensor& depthwise =
            weight(layer, separable ? "depthwise_kernel" : "kernel", {r, s, c, dm});
        std::vector<float> grouped(depthwise.data.size());
        for (int64_t k = 0; k < middle; ++k)
          for (int64_t t = 0; t < r * s; ++t)
            grouped[size_t(k * r * s + t)] = depthwise.data[size_t(t * middle + k)];
        std::vector<std::string> inputs = {
            x, g.constant(name + (separable ? "/depthwise_kernel" : "/kernel"), {middle, 1, r, s},
                          grouped)};
        if (layer.use_bias && !separable)
          inputs.push_back(
              g.constant(name + "/bias", {middle}, weight(layer, "bias", {middle}).data));
        onnx::NodeProto* n = g.node("Conv", inputs, name + ":depthwise");
        GraphBuilder::integer(n, "group", c);
        GraphBuilder::ints(n, "kernel_shape", {r, s});
        GraphBuilder::ints(n, "strides", {layer.strides[0], layer.strides[1]});
        GraphBuilder::ints(n, "pads",
                           window_pads(h, w, layer.kernel_size, layer.strides, layer.padding));
        x = n->output(0);
        if (separable) {  // then a 1x1 Conv to `filters`, with the bias
          const int64_t k = layer.filters;
          const NamedTensor& pointwise = weight(layer, "pointwise_kernel", {1, 1, middle, k});
          std::vector<std::string> mix = {
              x, g.constant(name + "/pointwise_kernel", {k, middle, 1, 1},
                            keras_to_backend(pointwise.data, pointwise.shape))};
          if (layer.use_bias)
            mix.push_back(g.constant(name + "/bias", {k}, weight(layer, "bias", {k}).data));
          onnx::NodeProto* p = g.node("Conv", mix, name + ":pointwise");
          GraphBuilder::ints(p, "kernel_shape", {1, 1});
          x = p->output(0);
        }
        activation(layer.activation, name);
        break;
      }
      case LayerKind::max_pooling2d:
      case LayerKind::average_pooling2d: {
        const bool max = layer.kind == LayerKind::max_pooling2d;
        onnx::NodeProto* n = g.node(max ? "MaxPool" : "AveragePool", {x}, name + ":pool");
        GraphBuilder::ints(n, "kernel_shape", {layer.pool_size[0], layer.pool_size[1]});
        GraphBuilder::ints(n, "strides", {layer.strides[0], layer.strides[1]});
        GraphBuilder::ints(n, "pads",
                           window_pads(h, w, layer.pool_size, layer.strides, layer.padding));
        if (!max) GraphBuilder::integer(n, "count_include_pad", 0);  // Keras: cells inside only
        x = n->output(0);
        break;
      }
      case LayerKind::batch_normalization: {
        const std::vector<float> ones(static_cast<size_t>(c), 1.0f),
            zeros(static_cast<size_t>(c), 0.0f);
        const std::string gamma =
            g.constant(name + "/gamma", {c}, layer.scale ? weight(layer, "gamma", {c}).data : ones);
        const std::string beta =
            g.constant(name + "/beta", {c}, layer.center ? weight(layer, "beta", {c}).data : zeros);
        const std::string mean =
            g.constant(name + "/moving_mean", {c}, weight(layer, "moving_mean", {c}).data);
        const std::string var =
            g.constant(name + "/moving_variance", {c}, weight(layer, "moving_variance", {c}).data);
        onnx::NodeProto* n =
            g.node("BatchNormalization", {x, gamma, beta, mean, var}, name + ":bn");
        GraphBuilder::real(n, "epsilon", static_cast<float>(layer.epsilon));
        x = n->output(0);
        break;
      }
      case LayerKind::layer_normalization: {  // opset 13 has no LayerNormalization: its formula
        const std::vector<float> ones(static_cast<size_t>(c), 1.0f),
            zeros(static_cast<size_t>(c), 0.0f);
        // gamma and beta broadcast along the channel axis, 1: (C, 1, 1) for images, (C) flat.
        const std::vector<int64_t> along =
            image ? std::vector<int64_t>{c, 1, 1} : std::vector<int64_t>{c};
        const std::string gamma = g.constant(name + "/gamma", along,
                                             layer.scale ? weight(layer, "gamma", {c}).data : ones);
        const std::string beta = g.constant(name + "/beta", along,
                                            layer.center ? weight(layer, "beta", {c}).data : zeros);
        auto mean_over_channels = [&](const std::string& in, const std::string& what) {
          onnx::NodeProto* n = g.node("ReduceMean", {in}, name + ":" + what);
          GraphBuilder::ints(n, "axes", {1});
          GraphBuilder::integer(n, "keepdims", 1);
          return n->output(0);
        };
        const std::string centered =
            g.node("Sub", {x, mean_over_channels(x, "mean")}, name + ":centered")->output(0);
        const std::string square = g.node("Mul", {centered, centered}, name + ":square")->output(0);
        const std::string eps =
            g.constant(name + ":epsilon", {}, {static_cast<float>(layer.epsilon)});
        const std::string var_eps =
            g.node("Add", {mean_over_channels(square, "variance"), eps}, name + ":var_eps")
                ->output(0);
        const std::string inv_std =
            g.node("Reciprocal", {g.node("Sqrt", {var_eps}, name + ":std")->output(0)},
                   name + ":inv_std")
                ->output(0);
        const std::string xhat = g.node("Mul", {centered, inv_std}, name + ":xhat")->output(0);
        x = g.node("Add", {g.node("Mul", {xhat, gamma}, name + ":scaled")->output(0), beta},
                   name + ":ln")
                ->output(0);
        break;
      }
      case LayerKind::activation: activation(layer.activation, name); break;
      case LayerKind::dropout:
      case LayerKind::random_flip:
      case LayerKind::random_translation:
      case LayerKind::random_zoom: break;  // identities at inference
      case LayerKind::reshape: {  // in Keras's order: NHWC, reshape, back to NCHW for an image
        const std::vector<int64_t>& out = shapes[i].output;
        if (image) {
          onnx::NodeProto* t = g.node("Transpose", {x}, name + ":nhwc");
          GraphBuilder::ints(t, "perm", {0, 2, 3, 1});
          x = t->output(0);
        }
        std::vector<int64_t> dims{-1};
        dims.insert(dims.end(), out.begin(), out.end());
        x = g.node("Reshape", {x, g.int64s(name + "/shape", dims)}, name + ":reshape")->output(0);
        if (out.size() == 3) {
          onnx::NodeProto* t = g.node("Transpose", {x}, name + ":nchw");
          GraphBuilder::ints(t, "perm", {0, 3, 1, 2});
          x = t->output(0);
        }
        break;
      }
      case LayerKind::zero_padding2d: {  // pads: begins (N, C, H, W), then ends
        const auto& p = layer.zero_padding;
        x = g.node("Pad", {x, g.int64s(name + "/pads", {0, 0, p[0], p[2], 0, 0, p[1], p[3]})},
                   name + ":pad")
                ->output(0);
        break;
      }
      case LayerKind::global_max_pooling2d:
      case LayerKind::global_average_pooling2d: {
        const bool max = layer.kind == LayerKind::global_max_pooling2d;
        x = g.node(max ? "GlobalMaxPool" : "GlobalAveragePool", {x}, name + ":pool")->output(0);
        onnx::NodeProto* f = g.node("Flatten", {x}, name + ":flatten");
        GraphBuilder::integer(f, "axis", 1);
        x = f->output(0);
        image = false;
        break;
      }
      case LayerKind::embedding: {  // Keras's call: the ids cast to integers, then take rows
        const int64_t v = layer.input_dim, f = layer.output_dim;
        onnx::NodeProto* cast = g.node("Cast", {x}, name + ":cast");
        GraphBuilder::integer(cast, "to", onnx::TensorProto::INT64);
        const std::string table =
            g.constant(name + "/embeddings", {v, f}, weight(layer, "embeddings", {v, f}).data);
        onnx::NodeProto* gather = g.node("Gather", {table, cast->output(0)}, name + ":gather");
        GraphBuilder::integer(gather, "axis", 0);
        x = gather->output(0);
        break;
      }
      case LayerKind::permute: {  // in Keras's order, as reshape does
        if (image) {
          onnx::NodeProto* t = g.node("Transpose", {x}, name + ":nhwc");
          GraphBuilder::ints(t, "perm", {0, 2, 3, 1});
          x = t->output(0);
        }
        std::vector<int64_t> perm{0};
        for (int d : layer.permute_dims) perm.push_back(d);
        onnx::NodeProto* p = g.node("Transpose", {x}, name + ":permute");
        GraphBuilder::ints(p, "perm", perm);
        x = p->output(0);
        if (shapes[i].output.size() == 3) {
          onnx::NodeProto* t = g.node("Transpose", {x}, name + ":nchw");
          GraphBuilder::ints(t, "perm", {0, 3, 1, 2});
          x = t->output(0);
        }
        break;
      }
      case LayerKind::flatten: {
        if (image) {  // Keras flattens (H, W, C): to NHWC first
          onnx::NodeProto* t = g.node("Transpose", {x}, name + ":nhwc");
          GraphBuilder::ints(t, "perm", {0, 2, 3, 1});
          x = t->output(0);
        }
        onnx::NodeProto* f = g.node("Flatten", {x}, name + ":flatten");
        GraphBuilder::integer(f, "axis", 1);
        x = f->output(0);
        image = false;
        break;
      }
      case LayerKind::dense: {
        const int64_t in = c, out = layer.units;
        std::vector<std::string> inputs = {
            x, g.constant(name + "/kernel", {in, out}, weight(layer, "kernel", {in, out}).data)};
        if (layer.use_bias)
          inputs.push_back(g.constant(name + "/bias", {out}, weight(layer, "bias", {out}).data));
        x = g.node("Gemm", inputs, name + ":gemm")->output(0);
        activation(layer.activation, name);
        break;
      }
      case LayerKind::simple_rnn:
      case LayerKind::gru:
      case LayerKind::lstm:
      case LayerKind::bidirectional: {
        // ONNX's RNN, GRU and LSTM ops over (T, N, F). Gate orders: LSTM i, o, f, c (Keras: i,
        // f, c, o); GRU z, r, h as Keras's, reset_after as linear_before_reset. Bidirectional is
        // the op's bidirectional direction: the forward copy's weights, then the backward's.
        const bool bidirectional = layer.kind == LayerKind::bidirectional;
        const LayerConfig& cell = bidirectional ? layer.wrapped.at(0) : layer;
        std::vector<std::string> owners{name};
        if (bidirectional)
          owners = {name + "/" + bidirectional_copy_name(layer, false),
                    name + "/" + bidirectional_copy_name(layer, true)};
        const int64_t u = cell.units, f = c, directions = int64_t(owners.size());
        const bool lstm = cell.kind == LayerKind::lstm, gru = cell.kind == LayerKind::gru;
        const std::vector<int> order = lstm  ? std::vector<int>{0, 3, 1, 2}
                                       : gru ? std::vector<int>{0, 1, 2}
                                             : std::vector<int>{0};
        const int64_t gates = int64_t(order.size()), width = gates * u;
        const bool two = gru && cell.reset_after;  // GRU's input and recurrent biases
        std::vector<float> w, r, b;
        for (const std::string& owner : owners) {
          const std::vector<float> kw =
              onnx_gates(weight_of(owner, "kernel", {f, width}).data, f, u, order);
          const std::vector<float> kr =
              onnx_gates(weight_of(owner, "recurrent_kernel", {u, width}).data, u, u, order);
          w.insert(w.end(), kw.begin(), kw.end());
          r.insert(r.end(), kr.begin(), kr.end());
          if (!cell.use_bias) continue;
          // B: the input biases, then the recurrent ones (0 for a cell with one bias).
          const NamedTensor& bias =
              two ? weight_of(owner, "bias", {2, width}) : weight_of(owner, "bias", {width});
          const std::vector<float> input = onnx_gates(
              std::vector<float>(bias.data.begin(), bias.data.begin() + width), 1, u, order);
          b.insert(b.end(), input.begin(), input.end());
          if (two)
            b.insert(b.end(), bias.data.begin() + width, bias.data.end());
          else
            b.resize(b.size() + size_t(width), 0.0f);
        }
        onnx::NodeProto* tn = g.node("Transpose", {x}, name + ":tnf");
        GraphBuilder::ints(tn, "perm", {1, 0, 2});
        std::vector<std::string> inputs = {
            tn->output(0), g.constant(name + "/kernel", {directions, width, f}, w),
            g.constant(name + "/recurrent_kernel", {directions, width, u}, r)};
        if (cell.use_bias) inputs.push_back(g.constant(name + "/bias", {directions, 2 * width}, b));
        onnx::NodeProto* n = g.node(lstm ? "LSTM" : gru ? "GRU" : "RNN", inputs, name + ":y");
        n->add_output(name + ":y_h");
        GraphBuilder::integer(n, "hidden_size", u);
        if (bidirectional)
          GraphBuilder::text(n, "direction", "bidirectional");
        else if (cell.go_backwards)
          GraphBuilder::text(n, "direction", "reverse");
        if (gru) GraphBuilder::integer(n, "linear_before_reset", cell.reset_after ? 1 : 0);
        onnx::AttributeProto* acts = n->add_attribute();
        acts->set_name("activations");
        acts->set_type(onnx::AttributeProto::STRINGS);
        for (int64_t d = 0; d < directions; ++d) {
          if (lstm || gru) acts->add_strings(onnx_cell_activation(cell, cell.recurrent_activation));
          acts->add_strings(onnx_cell_activation(cell, cell.activation));
          if (lstm) acts->add_strings(onnx_cell_activation(cell, cell.activation));
        }
        if (bidirectional) {
          // Y (T, 2, N, U) to (N, T, 2, U), or Y_h (2, N, U) to (N, 2, U); the reverse
          // direction's steps sit at their input times, where Keras flips them back to. Then
          // the merge over the direction axis.
          const bool steps = cell.return_sequences;
          onnx::NodeProto* t =
              g.node("Transpose", {steps ? name + ":y" : name + ":y_h"}, name + ":directions");
          GraphBuilder::ints(
              t, "perm", steps ? std::vector<int64_t>{2, 0, 1, 3} : std::vector<int64_t>{1, 0, 2});
          x = t->output(0);
          const int64_t axis = steps ? 2 : 1;
          if (layer.merge_mode == "concat") {
            x = g.node("Reshape",
                       {x, g.int64s(name + "/merged_shape", steps ? std::vector<int64_t>{0, 0, -1}
                                                                  : std::vector<int64_t>{0, -1})},
                       name + ":concat")
                    ->output(0);
          } else if (layer.merge_mode == "mul") {
            onnx::NodeProto* m = g.node("ReduceProd", {x}, name + ":mul");
            GraphBuilder::ints(m, "axes", {axis});
            GraphBuilder::integer(m, "keepdims", 0);
            x = m->output(0);
          } else {  // sum, ave: (a + b) / 2
            onnx::NodeProto* m =
                g.node("ReduceSum", {x, g.int64s(name + "/direction_axis", {axis})}, name + ":sum");
            GraphBuilder::integer(m, "keepdims", 0);
            x = m->output(0);
            if (layer.merge_mode == "ave")
              x = g.node("Div", {x, g.constant(name + ":two", {}, {2.0f})}, name + ":ave")
                      ->output(0);
          }
          break;
        }
        if (!cell.return_sequences) {  // the last step's state, Y_h (1, N, U)
          x = g.node("Squeeze", {name + ":y_h", g.int64s(name + "/direction_axis", {0})},
                     name + ":last")
                  ->output(0);
          break;
        }
        // Y (T, 1, N, U) to (N, T, U). go_backwards: Keras returns the steps in the order it
        // ran them, ONNX's reverse direction at their input times, so the time axis flips.
        x = g.node("Squeeze", {name + ":y", g.int64s(name + "/direction_axis", {1})},
                   name + ":steps")
                ->output(0);
        if (cell.go_backwards)
          x = g.node("Slice",
                     {x, g.int64s(name + "/flip_start", {-1}),
                      g.int64s(name + "/flip_end", {std::numeric_limits<int64_t>::min()}),
                      g.int64s(name + "/flip_axis", {0}), g.int64s(name + "/flip_step", {-1})},
                     name + ":flip")
                  ->output(0);
        onnx::NodeProto* nt = g.node("Transpose", {x}, name + ":ntu");
        GraphBuilder::ints(nt, "perm", {1, 0, 2});
        x = nt->output(0);
        break;
      }
      case LayerKind::time_distributed: {  // the dense on (N, T, F): MatMul, then the bias
        const LayerConfig& inner = layer.wrapped.at(0);
        const int64_t in = c, out = inner.units;
        x = g.node("MatMul",
                   {x, g.constant(name + "/kernel", {in, out},
                                  weight(layer, "kernel", {in, out}).data)},
                   name + ":matmul")
                ->output(0);
        if (inner.use_bias)
          x = g.node("Add",
                     {x, g.constant(name + "/bias", {out}, weight(layer, "bias", {out}).data)},
                     name + ":bias")
                  ->output(0);
        activation(inner.activation, name);
        break;
      }
      default:
        not_exported +=
            (not_exported.empty() ? "" : ", ") + name + " (" + layer_key(layer.kind) + ")";
    }
    tensors.push_back(x);
  }
  x = tensors.back();
  image = shapes.back().output.size() == 3;
  c = shapes.back().output.back();  // the output's width (the classes)
  if (!not_exported.empty())
    throw InputError("export: these layers have no ONNX form in repro: " + not_exported);
  if (image) throw InputError("export: the model ends on an image; end it with dense layers");
  onnx::NodeProto* softmax = g.node("Softmax", {x}, "probabilities");
  GraphBuilder::integer(softmax, "axis", 1);
  add_value_info(graph.add_output(), "probabilities", onnx::TensorProto::FLOAT,
                 {"batch", std::to_string(c)});
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw RuntimeError(std::string("export: the ONNX checker refuses the graph: ") + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw RuntimeError("export: protobuf serialization failed");
  return bytes;
}

}  // namespace repro
