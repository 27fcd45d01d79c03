// The run configuration: plain structs with Keras-style defaults, loaded from YAML and validated.
// config.cpp is the only file that includes yaml-cpp; everything else sees these structs.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "init/initializers.h"

namespace repro {

// Where a value came from, for error messages ("file:line:col").
struct SourcePlace {
  std::string file;
  int line = 0, col = 0;  // 1-based; 0 = unknown (defaults)
};

enum class Device { cpu, cuda };
// on: bit-identical on the same machine and build, for any thread count; off: fastest kernels;
// portable: bit-identical on any x86-64 CPU and compiler too (the portable backend).
enum class Determinism { off, on, portable };
const char* determinism_name(Determinism d);  // "off", "on", "portable"
enum class LayerKind {
  conv2d,
  max_pooling2d,
  dropout,
  global_average_pooling2d,
  flatten,
  dense,
  average_pooling2d,
  activation,
  batch_normalization,
  random_flip,
  random_translation,
  random_zoom,
  global_max_pooling2d,
  zero_padding2d,
  reshape,
  layer_normalization,
  depthwise_conv2d,
  separable_conv2d,
  // recurrent layers: a sequence (timesteps, features) in
  simple_rnn,
  lstm,
  gru,
  permute,    // Keras's Permute: the sample's axes reordered
  embedding,  // Keras's Embedding: a vector of token ids -> a sequence of their rows
  // wrappers: one layer inside (LayerConfig::wrapped)
  bidirectional,     // a recurrent layer run forwards and backwards, the outputs merged
  time_distributed,  // a dense layer applied to every timestep
  // merge layers: several inputs, one output (Keras's keras.layers.Add, ...)
  add,
  subtract,
  multiply,
  average,
  maximum,
  minimum,
  concatenate,
};
bool is_merge(LayerKind kind);
enum class Activation {
  linear,
  relu,
  softmax,
  sigmoid,
  tanh,
  elu,
  leaky_relu,
  softplus,
  hard_sigmoid,
  gelu,              // keras.activations.gelu, approximate=False (erfc)
  gelu_approximate,  // keras.activations.gelu(x, approximate=True) (tanh)
  silu               // keras.activations.silu, also named swish
};
enum class Padding { valid, same };

inline InitializerSpec named_initializer(const std::string& name) {
  InitializerSpec spec;
  spec.name = name;
  return spec;
}

struct LayerConfig {
  LayerKind kind = LayerKind::dense;
  std::string name;  // Keras-style auto name when not given: conv2d, conv2d_1, dense, ...
  SourcePlace place;
  // The layers whose outputs this one takes, by name ("input": the model's input); empty: the
  // previous layer's output (a list of layers is a Sequential model). Merge layers need two or
  // more.
  std::vector<std::string> inputs;

  // conv2d
  int filters = 0;
  std::array<int, 2> kernel_size{3, 3};
  std::array<int, 2> strides{1, 1};  // conv2d; the pooling layers default to pool_size
  Padding padding = Padding::valid;
  // dense
  int units = 0;
  // conv2d, dense, activation
  Activation activation = Activation::linear;
  bool use_bias = true;
  InitializerSpec kernel_initializer{};    // glorot_uniform
  InitializerSpec bias_initializer = [] {  // zeros (a designated initializer would warn)
    InitializerSpec zeros;
    zeros.name = "zeros";
    return zeros;
  }();
  // depthwise_conv2d, separable_conv2d: depth_multiplier output channels per input channel
  // (Keras's order: input channel c gives outputs c * depth_multiplier + m); separable_conv2d
  // then mixes them with a 1x1 convolution to `filters` channels.
  int depth_multiplier = 1;
  InitializerSpec depthwise_initializer{};  // glorot_uniform
  InitializerSpec pointwise_initializer{};  // glorot_uniform
  // simple_rnn, lstm (units, activation tanh, use_bias, kernel_ and bias_initializer above):
  // Keras 3's arguments and defaults. dropout masks the inputs and recurrent_dropout the state,
  // each mask drawn once per sequence.
  Activation recurrent_activation = Activation::sigmoid;  // lstm's gates
  InitializerSpec recurrent_initializer = named_initializer("orthogonal");
  bool unit_forget_bias = true;  // lstm: the forget gate's bias starts at 1
  double dropout = 0.0, recurrent_dropout = 0.0;
  bool return_sequences = false, go_backwards = false;
  bool reset_after = true;  // gru: the reset gate applied after the recurrent product (Keras 3)
  // bidirectional, time_distributed: the one layer they wrap (Keras's `layer` argument), and
  // bidirectional's merge_mode: concat | sum | mul | ave
  std::vector<LayerConfig> wrapped;
  std::string merge_mode = "concat";
  // max_pooling2d, average_pooling2d
  std::array<int, 2> pool_size{2, 2};
  // zero_padding2d: rows added at the top and bottom, columns at the left and right (Keras's
  // padding: n, [h, w] or [[top, bottom], [left, right]]; default 1 everywhere)
  std::array<int, 4> zero_padding{1, 1, 1, 1};
  // reshape: Keras's target_shape, (H, W, C) or (F), one entry may be -1 (the rest of the size)
  std::vector<int64_t> target_shape;
  // permute: Keras's dims, the input axes (1-based, without the batch) in their new order
  std::vector<int> permute_dims;
  // embedding: ids 0 .. input_dim - 1, each a row of output_dim values (Keras's "uniform"
  // default, RandomUniform(-0.05, 0.05)); mask_zero true is refused (no masking here)
  int input_dim = 0, output_dim = 0;
  InitializerSpec embeddings_initializer = named_initializer("random_uniform");
  bool mask_zero = false;
  // dropout
  double rate = 0.0;
  // batch_normalization and layer_normalization (Keras defaults; axis is always the channel axis,
  // -1; layer_normalization uses epsilon, center, scale and the beta and gamma initializers),
  // concatenate (the channel axis, -1, the only one supported)
  int axis = -1;
  double momentum = 0.99, epsilon = 1e-3;
  bool center = true, scale = true;
  InitializerSpec beta_initializer = named_initializer("zeros");
  InitializerSpec gamma_initializer = named_initializer("ones");
  InitializerSpec moving_mean_initializer = named_initializer("zeros");
  InitializerSpec moving_variance_initializer = named_initializer("ones");
  // random_flip, random_translation, random_zoom (active in training only)
  std::optional<int64_t> seed;                   // the layer's own seed (else the run's seed)
  std::string mode = "horizontal_and_vertical";  // random_flip: horizontal | vertical | both
  // [lower, upper] fractions: of the height / width (translation), or zoom - 1 (zoom); a
  // number f in the config means [-f, f].
  std::array<double, 2> height_factor{0.0, 0.0}, width_factor{0.0, 0.0};
  bool width_factor_given = false;         // random_zoom: else the width zooms like the height
  std::string fill_mode = "reflect";       // reflect | wrap | constant | nearest
  std::string interpolation = "bilinear";  // bilinear | nearest
  double fill_value = 0.0;
};

struct DataConfig {
  // mnist | fashion_mnist | cifar10 | idx | npz | image_folder | csv
  std::string dataset = "mnist";
  std::string dir;  // optional folder with the four IDX files
  // dataset idx: the four files
  std::string train_images, train_labels, test_images, test_labels;
  // dataset npz: the .npz file (numpy.savez, as Keras's mnist.npz) and its arrays' names;
  // dataset csv: the table (test_path: an optional test table with the same columns)
  std::string path, test_path;
  // dataset csv: the label column's name, and the number of feature columns (every other column;
  // 0 until the table's header is read, then recorded so a saved run rebuilds its model)
  std::string label;
  int features = 0;
  std::array<std::string, 4> keys{"x_train", "y_train", "x_test", "y_test"};
  // dataset image_folder: directory/<class>/**.{png,jpg,jpeg} as Keras's
  // image_dataset_from_directory reads them (test_directory: the same layout, optional), decoded
  // to color_mode (grayscale | rgb) and resized to image_size (Keras's default 256x256)
  std::string directory, test_directory;
  std::string color_mode = "rgb";
  std::array<int, 2> image_size{256, 256};
  int64_t limit = 0;           // first N training images; 0 = all
  int64_t shuffle_buffer = 0;  // 0 = the whole training set (a full permutation)
  bool shuffle = true;
  bool reshuffle_each_iteration = true;
  int batch_size = 32;
  std::array<int, 2> resize{0, 0};  // [h, w]; 0 = keep the dataset's size (28x28, cifar10 32x32)
  // npz and idx: the images' channels (1 grayscale, 3 RGB, 4 RGBA; an (N, H, W) array is 1).
  // 0 (not given): the dataset's own, 3 for cifar10, else 1; a named dataset accepts only that.
  int channels = 0;
  // Keras's fit(validation_split=...) for arrays: the last fraction of the training images (after
  // data.limit, before any shuffling) is held out as the validation data; 0 = none.
  double validation_split = 0;
  int num_parallel_calls = 0;  // 0 = auto (the run's thread count)
  int prefetch = 0;            // batches in flight; 0 = auto (2)
};

// A Keras learning-rate schedule (keras.optimizers.schedules), a function of the optimizer's
// iteration count; name empty means the constant OptimizerConfig::learning_rate.
struct ScheduleConfig {
  std::string name;  // "" | exponential_decay | cosine_decay | piecewise_constant_decay
  double initial_learning_rate = 0.0;  // exponential_decay, cosine_decay
  int64_t decay_steps = 0;             // exponential_decay, cosine_decay
  double decay_rate = 0.0;             // exponential_decay
  bool staircase = false;              // exponential_decay
  double alpha = 0.0;                  // cosine_decay
  std::vector<int64_t> boundaries;     // piecewise_constant_decay
  std::vector<double> values;          // piecewise_constant_decay: boundaries + 1 values
};

struct OptimizerConfig {
  std::string name = "adam";  // adam | sgd | rmsprop | adamw
  double learning_rate = 0.001;
  ScheduleConfig schedule;                              // learning_rate given as a schedule map
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;  // adam, adamw (epsilon: rmsprop too)
  double momentum = 0.0;                                // sgd, rmsprop
  bool nesterov = false;                                // sgd
  double rho = 0.9;                                     // rmsprop
  bool centered = false;                                // rmsprop
  double weight_decay = 0.004;                          // adamw
};

// What a Keras monitor callback watches: a history key and its direction. mode auto: the
// losses fall (min), the accuracies rise (max), as Keras infers from the metric.
struct MonitorConfig {
  std::string monitor = "val_loss";  // loss | accuracy | val_loss | val_accuracy
  std::string mode = "auto";         // auto | min | max
};

struct CheckpointConfig {
  bool enabled = false;
  int64_t every_steps = 0;  // 0 = at the end of every epoch
  int keep = 2;             // newest K checkpoints kept
  // ModelCheckpoint(save_best_only=True): the best epoch's weights as RUN_DIR/best.safetensors.
  bool best = false;
  MonitorConfig best_monitor;
};

// keras.callbacks.EarlyStopping, its arguments and defaults.
struct EarlyStoppingConfig {
  bool enabled = false;
  MonitorConfig monitor;
  double min_delta = 0.0;
  int patience = 0;
  std::optional<double> baseline;
  bool restore_best_weights = false;
  int start_from_epoch = 0;
};

// keras.callbacks.ReduceLROnPlateau, its arguments and defaults (its mode auto: "acc" in the
// monitor's name means max).
struct ReduceLrConfig {
  bool enabled = false;
  MonitorConfig monitor;
  double factor = 0.1;
  int patience = 10;
  double min_delta = 1e-4;
  int cooldown = 0;
  double min_lr = 0.0;
};

struct TraceConfig {
  int64_t every = 0;  // record digests every N steps; 0 = off
};

struct LogConfig {
  int64_t every = 10;  // a steps.csv row every N steps, like Keras's CSVLogger per step; 0 = off
};

struct TrainingConfig {
  int epochs = 1;
  OptimizerConfig optimizer;
  std::string loss = "sparse_categorical_crossentropy";
  std::vector<std::string> metrics{"accuracy"};
  // Evaluate after every epoch (val_* in history.json): on data.validation_split's images when
  // it is set, else on the test split. `validation: test` always uses the test split.
  bool validation = true;
  bool validation_on_test = false;  // `validation: test`
  CheckpointConfig checkpoint;
  TraceConfig trace;
  LogConfig log;
  EarlyStoppingConfig early_stopping;
  ReduceLrConfig reduce_lr_on_plateau;
};

struct RunConfig {
  std::string path;  // the YAML file it came from ("" when built in code)
  std::string name;  // file stem, used for the default run folder
  int64_t seed = 0;
  RngKind rng = RngKind::jax;
  Determinism determinism = Determinism::on;
  Device device = Device::cpu;
  int threads = 0;  // 0 = all cores
  // Weights to start from instead of the initializers: a model.safetensors (or a checkpoint's
  // step-N.safetensors) of a run of the same architecture. "" = the initializers.
  std::string initial_weights;
  DataConfig data;
  std::vector<LayerConfig> model;
  TrainingConfig training;
  // Where each key was written: flattened key path ("data.batch_size", "model.0.conv2d.filters")
  // -> place. A key absent here kept its default; validate() then points at its parent.
  std::map<std::string, SourcePlace> places;
};

// The allowed ranges of the config's integers (inclusive upper bounds; lower bounds are 0 or 1 as
// each key says), and the bounds on a config document itself. A value outside is an error that
// states the range, never a wrap or a clamp.
namespace limits {
constexpr int64_t seed = 9223372036854775807;  // any non-negative 64-bit integer
constexpr int threads = 4096;
constexpr int workers = 1024;  // num_parallel_calls, prefetch
constexpr int epochs = 1000000;
constexpr int batch_size = 65536;
constexpr int64_t images = 1000000000;     // limit, shuffle_buffer
constexpr int resize = 1024;               // each side of data.resize
constexpr int channels = 512;              // data.channels
constexpr int units = 1000000;             // filters, units
constexpr int window = 4096;               // kernel_size, pool_size, strides
constexpr int keep = 1000;                 // checkpoints kept
constexpr int64_t steps = 1000000000000;   // checkpoint.every, trace.every
constexpr int64_t config_bytes = 1 << 20;  // a config file
constexpr int config_depth = 32;           // nesting of maps and lists
constexpr int64_t config_nodes = 100000;   // nodes after alias expansion
}  // namespace limits

// Shape after each layer, Keras order without the batch: (H, W, C) or (units).
struct LayerShape {
  std::string name;
  std::string kind;             // Keras class name: Conv2D, MaxPooling2D, ...
  std::vector<int> inputs;      // the layers it takes (layer_inputs); -1 is the model's input
  std::vector<int64_t> output;  // e.g. {30, 30, 32} or {64}
  int64_t params = 0;           // every weight, as Keras's Param # column
  int64_t non_trainable = 0;    // of which not trained (batch norm's moving statistics)
};

// Loads, applies `overrides` ("key.path=value", checked like the file), validates.
// Throws InputError "file:line:col: message" (overrides: "--set key.path=value: message").
RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});
RunConfig parse_config(const std::string& yaml_text, const std::string& file_label,
                       const std::vector<std::string>& overrides = {});

// Checks every value and that the model fits its input; throws InputError with the place.
void validate(const RunConfig& config);

// True when the model's input is a vector (dataset csv: data.features values), not an image.
bool flat_input(const RunConfig& config);

// The model as a graph: for each layer, the layers whose outputs it takes, in its `inputs` order
// (-1: the model's input), from its `inputs` names, else the previous layer. A name must be an
// earlier layer's (or `input`), so the layers are in an order that computes every input first and
// no cycle can be written. InputError at the layer's place for an unknown or later name, a merge
// layer with fewer than two inputs, another layer with more than one, and a layer whose output
// nothing takes (every branch must reach the last layer, the model's output).
std::vector<std::vector<int>> layer_inputs(const RunConfig& config);
// True when some layer names its inputs (a graph); false for a plain list (Sequential).
bool is_graph(const RunConfig& config);

// keras.layers.Reshape's output for `size` values per sample: `target` with its -1 (if any)
// replaced by what the other entries leave; empty when `target` cannot hold exactly `size` values.
std::vector<int64_t> reshape_target(int64_t size, const std::vector<int64_t>& target);

// The input image (H, W, C) the pipeline produces for this config: the dataset's size (28x28,
// cifar10 32x32) or the resize, and its channels.
std::array<int, 3> input_shape(const RunConfig& config);

// One spatial side of a sliding window (conv2d, the pooling layers), as Keras computes it: the
// output size (valid: floor((in - k) / stride) + 1, 0 when the window does not fit; same:
// ceil(in / stride)) and same's zero padding before and after (the extra one after).
struct WindowExtent {
  int64_t out = 0;
  int64_t pad_before = 0, pad_after = 0;
};
WindowExtent window_extent(int64_t in, int64_t k, int64_t stride, Padding padding);

// Keras-style shape inference, one entry per layer; the layers that nn/ builds agree with it
// (tests/train/test_model.cpp checks every layer kind).
std::vector<LayerShape> infer_shapes(const RunConfig& config);

// The resolved config flattened to sorted ("key.path", canonical value) pairs, every default
// filled in (model layers as "model.0.conv2d.filters", ...): for run.json, hashing and config
// diffs. Every key is also a valid `--set` path.
std::vector<std::pair<std::string, std::string>> flatten_config(const RunConfig& config);

// False for the flattened keys that never change a result bit: threads, training.epochs (more
// epochs extend a run), the checkpoint, log and trace intervals, and the pipeline's worker and
// prefetch counts. A resume may change these; every other key must match the checkpoint's.
bool key_changes_results(const std::string& flat_key);

// Keras's naming.to_snake_case: GlorotUniform -> glorot_uniform, Conv2D -> conv2d.
std::string snake_case(const std::string& name);

// The optimizers a config may name (training.optimizer.name), and "adam, sgd, rmsprop or adamw"
// for messages: decode, validate and make_optimizer all use this one list.
const std::vector<std::string>& optimizer_names();
std::string optimizer_names_text();

// Bidirectional's copies of its layer as Keras names them (bidirectional.py): forward_<name> and
// backward_<name>, a name that already has the prefix keeping it once. The copies' weights are
// "<wrapper>/<copy name>/kernel", ...
std::string bidirectional_copy_name(const LayerConfig& wrapper, bool backwards);

// The config vocabulary: layer_key conv2d, layer_class_name Conv2D, relu, same.
std::string layer_key(LayerKind kind);
std::string layer_class_name(LayerKind kind);
std::string activation_name(Activation activation);
std::string padding_name(Padding padding);

// The resolved config as canonical YAML (every key, defaults filled in) for run.json and hashing.
std::string to_yaml(const RunConfig& config);

}  // namespace repro
