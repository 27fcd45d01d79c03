// history.json exactly as Keras's json.dump(history.history) writes it: a list of floats per key,
// keys sorted, ", " and ": " separators, each float as Python's repr (the shortest decimal that
// round-trips the double, at most 17 significant digits, so the bits survive the trip).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace repro {

using History = std::map<std::string, std::vector<double>>;  // metric -> one value per epoch

std::string history_to_json(const History& history);
// Writes atomically (temp file + rename).
void write_history(const std::string& path, const History& history);
// Accepts any Keras history (any keys, lists of numbers, NaN/Infinity as Python writes them);
// throws InputError "file:line:col: message" for anything else.
History parse_history(const std::string& json_text, const std::string& file_label);
History read_history(const std::string& path);

// Python's repr of a float: the shortest decimal that round-trips the double ("0.1", "1e-05",
// "1.0", "nan", "inf"). history.json writes floats this way, as json.dump does (NaN, Infinity
// and -Infinity are json.dump's spellings of the non-finite values).
std::string python_float_repr(double value);

}  // namespace repro
