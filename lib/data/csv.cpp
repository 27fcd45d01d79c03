// The csv reader: an RFC 4180 record scanner (written here: a few dozen lines, where a library
// would add a dependency for one loop), std::from_chars for the numbers (locale-independent by
// definition), and the label rule of data/csv.h.
#include "data/csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "record/run_record.h"

namespace repro {

namespace {

constexpr size_t kMaxColumns = 1000000;

// Records of an RFC 4180 text, one at a time.
class Records {
 public:
  Records(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  // The next non-blank record into `fields`; false at the end. `line` is where it starts.
  bool next(std::vector<std::string>& fields, int64_t& line) {
    while (at_ < text_.size() && (text_[at_] == '\n' || text_.substr(at_, 2) == "\r\n")) {
      at_ += text_[at_] == '\n' ? 1 : 2;
      ++line_;
    }
    if (at_ >= text_.size()) return false;
    line = line_;
    fields.clear();
    while (true) {
      std::string field;
      if (at_ < text_.size() && text_[at_] == '"') {
        const int64_t opened = line_;
        ++at_;
        while (true) {
          if (at_ >= text_.size())
            throw InputError(file_ + ":" + std::to_string(opened) +
                             ": a quoted field is never closed (a quote inside a field is "
                             "written \"\")");
          const char c = text_[at_++];
          if (c == '"') {
            if (at_ < text_.size() && text_[at_] == '"') {
              field += '"';
              ++at_;
              continue;
            }
            break;
          }
          if (c == '\n') ++line_;
          field += c;
        }
        if (at_ < text_.size() && text_[at_] != ',' && text_[at_] != '\n' &&
            text_.substr(at_, 2) != "\r\n")
          throw InputError(file_ + ":" + std::to_string(line_) +
                           ": text after a closing quote; quote the whole field");
      } else {
        const size_t end = text_.find_first_of(",\n", at_);
        const size_t stop = end == std::string_view::npos ? text_.size() : end;
        field.assign(text_.substr(at_, stop - at_));
        at_ = stop;
        if (at_ < text_.size() && text_[at_] == '\n' && !field.empty() && field.back() == '\r')
          field.pop_back();
      }
      fields.push_back(std::move(field));
      if (fields.size() > kMaxColumns)
        throw InputError(file_ + ":" + std::to_string(line) + ": more than " +
                         std::to_string(kMaxColumns) + " fields");
      if (at_ < text_.size() && text_[at_] == ',') {
        ++at_;
        continue;
      }
      if (text_.substr(at_, 2) == "\r\n") ++at_;
      if (at_ < text_.size() && text_[at_] == '\n') {
        ++at_;
        ++line_;
      }
      return true;
    }
  }

 private:
  std::string_view text_;
  const std::string& file_;
  size_t at_ = 0;
  int64_t line_ = 1;
};

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The field as float32 by the rule of csv.h; false when it is not such a number.
bool parse_number(std::string_view field, float& out) {
  std::string_view s = trimmed(field);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s.front())) || s.front() == '.' ||
                     s.front() == '-'))
    return false;  // also refuses "inf" and "nan", which from_chars would take
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) return false;
  if (std::fabs(value) > std::numeric_limits<float>::max()) return false;
  out = static_cast<float>(value);
  return true;
}

// A whole number 0..255 written with digits only; -1 otherwise (256 and more: -2).
int label_number(std::string_view field) {
  const std::string_view s = trimmed(field);
  if (s.empty() || s.size() > 12) return -1;
  int64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value > 255 ? -2 : static_cast<int>(value);
}

std::string column_list(const std::vector<std::string>& header) {
  std::string names;
  for (const auto& h : header) names += (names.empty() ? "" : ", ") + h;
  return clipped(names, 200);
}

}  // namespace

Dataset parse_csv(std::string_view bytes, const std::string& file, const std::string& label,
                  CsvLabels& labels, bool label_optional) {
  Records records(bytes, file);
  std::vector<std::string> header, fields;
  int64_t line = 0;
  if (!records.next(header, line))
    throw InputError(file + ": an empty table; the first line must name the columns");
  std::set<std::string> seen;
  for (const auto& name : header)
    if (!seen.insert(name).second)
      throw InputError(file + ":" + std::to_string(line) + ": the column name '" + clipped(name) +
                       "' appears twice; name every column once");
  const auto found = std::find(header.begin(), header.end(), label);
  const bool unlabelled = found == header.end();
  if (unlabelled && !label_optional)
    throw InputError(file + ":" + std::to_string(line) + ": no column '" + clipped(label) +
                     "' (data.label); the header names " + column_list(header));
  if (header.size() < (unlabelled ? 1u : 2u))
    throw InputError(file + ": only the label column; a table needs feature columns too");
  if (labels.decided && header != labels.header)
    throw InputError(file + ":" + std::to_string(line) +
                     ": its columns are not the training table's (" + column_list(labels.header) +
                     ")");
  const size_t width = header.size();
  const size_t label_at = unlabelled ? width : static_cast<size_t>(found - header.begin());
  Dataset d;
  d.rows = d.cols = 1;
  d.channels = static_cast<int>(unlabelled ? width : width - 1);
  std::vector<std::string> label_text;
  std::vector<int64_t> label_line;
  while (records.next(fields, line)) {
    const std::string where = file + ":" + std::to_string(line);
    if (fields.size() != width)
      throw InputError(where + ": " + std::to_string(fields.size()) +
                       " fields, but the header has " + std::to_string(width) +
                       "; every row needs one field per column");
    if (d.count >= limits::images)
      throw InputError(file + ": more than " + std::to_string(limits::images) + " rows");
    for (size_t k = 0; k < width; ++k) {
      if (k == label_at) continue;
      float value = 0;
      if (trimmed(fields[k]).empty())
        throw InputError(where + ": column '" + clipped(header[k]) +
                         "' is empty; every feature needs a number");
      if (!parse_number(fields[k], value))
        throw InputError(where + ": column '" + clipped(header[k]) + "' is '" + clipped(fields[k]) +
                         "', not a number (decimal, as 1.5, -2 or 3e-4; no locale, no inf or "
                         "nan)");
      d.features.push_back(value);
    }
    label_text.push_back(unlabelled ? "0" : std::string(trimmed(fields[label_at])));
    label_line.push_back(line);
    d.count += 1;
  }
  if (d.count == 0) throw InputError(file + ": a header but no rows");
  if (!labels.decided) {
    labels.decided = true;
    labels.header = header;
    labels.named = std::any_of(label_text.begin(), label_text.end(),
                               [](const std::string& t) { return label_number(t) == -1; });
    if (labels.named) {
      const std::set<std::string> names(label_text.begin(), label_text.end());
      if (names.size() > 256)
        throw InputError(file + ": " + std::to_string(names.size()) +
                         " distinct labels in column '" + clipped(label) +
                         "'; at most 256 classes are supported");
      labels.classes.assign(names.begin(), names.end());
    }
  }
  for (size_t i = 0; i < label_text.size(); ++i) {
    const std::string where = file + ":" + std::to_string(label_line[i]);
    if (labels.named) {
      const auto k = std::lower_bound(labels.classes.begin(), labels.classes.end(), label_text[i]);
      if (k == labels.classes.end() || *k != label_text[i])
        throw InputError(where + ": label '" + clipped(label_text[i]) +
                         "' is not among the training table's classes");
      d.labels.push_back(static_cast<uint8_t>(k - labels.classes.begin()));
    } else {
      const int v = label_number(label_text[i]);
      if (v < 0)
        throw InputError(where + ": label '" + clipped(label_text[i]) +
                         "' is not a class number 0..255 like the training table's labels");
      d.labels.push_back(static_cast<uint8_t>(v));
    }
  }
  return d;
}

int csv_feature_count(const DataConfig& data) {
  const std::string bytes = read_file(data.path, kMaxCsvBytes);
  Records records(bytes, data.path);
  std::vector<std::string> header;
  int64_t line = 0;
  if (!records.next(header, line) || header.size() < 2)
    throw InputError(data.path + ": the first line must name the label column and the features");
  if (std::find(header.begin(), header.end(), data.label) == header.end())
    throw InputError(data.path + ":" + std::to_string(line) + ": no column '" +
                     clipped(data.label) + "' (data.label); the header names " +
                     column_list(header));
  return static_cast<int>(header.size() - 1);
}

Splits read_csv_splits(const DataConfig& data) {
  Splits s;
  CsvLabels labels;
  for (const std::string* path : {&data.path, &data.test_path}) {
    if (path->empty()) continue;
    const std::string bytes = read_file(*path, kMaxCsvBytes);
    (path == &data.path ? s.train : s.test) = parse_csv(bytes, *path, data.label, labels);
    s.files.push_back(std::filesystem::absolute(*path).string() + " (sha256 " +
                      sha256_hex(bytes.data(), bytes.size()) + ")");
  }
  return s;
}

}  // namespace repro
