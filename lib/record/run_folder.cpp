// Run folder entries: what is present, and their removal for `repro train --overwrite`.
#include "record/run_folder.h"

#include <system_error>

#include "core/error.h"

namespace repro {

namespace fs = std::filesystem;

std::vector<std::string> run_entries_present(const fs::path& folder) {
  std::vector<std::string> present;
  for (const char* name : kRunFolderEntries) {
    std::error_code error;
    if (fs::exists(folder / name, error)) present.push_back(name);
  }
  return present;
}

std::string describe_entries(const std::vector<std::string>& entries) {
  std::string text;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) text += i + 1 == entries.size() ? " and " : ", ";
    text += entries[i] + (entries[i] == "checkpoints" ? "/" : "");
  }
  return text;
}

void remove_run_entries(const fs::path& folder) {
  for (const char* name : kRunFolderEntries) {
    std::error_code error;
    fs::remove_all(folder / name, error);
    if (error)
      throw RuntimeError((folder / name).string() + ": cannot remove it (" + error.message() +
                         "); remove it by hand or pick a new --out");
  }
}

}  // namespace repro
