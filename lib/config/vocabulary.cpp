// The config's closed lists of keys and words (config/vocabulary.h), read by the decoder, the
// validation and the JSON Schema alike. The layers and their arguments are in decode.cpp
// (layer_vocabulary), beside the code that reads them.
#include "config/vocabulary.h"

namespace repro::config_detail {

#define REPRO_WORDS(function, ...)                            \
  const std::vector<std::string>& function() {                \
    static const std::vector<std::string> words{__VA_ARGS__}; \
    return words;                                             \
  }
REPRO_WORDS(top_level_keys, "seed", "rng", "determinism", "device", "threads", "initial_weights",
            "data", "model", "training")
REPRO_WORDS(data_keys, "dataset", "dir", "train_images", "train_labels", "test_images",
            "test_labels", "path", "keys", "limit", "shuffle", "shuffle_buffer",
            "reshuffle_each_iteration", "batch_size", "resize", "num_parallel_calls", "prefetch",
            "channels", "validation_split", "directory", "test_directory", "color_mode",
            "image_size", "test_path", "label", "features")
REPRO_WORDS(npz_array_keys, "x_train", "y_train", "x_test", "y_test")
REPRO_WORDS(training_keys, "epochs", "optimizer", "loss", "metrics", "validation", "checkpoint",
            "trace", "log", "early_stopping", "reduce_lr_on_plateau")
REPRO_WORDS(checkpoint_keys, "every", "keep", "best")
REPRO_WORDS(monitor_keys, "monitor", "mode")
REPRO_WORDS(early_stopping_keys, "monitor", "mode", "min_delta", "patience", "baseline",
            "restore_best_weights", "start_from_epoch")
REPRO_WORDS(reduce_lr_keys, "monitor", "mode", "factor", "patience", "min_delta", "cooldown",
            "min_lr")
REPRO_WORDS(interval_keys, "every")
REPRO_WORDS(rng_names, "jax", "tf")
REPRO_WORDS(determinism_words, "on", "off", "portable", "true", "false")
REPRO_WORDS(device_names, "cpu", "cuda")
REPRO_WORDS(dataset_names, "mnist", "fashion_mnist", "cifar10", "idx", "npz", "image_folder", "csv")
REPRO_WORDS(color_modes, "grayscale", "rgb")
REPRO_WORDS(activation_names, "relu", "sigmoid", "tanh", "softmax", "linear", "elu", "leaky_relu",
            "softplus", "hard_sigmoid", "gelu", "gelu_approximate", "silu", "swish")
REPRO_WORDS(padding_names, "valid", "same")
REPRO_WORDS(flip_modes, "horizontal", "vertical", "horizontal_and_vertical")
REPRO_WORDS(merge_modes, "concat", "sum", "mul", "ave")
REPRO_WORDS(fill_modes, "reflect", "wrap", "constant", "nearest")
REPRO_WORDS(interpolation_names, "bilinear", "nearest")
REPRO_WORDS(variance_modes, "fan_in", "fan_out", "fan_avg")
REPRO_WORDS(variance_distributions, "truncated_normal", "untruncated_normal", "uniform", "normal")
REPRO_WORDS(schedule_names, "exponential_decay", "cosine_decay", "piecewise_constant_decay")
REPRO_WORDS(monitor_names, "loss", "accuracy", "val_loss", "val_accuracy")
REPRO_WORDS(monitor_modes, "auto", "min", "max")
REPRO_WORDS(loss_names, "sparse_categorical_crossentropy")
REPRO_WORDS(metric_names, "accuracy")
#undef REPRO_WORDS

const std::vector<std::string>& boolean_words(bool value) {
  static const std::vector<std::string> yes{"true", "True", "TRUE", "on", "On", "ON", "yes", "Yes"},
      no{"false", "False", "FALSE", "off", "Off", "OFF", "no", "No"};
  return value ? yes : no;
}

std::string words_text(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i)
    out += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
  return out;
}

}  // namespace repro::config_detail
