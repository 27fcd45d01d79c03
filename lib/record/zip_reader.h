// Members of a zip archive in memory (.npz, .keras), read with Debian's libzip. The one place
// that bounds a member before inflating it: its claimed size against the caller's limit, its
// compressed size against the file, stored members against their own size, deflate at most 1032
// times. It knows nothing of what the members hold.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace repro {

class ZipReader {
 public:
  // `bytes` must outlive the reader. InputError "FILE: not a zip file (...)" for anything else;
  // `what` names the expected kind in that message (".npz file", ".keras archive").
  ZipReader(std::string_view bytes, const std::string& file_label, const std::string& what);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  bool has(const std::string& name) const;
  // The first `max_names` member names, for messages.
  std::vector<std::string> names(size_t max_names = 20) const;
  // The member's bytes; InputError naming the file and member for one that is missing, over
  // `max_bytes`, claims more than its compressed bytes can hold, or is damaged.
  std::string read(const std::string& name, uint64_t max_bytes) const;

 private:
  struct Archive;
  std::unique_ptr<Archive> archive_;
  std::string file_;
  size_t size_ = 0;
};

}  // namespace repro
