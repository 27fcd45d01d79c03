// safetensors writer and reader for float32 tensors. The header is written like the reference
// (Rust) implementation: compact JSON, "__metadata__" first, padded with spaces to 8 bytes.
// Tensors keep the caller's order in the header and the data; other dtypes are not read.
#include "record/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "record/json_text.h"

namespace repro {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this writer copies host bytes");

namespace {

using Json = nlohmann::ordered_json;

// The reference implementation's limit on the JSON header.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// The most bytes read from a file: far above repro's models, and an endless file stops there.
constexpr int64_t kMaxFileBytes = int64_t{4} << 30;

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  return count;
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, encode_safetensors(tensors, metadata, path));
}

std::string encode_safetensors(const std::vector<NamedTensor>& tensors,
                               const std::map<std::string, std::string>& metadata,
                               const std::string& path) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json meta = Json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = meta;
  }
  uint64_t offset = 0;
  for (const NamedTensor& tensor : tensors) {
    if (tensor.name.empty() || tensor.name == "__metadata__" || header.contains(tensor.name)) {
      throw RuntimeError(path + ": tensor name \"" + tensor.name +
                         "\" is empty, reserved or repeated");
    }
    for (int64_t d : tensor.shape) {
      REPRO_CHECK(d >= 0, "tensor " + tensor.name + " has a negative dimension");
    }
    REPRO_CHECK(element_count(tensor.shape) == static_cast<int64_t>(tensor.data.size()),
                "tensor " + tensor.name + ": shape and data size disagree");
    uint64_t bytes = tensor.data.size() * sizeof(float);
    header[tensor.name] = {
        {"dtype", "F32"}, {"shape", tensor.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::string content(8, '\0');
  uint64_t header_size = header_text.size();
  std::memcpy(content.data(), &header_size, 8);
  content += header_text;
  for (const NamedTensor& tensor : tensors) {
    content.append(reinterpret_cast<const char*>(tensor.data.data()),
                   tensor.data.size() * sizeof(float));
  }
  return content;
}

std::vector<NamedTensor> read_safetensors(const std::string& path,
                                          std::map<std::string, std::string>* metadata) {
  return parse_safetensors(read_file(path, kMaxFileBytes), path, metadata);
}

std::vector<NamedTensor> parse_safetensors(std::string_view content, const std::string& file_label,
                                           std::map<std::string, std::string>* metadata) {
  auto fail = [&file_label](const std::string& message) -> InputError {
    return InputError(file_label + ": not a valid safetensors file: " + message);
  };
  if (content.size() < 8) {
    throw fail("shorter than the 8-byte header length (" + std::to_string(content.size()) +
               " bytes); is the file cut short?");
  }
  uint64_t header_size = 0;
  std::memcpy(&header_size, content.data(), 8);
  if (header_size > kMaxHeaderBytes) {
    throw fail("header length " + std::to_string(header_size) + " is over the format's limit of " +
               std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (header_size > content.size() - 8) {
    throw fail("header length " + std::to_string(header_size) + " is past the end of the file (" +
               std::to_string(content.size()) + " bytes); is the file cut short?");
  }
  ParsedJson header = parse_json_text(content.substr(8, header_size), file_label + " (header)");
  if (!header.value.is_object()) throw fail("the header is not a JSON object");
  const char* data = content.data() + 8 + header_size;
  uint64_t data_size = content.size() - 8 - header_size;

  // First every entry is checked and the byte ranges shown to tile the data; only then is
  // anything copied, so overlapping entries cannot multiply the memory a file costs.
  struct Entry {
    std::string name;
    std::vector<int64_t> shape;
    uint64_t begin = 0, end = 0;
  };
  std::vector<Entry> entries;
  for (const auto& [name, entry] : header.value.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw fail("__metadata__ must be an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string())
          throw fail("__metadata__ value " + quoted_name(key) + " is not a string");
        if (metadata) (*metadata)[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string tensor_name = "tensor " + quoted_name(name);
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets")) {
      throw fail(tensor_name + " needs dtype, shape and data_offsets");
    }
    if (entry["dtype"] != "F32") {
      throw fail(tensor_name + " has dtype " + clipped(entry["dtype"].dump(), 40) +
                 "; repro reads F32 only");
    }
    Entry e;
    e.name = name;
    const Json& shape = entry["shape"];
    if (!shape.is_array()) throw fail(tensor_name + " shape is not a list");
    uint64_t count = 1;
    bool overflow = false;
    for (const Json& d : shape) {
      if (!d.is_number_unsigned())
        throw fail(tensor_name + " shape has a non-integer or negative dimension");
      const uint64_t dim = d.get<uint64_t>();
      if (dim > static_cast<uint64_t>(INT64_MAX))
        throw fail(tensor_name + " has dimension " + std::to_string(dim) + ", over 2^63 - 1");
      e.shape.push_back(static_cast<int64_t>(dim));
      overflow = overflow || __builtin_mul_overflow(count, dim, &count);
    }
    const bool empty = std::find(e.shape.begin(), e.shape.end(), 0) != e.shape.end();
    uint64_t expected = 0;
    if (!empty && (overflow || __builtin_mul_overflow(count, uint64_t{sizeof(float)}, &expected))) {
      throw fail(tensor_name + " has a shape of more than 2^64 bytes");
    }
    const Json& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      throw fail(tensor_name + " data_offsets must be [begin, end]");
    }
    e.begin = offsets[0].get<uint64_t>();
    e.end = offsets[1].get<uint64_t>();
    if (e.begin <= e.end && e.end > data_size) {
      throw fail(tensor_name + " data_offsets [" + std::to_string(e.begin) + ", " +
                 std::to_string(e.end) + "] end past the " + std::to_string(data_size) +
                 " data bytes in the file; is the file cut short?");
    }
    if (e.begin > e.end || e.end - e.begin != expected) {
      throw fail(tensor_name + " data_offsets [" + std::to_string(e.begin) + ", " +
                 std::to_string(e.end) + "] do not match its shape (" + std::to_string(expected) +
                 " bytes) or the " + std::to_string(data_size) + " data bytes");
    }
    entries.push_back(std::move(e));
  }
  // Like the reference reader: the tensors tile the data buffer exactly, without gaps or overlap.
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // [begin, end)
  for (const Entry& e : entries) ranges.emplace_back(e.begin, e.end);
  std::sort(ranges.begin(), ranges.end());
  uint64_t covered = 0;
  for (const auto& [begin, end] : ranges) {
    if (begin != covered)
      throw fail("tensor data has a gap or an overlap at byte " + std::to_string(begin));
    covered = end;
  }
  if (covered != data_size)
    throw fail("the data buffer has " + std::to_string(data_size - covered) + " unused bytes");

  std::vector<NamedTensor> tensors;
  tensors.reserve(entries.size());
  for (Entry& e : entries) {
    NamedTensor tensor;
    tensor.name = std::move(e.name);
    tensor.shape = std::move(e.shape);
    tensor.data.resize(static_cast<size_t>((e.end - e.begin) / sizeof(float)));
    if (e.end > e.begin) std::memcpy(tensor.data.data(), data + e.begin, e.end - e.begin);
    tensors.push_back(std::move(tensor));
  }
  return tensors;
}

}  // namespace repro
