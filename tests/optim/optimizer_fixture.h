// A weight and a gradient of 3 floats on a backend, with host copies in and out: the setting of
// the optimizer tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"

namespace repro::test {

struct OptimizerFixture {
  std::unique_ptr<Backend> backend;
  Array w, g;
  explicit OptimizerFixture(const std::string& name = "reference")
      : backend(make_backend(name, BackendOptions{2, true})),
        w(backend->alloc(3)),
        g(backend->alloc(3)) {}
  void set(const Array& a, const std::vector<float>& v) {
    backend->upload(v.data(), a.data(), v.size());
  }
  std::vector<float> get(const Array& a) {
    std::vector<float> v(a.size());
    backend->download(a.data(), v.data(), v.size());
    return v;
  }
};

}  // namespace repro::test
