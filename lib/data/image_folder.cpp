// The image_folder reader: the folder walk and order of Keras's index_directory, the files' bytes
// held for the pipeline, and a digest of the whole folder for run.json.
#include "data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <utility>

#include "core/error.h"
#include "core/fs.h"
#include "data/image_decode.h"
#include "record/run_record.h"

namespace repro {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kMaxFolderBytes = int64_t{16} << 30;
constexpr size_t kMaxClasses = 256;  // labels are one byte

// Keras's ALLOWLIST_FORMATS, compared on the lowercased name.
bool is_image_name(const std::string& name) {
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* ext : {".bmp", ".gif", ".jpeg", ".jpg", ".png"}) {
    const std::string e = ext;
    if (lower.size() >= e.size() && lower.compare(lower.size() - e.size(), e.size(), e) == 0)
      return true;
  }
  return false;
}

// The class's image files in Keras's order: sorted by (folder, file name).
std::vector<fs::path> class_files(const fs::path& dir) {
  std::vector<std::pair<std::string, std::string>> found;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || !is_image_name(it->path().filename().string())) continue;
    found.emplace_back(it->path().parent_path().string(), it->path().filename().string());
  }
  if (ec) throw InputError(dir.string() + ": cannot list the folder (" + ec.message() + ")");
  std::sort(found.begin(), found.end());
  std::vector<fs::path> files;
  for (const auto& [folder, name] : found) files.push_back(fs::path(folder) / name);
  return files;
}

}  // namespace

ImageFolder read_image_folder(const std::string& directory, int channels, int rows, int cols) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec))
    throw InputError(directory +
                     ": no such folder (data.directory must name a folder of class "
                     "folders: DIR/<class_name>/<images>)");
  ImageFolder out;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || !entry.is_directory(ec)) continue;
    out.class_names.push_back(name);
  }
  std::sort(out.class_names.begin(), out.class_names.end());
  if (out.class_names.empty())
    throw InputError(directory +
                     ": no class folders; put each class's images in their own "
                     "folder, DIR/<class_name>/<images>, as Keras's "
                     "image_dataset_from_directory reads them");
  if (out.class_names.size() > kMaxClasses)
    throw InputError(directory + ": " + std::to_string(out.class_names.size()) +
                     " class folders; at most " + std::to_string(kMaxClasses) + " are supported");
  Dataset& d = out.data;
  d.rows = rows, d.cols = cols, d.channels = channels;
  std::string listing;  // relative path, SHA-256 per file: the folder's digest
  int64_t total = 0;
  for (size_t label = 0; label < out.class_names.size(); ++label) {
    const fs::path class_dir = fs::path(directory) / out.class_names[label];
    const std::vector<fs::path> files = class_files(class_dir);
    if (files.empty())
      throw InputError(class_dir.string() +
                       ": no image files (.png, .jpg, .jpeg, .bmp, .gif) in this class folder; "
                       "add images or remove the folder");
    for (const fs::path& file : files) {
      if (d.count >= limits::images)
        throw InputError(directory + ": more than " + std::to_string(limits::images) + " images");
      std::string bytes = read_file(file.string(), kMaxImageFileBytes);
      total += static_cast<int64_t>(bytes.size());
      if (total > kMaxFolderBytes)
        throw InputError(directory + ": more than " + std::to_string(kMaxFolderBytes >> 30) +
                         " GiB of image files");
      probe_image(bytes, file.string());  // a PNG or JPEG of a bounded size, or an error
      listing += fs::relative(file, directory).generic_string() + "\t" +
                 sha256_hex(bytes.data(), bytes.size()) + "\n";
      d.encoded.push_back(std::move(bytes));
      d.names.push_back(file.string());
      d.labels.push_back(static_cast<uint8_t>(label));
      d.count += 1;
    }
  }
  out.sha256 = sha256_hex(listing.data(), listing.size());
  return out;
}

Splits read_image_folder_splits(const DataConfig& data) {
  const int channels = data.color_mode == "grayscale" ? 1 : 3;
  const auto describe = [](const std::string& dir, const ImageFolder& f) {
    return fs::absolute(dir).string() + " (folder sha256 " + f.sha256 + ", " +
           std::to_string(f.data.count) + " images in " + std::to_string(f.class_names.size()) +
           " classes)";
  };
  Splits s;
  ImageFolder train =
      read_image_folder(data.directory, channels, data.image_size[0], data.image_size[1]);
  s.files.push_back(describe(data.directory, train));
  s.train = std::move(train.data);
  if (!data.test_directory.empty()) {
    ImageFolder test =
        read_image_folder(data.test_directory, channels, data.image_size[0], data.image_size[1]);
    if (test.class_names != train.class_names) {
      std::string a, b;
      for (const auto& n : train.class_names) a += (a.empty() ? "" : ", ") + n;
      for (const auto& n : test.class_names) b += (b.empty() ? "" : ", ") + n;
      throw InputError(data.test_directory + ": its classes (" + clipped(b, 120) +
                       ") are not data.directory's (" + clipped(a, 120) +
                       "); both need the same class folders");
    }
    s.files.push_back(describe(data.test_directory, test));
    s.test = std::move(test.data);
  }
  return s;
}

}  // namespace repro
