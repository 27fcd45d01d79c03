// repro predict RUN INPUT [--out FILE]: class probabilities of a run's model for images given as
// an IDX image file (gzip or raw), a uint8 .npy (N, H, W) or (N, H, W, C), or one PNG or JPEG
// image (decoded to the model's channels as image_folder decodes), preprocessed as the run's
// training data (scale, resize; an image_folder run resizes to its data.image_size). Written as CSV
// (a row per image: the predicted class and one probability per class) or, for an --out ending in
// .npy, a float32 (N, K) array. Wiring only.
#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "commands.h"
#include "core/error.h"
#include "core/fs.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "data/image_decode.h"
#include "record/history.h"
#include "record/npy.h"
#include "train/saved_run.h"

namespace repro::app {

namespace {

struct PredictOptions {
  std::string run;
  std::string input;
  std::string out;
  int64_t checkpoint = -1;
  int threads = 0;
};

bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() &&
         text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// One PNG or JPEG file as a Dataset of one encoded image: decoded to the model's channels in the
// pipeline, and resized there to the run's image_size (image_folder) or kept at its own size.
Dataset read_image_file(const std::string& path, const RunConfig& config) {
  Dataset d;
  d.encoded.push_back(read_file(path, kMaxImageFileBytes));
  d.names.push_back(path);
  const ImageHeader header = probe_image(d.encoded[0], path);
  const std::array<int, 3> input = input_shape(config);
  const bool folder = config.data.dataset == "image_folder";
  d.count = 1;
  d.rows = folder ? input[0] : header.rows;
  d.cols = folder ? input[1] : header.cols;
  d.channels = input[2];
  d.labels.assign(1, 0);
  return d;
}

// The images of INPUT as a Dataset (labels 0).
Dataset read_images(const std::string& path, const RunConfig& config) {
  if (!std::filesystem::exists(path))
    throw InputError(path +
                     ": no such file; give an IDX image file, a uint8 .npy or a PNG or "
                     "JPEG image");
  std::string lower = path;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (flat_input(config)) {
    if (ends_with(lower, ".npy")) {  // float32 (N, features), as numpy holds a table
      const NpyArray a = read_npy(path);
      if (a.descr != "<f4" || a.shape.size() != 2 || a.shape[0] < 1 || a.shape[1] < 1)
        throw InputError(path + ": a table's rows as .npy must be float32 (N, features); got " +
                         a.descr + " of " + std::to_string(a.shape.size()) + " dimensions");
      Dataset d;
      d.count = a.shape[0];
      d.rows = d.cols = 1;
      d.channels = static_cast<int>(a.shape[1]);
      d.features.resize(static_cast<size_t>(d.count) * d.channels);
      std::memcpy(d.features.data(), a.data.data(), d.features.size() * sizeof(float));
      d.labels.assign(static_cast<size_t>(d.count), 0);
      return d;
    }
    if (!ends_with(lower, ".csv"))
      throw InputError(path +
                       ": the run trained on a table; give a .csv with its feature columns "
                       "(the label column may be left out) or a float32 .npy (N, features)");
    CsvLabels labels;
    return parse_csv(read_file(path, kMaxCsvBytes), path, config.data.label, labels, true);
  }
  if (ends_with(lower, ".png") || ends_with(lower, ".jpg") || ends_with(lower, ".jpeg"))
    return read_image_file(path, config);
  if (!ends_with(path, ".npy")) return read_idx_images(path);
  const NpyArray a = read_npy(path);
  const bool channel = a.shape.size() == 4 && a.shape[3] >= 1 && a.shape[3] <= limits::channels;
  if (a.descr != "|u1" && a.descr != "<u1")
    throw InputError(path + ": dtype " + a.descr +
                     "; predict takes uint8 images (0-255), as "
                     "repro reads them (numpy: x.astype(np.uint8))");
  if (!(a.shape.size() == 3 || channel) || a.shape[0] < 1 || a.shape[1] < 1 || a.shape[2] < 1)
    throw InputError(path + ": shape must be (N, H, W) or (N, H, W, C) with N, H, W >= 1");
  if (a.shape[1] > 65536 || a.shape[2] > 65536)
    throw InputError(path + ": images larger than 65536 pixels a side");
  Dataset d;
  d.count = a.shape[0];
  d.rows = static_cast<int>(a.shape[1]);
  d.cols = static_cast<int>(a.shape[2]);
  d.channels = channel ? static_cast<int>(a.shape[3]) : 1;
  d.images.assign(a.data.begin(), a.data.end());
  d.labels.assign(static_cast<size_t>(d.count), 0);
  return d;
}

int run_predict(const PredictOptions& options) {
  const SavedRun run = open_saved_run(options.run, options.checkpoint);
  const Dataset images = read_images(options.input, run.config);
  const std::array<int, 3> input = input_shape(run.config);
  if (flat_input(run.config) && images.channels != input[2])
    throw InputError(options.input + ": " + std::to_string(images.channels) +
                     " feature columns, but the run's model takes " + std::to_string(input[2]));
  if (images.channels != input[2])
    throw InputError(options.input + ": images have " + std::to_string(images.channels) +
                     " channel(s) but the run's model takes " + std::to_string(input[2]));
  if (run.config.data.resize[0] == 0 && (images.rows != input[0] || images.cols != input[1]))
    throw InputError(options.input + ": images are " + std::to_string(images.rows) + "x" +
                     std::to_string(images.cols) + " but the run's model takes " +
                     std::to_string(input[0]) + "x" + std::to_string(input[1]));
  const auto trainer = inference_trainer(run, options.threads, /*with_data=*/false);
  const std::vector<float> p = trainer->predict(images);
  const int64_t k = static_cast<int64_t>(p.size()) / images.count;
  std::string text;
  if (ends_with(options.out, ".npy")) {
    text = npy_float32({images.count, k}, p);
  } else {
    text = "predicted";
    for (int64_t j = 0; j < k; ++j) text += ",p" + std::to_string(j);
    text += "\n";
    for (int64_t i = 0; i < images.count; ++i) {
      const float* row = p.data() + i * k;
      int64_t best = 0;
      for (int64_t j = 1; j < k; ++j)
        if (row[j] > row[best]) best = j;
      text += std::to_string(best);
      for (int64_t j = 0; j < k; ++j) text += "," + python_float_repr(row[j]);
      text += "\n";
    }
  }
  if (options.out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    write_file_atomic(options.out, text);
    std::fprintf(stderr, "Predictions for %lld images: %s\n", static_cast<long long>(images.count),
                 options.out.c_str());
  }
  return 0;
}

}  // namespace

void setup_predict(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<PredictOptions>();
  auto* cmd = app.add_subcommand("predict", "Class probabilities of a run's model for images");
  cmd->add_option("RUN", options->run, "the run folder (the --out of repro train)")->required();
  cmd->add_option("INPUT", options->input,
                  "images: an IDX image file (.gz or raw), a uint8 .npy (N, H, W[, C]) or one "
                  "PNG or JPEG image")
      ->required();
  cmd->add_option("--out", options->out,
                  "where to write them: FILE.csv (default: CSV on stdout) or FILE.npy");
  cmd->add_option("--checkpoint", options->checkpoint,
                  "the weights of the checkpoint of this step (default: the final weights)")
      ->check(integer_range(0, limits::steps));
  cmd->add_option("--threads", options->threads, "CPU threads (default: the run's)")
      ->check(integer_range(1, limits::threads));
  cmd->callback([options, &exit_code] { exit_code = run_predict(*options); });
}

}  // namespace repro::app
