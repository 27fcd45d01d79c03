// The config's vocabulary: every key the decoder accepts in each map and every closed list of
// words, in one place. decode.cpp and validate.cpp check configs with these lists, and schema.cpp
// writes the JSON Schema (`repro schema`) and the `--set` completions from them, so an editor,
// the completion and the decoder cannot disagree on a key. Internal to lib/config (and its tests).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace repro::config_detail {

// A layer's key in `model:` (conv2d), its kind, and the arguments it takes besides `inputs`.
struct LayerVocabulary {
  std::string key;
  LayerKind kind;
  std::vector<std::string> arguments;
};
const std::vector<LayerVocabulary>& layer_vocabulary();
// The kinds a wrapper takes as its `layer`: bidirectional the recurrent layers, time_distributed
// dense; none for other kinds.
std::vector<LayerKind> wrappable_kinds(LayerKind wrapper);

// The keys of each map, in the order the README lists them.
const std::vector<std::string>& top_level_keys();       // seed, rng, ..., training
const std::vector<std::string>& data_keys();            // data.*
const std::vector<std::string>& npz_array_keys();       // data.keys.*: x_train, ...
const std::vector<std::string>& training_keys();        // training.*
const std::vector<std::string>& checkpoint_keys();      // training.checkpoint.*
const std::vector<std::string>& monitor_keys();         // training.checkpoint.best.*
const std::vector<std::string>& early_stopping_keys();  // training.early_stopping.*
const std::vector<std::string>& reduce_lr_keys();       // training.reduce_lr_on_plateau.*
const std::vector<std::string>& interval_keys();        // training.log.*, training.trace.*

// The closed lists of words.
const std::vector<std::string>& rng_names();          // jax, tf
const std::vector<std::string>& determinism_words();  // on, off, portable, true, false
const std::vector<std::string>& device_names();       // cpu, cuda
const std::vector<std::string>& dataset_names();      // mnist, ..., csv
const std::vector<std::string>& color_modes();        // grayscale, rgb
const std::vector<std::string>& activation_names();   // relu, ... (silu and swish both)
const std::vector<std::string>& padding_names();      // valid, same
const std::vector<std::string>& flip_modes();         // random_flip's mode
const std::vector<std::string>& merge_modes();        // bidirectional's merge_mode
const std::vector<std::string>& fill_modes();         // random_translation, random_zoom
const std::vector<std::string>& interpolation_names();
const std::vector<std::string>& variance_modes();          // variance_scaling's mode
const std::vector<std::string>& variance_distributions();  // variance_scaling's distribution
const std::vector<std::string>& schedule_names();          // the learning-rate schedules
const std::vector<std::string>& monitor_names();           // loss, accuracy, val_*
const std::vector<std::string>& monitor_modes();           // auto, min, max
const std::vector<std::string>& loss_names();              // sparse_categorical_crossentropy
const std::vector<std::string>& metric_names();            // accuracy
// The words a boolean key accepts unquoted (true ... yes, false ... no).
const std::vector<std::string>& boolean_words(bool value);

// "a, b or c": a list as the messages name it.
std::string words_text(const std::vector<std::string>& words);

}  // namespace repro::config_detail
