// The environment fingerprint (what results depend on: CPU, ISA, compiler, OS, cores) and
// SHA-256 digests. Backend entries (library versions, GPU) are added by the backend, not here.
#include <openssl/evp.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "core/error.h"
#include "record/run_record.h"

namespace repro {
namespace {

// The value after "key\t: " on the first /proc/cpuinfo line starting with `key`.
std::string cpuinfo_field(const std::string& cpuinfo, const std::string& key) {
  std::istringstream lines(cpuinfo);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key, 0) != 0) continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t start = line.find_first_not_of(' ', colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

// The best x86-64 vector ISA the CPU reports; kernels (oneDNN's JIT) pick their code path from it.
[[maybe_unused]] std::string best_isa(const std::string& flags_line) {
  std::set<std::string> flags;
  std::istringstream words(flags_line);
  std::string word;
  while (words >> word) flags.insert(word);
  for (const char* isa : {"avx512f", "avx2", "avx", "sse4_2"}) {
    if (flags.count(isa)) return isa;
  }
  return flags.empty() ? "unknown" : "baseline";
}

// aarch64's vector extensions from /proc/cpuinfo's Features line: sve, else neon (asimd).
[[maybe_unused]] std::string aarch64_isa(const std::string& features) {
  std::set<std::string> flags;
  std::istringstream words(features);
  std::string word;
  while (words >> word) flags.insert(word);
  if (flags.count("sve")) return "sve";
  // asimd (NEON) is part of every ARMv8-A core; no Features line (an emulator showing the
  // host's cpuinfo) leaves that baseline.
  return "neon";
}

}  // namespace

std::map<std::string, std::string> environment_fingerprint() {
  std::map<std::string, std::string> env;
  std::ifstream in("/proc/cpuinfo");
  std::stringstream cpuinfo;
  cpuinfo << in.rdbuf();
  std::string model = cpuinfo_field(cpuinfo.str(), "model name");
  env["cpu_model"] = model.empty() ? "unknown" : model;
#if defined(__x86_64__)
  env["architecture"] = "x86_64";
  env["cpu_isa"] = best_isa(cpuinfo_field(cpuinfo.str(), "flags"));
#elif defined(__aarch64__)
  env["architecture"] = "aarch64";
  env["cpu_isa"] = aarch64_isa(cpuinfo_field(cpuinfo.str(), "Features"));
#elif defined(__riscv) && __riscv_xlen == 64
  env["architecture"] = "riscv64";
  env["cpu_isa"] = "baseline";
#else
  env["architecture"] = "other";
  env["cpu_isa"] = "baseline";
#endif
  env["cores"] = std::to_string(std::thread::hardware_concurrency());
#if defined(__clang__)
  env["compiler"] = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  env["compiler"] = std::string("g++ ") + __VERSION__;
#endif
  struct utsname name {};
  if (::uname(&name) == 0) {
    env["os"] = std::string(name.sysname) + " " + name.release + " " + name.machine;
  } else {
    env["os"] = "unknown";
  }
  env["repro_version"] = REPRO_VERSION;
  return env;
}

namespace {

std::string hex_digest(const unsigned char* digest, unsigned int length) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

}  // namespace

std::string sha256_hex(const void* data, size_t size) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data, size, digest, &length, EVP_sha256(), nullptr) != 1) {
    throw RuntimeError("OpenSSL EVP_Digest(sha256) failed; check the OpenSSL installation");
  }
  return hex_digest(digest, length);
}

std::string weights_sha256(const std::vector<NamedTensor>& tensors) {
  std::vector<float> all;
  for (const NamedTensor& t : tensors) all.insert(all.end(), t.data.begin(), t.data.end());
  return sha256_hex(all.data(), all.size() * sizeof(float));
}

namespace {

std::string file_digest(const std::string& path, const EVP_MD* kind) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot be read; check that it exists and is readable");
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), kind, nullptr) != 1)
    throw RuntimeError("OpenSSL EVP_DigestInit failed; check the OpenSSL installation");
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0 &&
        EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(in.gcount())) != 1)
      throw RuntimeError("OpenSSL EVP_DigestUpdate failed; check the OpenSSL installation");
  }
  if (in.bad()) throw InputError(path + ": read error while hashing it");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1)
    throw RuntimeError("OpenSSL EVP_DigestFinal failed; check the OpenSSL installation");
  return hex_digest(digest, length);
}

}  // namespace

std::string sha256_file(const std::string& path) { return file_digest(path, EVP_sha256()); }

std::string md5_file(const std::string& path) { return file_digest(path, EVP_md5()); }

}  // namespace repro

namespace repro {

std::string new_run_id() {
  // Host, process, the wall clock in nanoseconds and a per-process counter: distinct for every
  // run started anywhere. Only names the run; nothing is computed from it.
  static std::atomic<uint64_t> counter{0};
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string text =
      std::string(host) + "|" + std::to_string(::getpid()) + "|" +
      std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()) + "|" +
      std::to_string(counter.fetch_add(1));
  return sha256_hex(text.data(), text.size()).substr(0, 16);
}

}  // namespace repro
