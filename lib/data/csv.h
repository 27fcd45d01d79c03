// dataset: csv, a table for dense models: a header row naming the columns, then one row per
// sample, RFC 4180 fields (comma-separated, optionally in double quotes with "" for a quote,
// CRLF or LF line ends; blank lines skipped). The `data.label` column holds the class; every other
// column is a feature, in header order.
//
// Numbers: each feature field, trimmed of spaces and tabs, must be a decimal number as C's strtod
// reads it in the "C" locale (an optional sign, digits with an optional '.', an optional exponent;
// no thousands separators, no hex, no inf or nan), parsed to the nearest double and rounded to
// float32, as pandas.read_csv then .astype("float32") gives it; whatever the process's locale.
//
// Labels: when every training label is a whole number 0..255 (digits only), that number is the
// class; otherwise the labels are names, numbered in sorted byte order of the training table's
// distinct names (at most 256).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/dataset.h"

namespace repro {

inline constexpr int64_t kMaxCsvBytes = int64_t{4} << 30;  // one table, read whole

// How the labels of a table map to classes: decided by the training table, applied to the test.
struct CsvLabels {
  bool decided = false;
  bool named = false;                // labels are names (class k = classes[k])
  std::vector<std::string> classes;  // named: the sorted distinct names
  std::vector<std::string> header;   // the training table's columns (the test's must match)
};

// The table's bytes as a Dataset of (count, features) float32 values (rows = cols = 1, channels =
// the feature count). InputError naming `file` and the line for a missing or duplicated column,
// a row of another width, an empty or non-numeric feature, an unclosed quote, a label outside
// 0..255 or unknown to the training table, or a table without rows.
// `label_optional` (repro predict): a table without the label column is all features, labelled 0.
Dataset parse_csv(std::string_view bytes, const std::string& file, const std::string& label,
                  CsvLabels& labels, bool label_optional = false);

// The header's feature count of data.path (every column but data.label).
int csv_feature_count(const DataConfig& data);

// data.path and, when given, data.test_path; files records each with its SHA-256.
Splits read_csv_splits(const DataConfig& data);

}  // namespace repro
