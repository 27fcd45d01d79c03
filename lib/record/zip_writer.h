// A zip archive built in memory with Debian's libzip: members stored (uncompressed, as Keras's
// zipfile writes a .keras archive), in the order given, each dated 1980-01-01 00:00 so the same
// members give the same bytes.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace repro {

// (member name, bytes) pairs -> the archive's bytes.
std::string write_zip(const std::vector<std::pair<std::string, std::string>>& members);

}  // namespace repro
