// steps.csv formatting and reading: the same float text as history.json, so a row's running
// loss equals the progress bar's and history's last value bit for bit at the epoch's end.
#include "record/steps.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <limits>
#include <string_view>

#include "core/error.h"
#include "core/fs.h"
#include "record/history.h"
#include "record/json_text.h"

namespace repro {

std::string steps_to_csv(const std::vector<StepRecord>& rows) {
  std::string out = "step,epoch,batch,accuracy,loss,batch_loss,learning_rate,wall_seconds\n";
  for (const StepRecord& r : rows) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f", r.wall_seconds);
    out += std::to_string(r.step) + "," + std::to_string(r.epoch) + "," + std::to_string(r.batch) +
           "," + python_float_repr(r.accuracy) + "," + python_float_repr(r.loss) + "," +
           python_float_repr(r.batch_loss) + "," + python_float_repr(r.learning_rate) + "," +
           seconds + "\n";
  }
  return out;
}

namespace {

constexpr std::array<std::string_view, 8> kColumns = {
    "step", "epoch", "batch", "accuracy", "loss", "batch_loss", "learning_rate", "wall_seconds"};

struct Field {
  std::string_view text;
  int col = 0;  // 1-based byte column
};

std::vector<Field> split_fields(std::string_view line) {
  std::vector<Field> fields;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    const size_t end = comma == std::string_view::npos ? line.size() : comma;
    fields.push_back({line.substr(start, end - start), static_cast<int>(start) + 1});
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

}  // namespace

std::vector<StepRecord> parse_steps_csv(const std::string& text, const std::string& file_label) {
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  if (lines.empty())
    throw InputError(at_place(file_label, 1, 1, "empty; expected the header step,epoch,batch,..."));
  // Where each of kColumns stands in the header.
  const std::vector<Field> header = split_fields(lines[0]);
  std::array<size_t, kColumns.size()> index{};
  for (size_t c = 0; c < kColumns.size(); ++c) {
    index[c] = header.size();
    for (size_t h = 0; h < header.size(); ++h)
      if (header[h].text == kColumns[c]) index[c] = h;
    if (index[c] == header.size())
      throw InputError(at_place(file_label, 1, 1,
                                "the header has no column \"" + std::string(kColumns[c]) +
                                    "\"; is this a steps.csv written by repro train?"));
  }

  std::vector<StepRecord> rows;
  for (size_t n = 1; n < lines.size(); ++n) {
    const int line_number = static_cast<int>(n) + 1;
    if (lines[n].empty() && n + 1 == lines.size()) break;
    const std::vector<Field> fields = split_fields(lines[n]);
    if (fields.size() != header.size())
      throw InputError(at_place(file_label, line_number, 1,
                                "a row of " + std::to_string(fields.size()) + " values under a " +
                                    "header of " + std::to_string(header.size())));
    auto bad = [&](size_t c, const std::string& what) {
      const Field& f = fields[index[c]];
      return InputError(at_place(
          file_label, line_number, f.col,
          std::string(kColumns[c]) + " must be " + what + " (got " + quoted_name(f.text) + ")"));
    };
    auto integer = [&](size_t c, int64_t lo, int64_t hi) {
      const std::string_view t = fields[index[c]].text;
      int64_t value = 0;
      const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
      if (ec != std::errc() || ptr != t.data() + t.size() || value < lo || value > hi)
        throw bad(c, "an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
      return value;
    };
    auto number = [&](size_t c) {
      const std::string_view t = fields[index[c]].text;
      double value = 0;
      const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
      if (ec != std::errc() || ptr != t.data() + t.size()) throw bad(c, "a number");
      return value;
    };
    StepRecord r;
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    r.step = integer(0, 1, kMax);
    r.epoch = static_cast<int>(integer(1, 1, 1000000));  // training.epochs' range
    r.batch = integer(2, 0, kMax);
    r.accuracy = static_cast<float>(number(3));
    r.loss = static_cast<float>(number(4));
    r.batch_loss = static_cast<float>(number(5));
    r.learning_rate = static_cast<float>(number(6));
    r.wall_seconds = number(7);
    rows.push_back(r);
  }
  return rows;
}

std::vector<StepRecord> read_steps(const std::string& path) {
  return parse_steps_csv(read_file(path, kMaxStepsFileBytes), path);
}

}  // namespace repro
