// The divergence trace (trace.jsonl in a run folder): every N steps, the SHA-256 of each parameter
// and of each layer's output and gradient. The trainer fills it; compare reads two of them.
// It does not decide what is traced or when.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace repro {

struct TraceEntry {
  int64_t step = 0;    // global optimizer step (1-based) the digest was taken at
  int epoch = 0;       // 1-based
  int64_t batch = 0;   // batch index within the epoch (0-based)
  std::string tensor;  // "conv2d_1/kernel", "conv2d_1/kernel_grad", "conv2d_1/output",
                       // "conv2d_1/output_grad"
  std::string sha256;  // lowercase hex of the float32 bytes
};

// One JSON object per line, in the order given; written atomically.
std::string trace_to_jsonl(const std::vector<TraceEntry>& entries);
void write_trace(const std::string& path, const std::vector<TraceEntry>& entries);
// Throws InputError "file:line:col: message" for a malformed line.
std::vector<TraceEntry> parse_trace(const std::string& jsonl_text, const std::string& file_label);
std::vector<TraceEntry> read_trace(const std::string& path);

}  // namespace repro
