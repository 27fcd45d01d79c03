// The safetensors format (8-byte little-endian header length, JSON header, raw little-endian
// data): weights and optimizer state readable by PyTorch, NumPy and JAX tools.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/named_tensor.h"

namespace repro {

// Writes atomically; metadata goes to the header's "__metadata__" (string values).
void write_safetensors(const std::string& path, const std::vector<NamedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
// The file's bytes, for writers that stage several files at once; `path` names it in errors.
std::string encode_safetensors(const std::vector<NamedTensor>& tensors,
                               const std::map<std::string, std::string>& metadata,
                               const std::string& path);
// Throws InputError naming the file for a malformed file or a non-F32 tensor.
std::vector<NamedTensor> read_safetensors(const std::string& path,
                                          std::map<std::string, std::string>* metadata = nullptr);
// The same from the file's bytes in memory; `file_label` names it in errors. Every size in the
// header is checked (64-bit, overflow-safe) against the bytes present before anything is copied.
std::vector<NamedTensor> parse_safetensors(std::string_view content, const std::string& file_label,
                                           std::map<std::string, std::string>* metadata = nullptr);

}  // namespace repro
