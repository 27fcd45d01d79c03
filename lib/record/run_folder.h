// What a run folder is: the entries `repro train` writes into it, and the rule that a folder
// holds one run. Readers (compare, report, resume) and the writer take the names from here.
// It does not read or write the files' contents: their formats have their own modules.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <vector>

namespace repro {

// Every entry `repro train` writes into a run folder. run.json is written last and names the
// run; the others are checked against the digests it records.
inline constexpr std::array<const char*, 7> kRunFolderEntries = {
    "run.json",  "history.json", "model.safetensors", "trace.jsonl",
    "steps.csv", "checkpoints",  "best.safetensors"};

// The entries of kRunFolderEntries present in `folder` (none when it does not exist).
std::vector<std::string> run_entries_present(const std::filesystem::path& folder);

// "run.json, history.json and checkpoints/" for an error message.
std::string describe_entries(const std::vector<std::string>& entries);

// Removes every entry of kRunFolderEntries from `folder`, run.json first (so that a folder
// half-cleared by a crash no longer claims to hold a run). Files repro does not write are kept.
// Throws RuntimeError naming the entry that could not be removed.
void remove_run_entries(const std::filesystem::path& folder);

}  // namespace repro
