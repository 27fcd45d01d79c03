// The dataset registry: which files make up mnist and fashion_mnist, where they are looked for
// (docs/design/formats.md, "Data files"), their published SHA-256, and the verified download into
// the cache. It does not parse IDX (idx.cpp) and never trusts a download whose checksum does not
// match.
#include <curl/curl.h>

#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/cifar.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "data/image_folder.h"
#include "data/npz.h"
#include "record/history.h"
#include "record/run_record.h"

namespace repro {

namespace fs = std::filesystem;

namespace {

// MNIST: values in ../shared/data/README.md (also tensorflow/datasets url_checksums/mnist.txt).
const std::vector<DatasetFile> kMnistFiles = {
    {"train-images-idx3-ubyte.gz",
     "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
    {"train-labels-idx1-ubyte.gz",
     "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
    {"t10k-images-idx3-ubyte.gz",
     "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
    {"t10k-labels-idx1-ubyte.gz",
     "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
};

// Fashion-MNIST: tensorflow/datasets url_checksums/fashion_mnist.txt (same file sizes as the
// project's README: 26421880, 29515, 4422102, 5148 bytes).
const std::vector<DatasetFile> kFashionFiles = {
    {"train-images-idx3-ubyte.gz",
     "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"},
    {"train-labels-idx1-ubyte.gz",
     "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"},
    {"t10k-images-idx3-ubyte.gz",
     "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"},
    {"t10k-labels-idx1-ubyte.gz",
     "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"},
};

// CIFAR-10, binary version: the MD5 its authors publish on the dataset's page
// (https://www.cs.toronto.edu/~kriz/cifar.html).
const std::vector<DatasetFile> kCifar10Files = {
    {"cifar-10-binary.tar.gz", "", "c32a1d4ab5d03f1284b67883e8d87530"},
};

// The checksum of `path` of the kind `f` publishes.
std::string file_checksum(const DatasetFile& f, const std::string& path) {
  return f.md5.empty() ? sha256_file(path) : md5_file(path);
}

}  // namespace

int64_t published_train_images(const std::string& dataset) {
  if (dataset == "cifar10") return 50000;
  return dataset == "mnist" || dataset == "fashion_mnist" ? 60000 : 0;
}

namespace {

std::vector<std::string> official_mirrors(const std::string& dataset) {
  if (dataset == "mnist") {
    return {"https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/"};
  }
  if (dataset == "cifar10") return {"https://www.cs.toronto.edu/~kriz/"};
  return {"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"};
}

std::vector<std::string> mirrors(const std::string& dataset) {
  const char* mirror = std::getenv("REPRO_DATA_MIRROR");
  if (mirror && *mirror) {
    std::string base = mirror;
    if (base.back() != '/') base += '/';
    return {base};
  }
  return official_mirrors(dataset);
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// The file as named, or its uncompressed twin (name without ".gz"); "" when neither exists.
std::string find_in(const std::string& dir, const std::string& gz_name) {
  std::error_code ec;
  fs::path gz = fs::path(dir) / gz_name;
  if (fs::is_regular_file(gz, ec)) return gz.string();
  fs::path raw = fs::path(dir) / gz_name.substr(0, gz_name.size() - 3);
  if (fs::is_regular_file(raw, ec)) return raw.string();
  return "";
}

std::string how_to_provide(const std::string& dataset) {
  const auto& files = dataset_files(dataset);
  const std::string what = files.size() == 1 ? files[0].name
                                             : "the " + std::to_string(files.size()) + " files (" +
                                                   files[0].name + ", ...)";
  return "put " + what + " in a folder and pass --set data.dir=FOLDER, or set " +
         "REPRO_DATA_DIR=PARENT with " + (files.size() == 1 ? "it" : "them") + " in PARENT/" +
         dataset + "/";
}

size_t write_to_file(char* data, size_t size, size_t count, void* file) {
  return std::fwrite(data, size, count, static_cast<FILE*>(file));
}

// Downloads `url` to `path`; returns "" on success or curl's reason.
std::string curl_download(const std::string& url, const std::string& path) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  FILE* out = std::fopen(path.c_str(), "wb");
  if (!out) throw RuntimeError(path + ": cannot open for writing; check the folder is writable");
  CURL* curl = curl_easy_init();
  if (!curl) {
    std::fclose(out);
    throw RuntimeError("curl_easy_init failed");
  }
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_to_file);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
  // Give up on a stalled transfer: under 1 kB/s for 30 s.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1000L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 30L);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  const bool closed = std::fclose(out) == 0;
  if (rc != CURLE_OK) return error[0] ? std::string(error) : curl_easy_strerror(rc);
  if (!closed) return "cannot write " + path + " (disk full?)";
  return "";
}

}  // namespace

const std::vector<DatasetFile>& dataset_files(const std::string& dataset) {
  if (dataset == "mnist") return kMnistFiles;
  if (dataset == "fashion_mnist") return kFashionFiles;
  if (dataset == "cifar10") return kCifar10Files;
  if (dataset == "idx") {
    throw InputError(
        "dataset idx: its files are the four data.* paths of the config; they have "
        "no published checksums to fetch or verify");
  }
  throw InputError("unknown dataset '" + dataset +
                   "'; expected mnist, fashion_mnist, cifar10 or idx");
}

std::string dataset_cache_dir(const std::string& dataset) {
  std::string base = env_or_empty("XDG_CACHE_HOME");
  if (base.empty()) {
    const std::string home = env_or_empty("HOME");
    base = (home.empty() ? fs::temp_directory_path() : fs::path(home) / ".cache").string();
  }
  return (fs::path(base) / "repro" / "datasets" / dataset).string();
}

std::vector<std::string> dataset_search_dirs(const std::string& dataset, const std::string& dir) {
  dataset_files(dataset);  // rejects unknown names
  std::vector<std::string> dirs;
  if (!dir.empty()) dirs.push_back(dir);
  const std::string data_dir = env_or_empty("REPRO_DATA_DIR");
  if (!data_dir.empty()) dirs.push_back((fs::path(data_dir) / dataset).string());
  dirs.push_back(dataset_cache_dir(dataset));
  if (dataset == "fashion_mnist") dirs.push_back("/usr/share/datasets/fashion-mnist");
  return dirs;
}

std::vector<FileCheck> verify_dataset(const std::string& dataset, const std::string& dir) {
  const auto& files = dataset_files(dataset);
  std::string folder = dir;
  if (folder.empty()) {
    const auto dirs = dataset_search_dirs(dataset, "");
    folder = dirs.front();
    for (const auto& d : dirs) {
      bool any = false;
      for (const auto& f : files) any = any || fs::exists(fs::path(d) / f.name);
      if (any) {
        folder = d;
        break;
      }
    }
  }
  std::vector<FileCheck> checks;
  for (const auto& f : files) {
    FileCheck c;
    c.path = (fs::path(folder) / f.name).string();
    c.expected = f.checksum();
    std::error_code ec;
    c.present = fs::is_regular_file(c.path, ec);
    if (c.present) {
      c.sha256 = file_checksum(f, c.path);
      c.ok = c.sha256 == c.expected;
    }
    checks.push_back(c);
  }
  return checks;
}

std::vector<FileCheck> fetch_dataset(const std::string& dataset, const std::string& dir) {
  const auto& files = dataset_files(dataset);
  const std::string folder = dir.empty() ? dataset_cache_dir(dataset) : dir;
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) {
    throw RuntimeError(folder + ": cannot create folder: " + ec.message() +
                       "; pass --dir with a writable folder");
  }
  std::vector<FileCheck> checks = verify_dataset(dataset, folder);
  for (size_t i = 0; i < files.size(); ++i) {
    FileCheck& c = checks[i];
    if (c.ok) continue;
    const std::string tmp = c.path + ".part." + std::to_string(::getpid());
    std::string failures;
    bool got = false;
    for (const auto& base : mirrors(dataset)) {
      const std::string url = base + files[i].name;
      const std::string why = curl_download(url, tmp);
      if (why.empty()) {
        const std::string sha = file_checksum(files[i], tmp);
        if (sha != c.expected) {
          fs::remove(tmp, ec);
          throw RuntimeError(url + ": checksum mismatch: " + files[i].checksum_kind() + " " + sha +
                             ", expected " + c.expected +
                             "; the download was deleted. Retry later, or " +
                             how_to_provide(dataset));
        }
        fs::rename(tmp, c.path, ec);
        if (ec) {
          fs::remove(tmp, ec);
          throw RuntimeError(c.path + ": cannot move the download into place: " + ec.message());
        }
        c.sha256 = sha;
        c.present = c.ok = c.downloaded = true;
        got = true;
        break;
      }
      failures += (failures.empty() ? "" : "; ") + url + ": " + why;
      fs::remove(tmp, ec);
    }
    if (!got) {
      throw RuntimeError("cannot download " + dataset + " " + files[i].name + " (" + failures +
                         "); without network, " + how_to_provide(dataset));
    }
  }
  return checks;
}

std::string image_shape_text(const Dataset& d) {
  return std::to_string(d.rows) + "x" + std::to_string(d.cols) +
         (d.channels == 1 ? "" : "x" + std::to_string(d.channels));
}

namespace {

// run.json's entry for a data file: its absolute path and SHA-256 (compare names changed data).
std::string described(const std::string& path) {
  return fs::absolute(path).string() + " (sha256 " + sha256_file(path) + ")";
}

// The config's files as read, before data.limit and data.validation_split.
Splits read_splits(const DataConfig& data) {
  if (data.dataset == "cifar10") {
    // The archive, else a folder it was extracted into, in the search order; else a download.
    std::string source;
    for (const auto& d : dataset_search_dirs(data.dataset, data.dir)) {
      source = find_in(d, kCifar10Files[0].name);
      const fs::path extracted = fs::path(d) / "cifar-10-batches-bin";
      std::error_code ec;
      if (source.empty() && fs::is_regular_file(extracted / "data_batch_1.bin", ec))
        source = extracted.string();
      if (!source.empty()) break;
    }
    if (source.empty()) source = fetch_dataset(data.dataset, "")[0].path;
    return read_cifar10(source);
  }
  if (data.dataset == "npz") return read_npz_splits(data.path, data.keys);
  if (data.dataset == "image_folder") return read_image_folder_splits(data);
  if (data.dataset == "csv") return read_csv_splits(data);
  std::vector<std::string> paths;
  if (data.dataset == "idx") {
    paths = {data.train_images, data.train_labels};
    if (!data.test_images.empty() || !data.test_labels.empty())
      paths.insert(paths.end(), {data.test_images, data.test_labels});
    for (const auto& p : paths) {
      if (p.empty()) {
        throw InputError(
            "dataset idx needs data.train_images and data.train_labels, and data.test_images "
            "with data.test_labels or neither");
      }
    }
  } else {
    const auto& files = dataset_files(data.dataset);
    const auto dirs = dataset_search_dirs(data.dataset, data.dir);
    for (const auto& d : dirs) {
      std::vector<std::string> found;
      for (const auto& f : files) {
        const std::string p = find_in(d, f.name);
        if (p.empty()) break;
        found.push_back(p);
      }
      if (found.size() == files.size()) {
        paths = found;
        break;
      }
    }
    if (paths.empty()) {
      for (const auto& c : fetch_dataset(data.dataset, "")) paths.push_back(c.path);
    }
  }
  Splits s;
  if (paths.size() == 2) {  // idx without a test split
    s.train = read_idx(paths[0], paths[1]);
    for (const auto& p : paths) s.files.push_back(described(p));
    return s;
  }
  // The test split inflates on its own thread while the (six times larger) training split does.
  auto test = std::async(std::launch::async, [&paths] { return read_idx(paths[2], paths[3]); });
  s.train = read_idx(paths[0], paths[1]);
  s.test = test.get();
  if (s.train.rows != s.test.rows || s.train.cols != s.test.cols) {
    throw InputError(paths[2] + ": test images are " + std::to_string(s.test.rows) + "x" +
                     std::to_string(s.test.cols) + " but training images are " +
                     std::to_string(s.train.rows) + "x" + std::to_string(s.train.cols));
  }
  for (const auto& p : paths) s.files.push_back(described(p));
  return s;
}

}  // namespace

void hold_out_validation(Splits& s, double validation_split) {
  if (validation_split <= 0) return;
  Dataset& train = s.train;
  // Keras's train_validation_split: split_at = floor(n * (1 - validation_split)), in double.
  const auto split_at =
      static_cast<int64_t>(std::floor(static_cast<double>(train.count) * (1.0 - validation_split)));
  if (split_at <= 0 || split_at >= train.count)
    throw InputError("data.validation_split: " + std::to_string(train.count) +
                     " training images cannot be split into training and validation images by " +
                     python_float_repr(validation_split) + "; use more images or another fraction");
  Dataset& val = s.validation;
  val.rows = train.rows, val.cols = train.cols, val.channels = train.channels;
  val.count = train.count - split_at;
  if (train.is_encoded()) {
    val.encoded.assign(train.encoded.begin() + split_at, train.encoded.end());
    val.names.assign(train.names.begin() + split_at, train.names.end());
  } else if (train.is_table()) {
    val.features.assign(
        train.features.begin() + static_cast<ptrdiff_t>(split_at * train.image_size()),
        train.features.end());
  } else {
    const size_t image = train.image_size();
    val.images.assign(train.images.begin() + static_cast<ptrdiff_t>(split_at * image),
                      train.images.end());
  }
  val.labels.assign(train.labels.begin() + split_at, train.labels.end());
  train.keep_first(split_at);
}

void resolve_input(RunConfig& config) {
  DataConfig& data = config.data;
  if (data.dataset == "csv" && data.features == 0) data.features = csv_feature_count(data);
  // An .npz's images set the input: their channels, and their size through an identity resize
  // (the same bits as none) when the config gives no resize and they are not 28x28.
  if (data.dataset == "npz" && (data.channels == 0 || data.resize[0] == 0)) {
    const std::array<int, 3> shape = npz_image_shape(data.path, data.keys[0]);
    if (data.channels == 0) data.channels = shape[2];
    if (data.resize[0] == 0 && (shape[0] != 28 || shape[1] != 28))
      data.resize = {shape[0], shape[1]};
  }
}

Splits load_splits(const DataConfig& data) {
  Splits s = read_splits(data);
  s.train.keep_first(data.limit);
  hold_out_validation(s, data.validation_split);
  return s;
}

}  // namespace repro
