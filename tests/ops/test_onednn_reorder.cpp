// HostReorder, the on-thread copy between two layouts of a small tensor, gives exactly what
// oneDNN's reorder primitive gives: plain to blocked (padding written as zeros) and back.
#include <catch2/catch.hpp>

#if REPRO_HAVE_ONEDNN

#include <dnnl.hpp>

#include <vector>

#include "backend/onednn/onednn_util.h"
#include "op_test_util.h"

using namespace repro;
using namespace repro::onednn;
using dnnl::memory;

namespace {

// `from` filled with distinct values (padding included) copied into `to` by oneDNN and by
// HostReorder, each destination prefilled with a marker so that unwritten padding shows.
void check_against_onednn(const memory::desc& from, const memory::desc& to) {
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  std::vector<float> src = test::random_tensor(from.get_size() / sizeof(float), 91);
  std::vector<float> want(to.get_size() / sizeof(float), -9.0f), got(want.size(), -9.0f);
  memory src_mem(from, engine, src.data()), want_mem(to, engine, want.data());
  dnnl::reorder(src_mem, want_mem).execute(stream, src_mem, want_mem);
  stream.wait();
  HostReorder(from, to).run(src.data(), got.data());
  CHECK(got == want);
}

}  // namespace

TEST_CASE("HostReorder copies between plain and blocked layouts as oneDNN's reorder does",
          "[ops][onednn][layout]") {
  using tag = memory::format_tag;
  auto md = [](const memory::dims& dims, tag t) {
    return memory::desc(dims, memory::data_type::f32, t);
  };
  struct Case {
    memory::dims dims;
    tag plain, blocked;
  };
  const std::vector<Case> cases = {
      {{32, 32, 3, 3}, tag::oihw, tag::OIhw16i16o},
      {{32, 1, 3, 3}, tag::oihw, tag::OIhw16i16o},  // one input channel padded to 16
      {{32, 1, 3, 3}, tag::oihw, tag::Ohwi16o},
      {{48, 40, 3, 3}, tag::oihw, tag::OIhw4i16o4i},  // one dimension in two inner blocks
      {{10, 64}, tag::oi, tag::OI16i16o},             // 10 outputs padded to 16
      {{3, 32, 5, 7}, tag::nchw, tag::nChw16c},
      {{2, 24, 4, 4}, tag::nchw, tag::nChw16c},  // 24 channels padded to 32
      {{7, 5, 3, 2, 2}, tag::goihw, tag::gOIhw16i16o},
  };
  for (const Case& c : cases) {
    INFO("dims " << c.dims.size() << "-d, first " << c.dims[0] << ", second " << c.dims[1]);
    check_against_onednn(md(c.dims, c.plain), md(c.dims, c.blocked));
    check_against_onednn(md(c.dims, c.blocked), md(c.dims, c.plain));
  }
}

#endif  // REPRO_HAVE_ONEDNN
