// trace.jsonl writer and reader: one compact JSON object per line, blank lines ignored.
#include "record/trace.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "record/json_text.h"

namespace repro {

std::string trace_to_jsonl(const std::vector<TraceEntry>& entries) {
  std::string out;
  for (const TraceEntry& entry : entries) {
    nlohmann::ordered_json line = {{"step", entry.step},
                                   {"epoch", entry.epoch},
                                   {"batch", entry.batch},
                                   {"tensor", entry.tensor},
                                   {"sha256", entry.sha256}};
    out += line.dump() + "\n";
  }
  return out;
}

void write_trace(const std::string& path, const std::vector<TraceEntry>& entries) {
  write_file_atomic(path, trace_to_jsonl(entries));
}

std::vector<TraceEntry> parse_trace(const std::string& jsonl_text, const std::string& file_label) {
  std::vector<TraceEntry> entries;
  size_t start = 0;
  int line_number = 1;
  while (start < jsonl_text.size()) {
    size_t end = jsonl_text.find('\n', start);
    if (end == std::string::npos) end = jsonl_text.size();
    std::string_view line = std::string_view(jsonl_text).substr(start, end - start);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
      ParsedJson json = parse_json_text(line, file_label, line_number);
      const auto& v = json.value;
      auto require = [&](const char* key, bool ok) {
        if (!ok) {
          throw InputError(
              json_error_at(json, "",
                            std::string("a trace line needs \"") + key +
                                "\" (step, epoch, batch: integers; tensor, sha256: strings)"));
        }
      };
      require("step", v.is_object() && v.contains("step") && v["step"].is_number_integer());
      require("epoch", v.contains("epoch") && v["epoch"].is_number_integer());
      require("batch", v.contains("batch") && v["batch"].is_number_integer());
      require("tensor", v.contains("tensor") && v["tensor"].is_string());
      require("sha256", v.contains("sha256") && v["sha256"].is_string());
      entries.push_back({v["step"].get<int64_t>(), v["epoch"].get<int>(), v["batch"].get<int64_t>(),
                         v["tensor"].get<std::string>(), v["sha256"].get<std::string>()});
    }
    start = end + 1;
    ++line_number;
  }
  return entries;
}

std::vector<TraceEntry> read_trace(const std::string& path) {
  return parse_trace(read_file(path, kMaxTraceFileBytes), path);
}

}  // namespace repro
