// H5IOStore-layout files through the HDF5 C library's core (in-memory) driver.
#include "record/h5_vars.h"

#include <hdf5.h>

#include "core/error.h"

namespace repro {

namespace {

// An HDF5 identifier closed with its own close function.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// The library prints its error stack to stderr by default; repro reports one line itself.
void quiet_library() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

void check(herr_t status, const char* what) {
  if (status < 0) throw RuntimeError(std::string("HDF5: ") + what + " failed");
}

hid_t checked(hid_t id, const char* what) {
  if (id < 0) throw RuntimeError(std::string("HDF5: ") + what + " failed");
  return id;
}

std::string vars_path(const std::string& path) { return path.empty() ? "vars" : path + "/vars"; }

// Object creation properties without modification times, so equal content gives equal bytes.
Handle untimed(hid_t property_class) {
  Handle p(checked(H5Pcreate(property_class), "H5Pcreate"), H5Pclose);
  check(H5Pset_obj_track_times(p.get(), 0), "H5Pset_obj_track_times");
  return p;
}

void write_name_attribute(hid_t group, const std::string& name) {
  Handle type(checked(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  check(H5Tset_size(type.get(), H5T_VARIABLE), "H5Tset_size");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), "H5Tset_cset");
  Handle space(checked(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
  Handle attribute(
      checked(H5Acreate2(group, "name", type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
              "H5Acreate2"),
      H5Aclose);
  const char* text = name.c_str();
  check(H5Awrite(attribute.get(), type.get(), &text), "H5Awrite");
}

void write_var(hid_t group, const std::string& key, const H5Var& var, hid_t dcpl) {
  std::vector<hsize_t> dims(var.shape.begin(), var.shape.end());
  Handle space(checked(var.shape.empty()
                           ? H5Screate(H5S_SCALAR)
                           : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                       "H5Screate"),
               H5Sclose);
  const hid_t file_type = var.is_int64 ? H5T_STD_I64LE : H5T_IEEE_F32LE;
  Handle dataset(checked(H5Dcreate2(group, key.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl,
                                    H5P_DEFAULT),
                         "H5Dcreate2"),
                 H5Dclose);
  if (var.is_int64) {
    check(
        H5Dwrite(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &var.int64_value),
        "H5Dwrite");
  } else {
    size_t count = 1;
    for (const int64_t d : var.shape) count *= static_cast<size_t>(d);
    REPRO_CHECK(count == var.values.size(), "h5_vars: values do not fill the shape");
    check(
        H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, var.values.data()),
        "H5Dwrite");
  }
}

}  // namespace

std::string write_h5_vars(const std::vector<H5VarsGroup>& groups) {
  quiet_library();
  Handle fapl(checked(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"), H5Pclose);
  check(H5Pset_fapl_core(fapl.get(), 1 << 16, 0), "H5Pset_fapl_core");
  Handle fcpl = untimed(H5P_FILE_CREATE);  // the root group's times too
  Handle gcpl = untimed(H5P_GROUP_CREATE);
  Handle dcpl = untimed(H5P_DATASET_CREATE);
  Handle file(
      checked(H5Fcreate("repro-weights.h5", H5F_ACC_TRUNC, fcpl.get(), fapl.get()), "H5Fcreate"),
      H5Fclose);
  for (const H5VarsGroup& group : groups) {
    // Each missing level made here, untimed, rather than as an intermediate group.
    const std::string full = vars_path(group.path);
    for (size_t slash = 0;;) {
      slash = full.find('/', slash + 1);
      const std::string level = full.substr(0, slash);
      if (H5Lexists(file.get(), level.c_str(), H5P_DEFAULT) <= 0)
        Handle(checked(H5Gcreate2(file.get(), level.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT),
                       "H5Gcreate2"),
               H5Gclose);
      if (slash == std::string::npos) break;
    }
    Handle vars(checked(H5Gopen2(file.get(), full.c_str(), H5P_DEFAULT), "H5Gopen2"), H5Gclose);
    write_name_attribute(vars.get(), group.name);
    for (size_t i = 0; i < group.vars.size(); ++i)
      write_var(vars.get(), std::to_string(i), group.vars[i], dcpl.get());
  }
  check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "H5Fflush");
  const ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
  if (size <= 0) throw RuntimeError("HDF5: H5Fget_file_image failed");
  std::string bytes(static_cast<size_t>(size), '\0');
  if (H5Fget_file_image(file.get(), bytes.data(), bytes.size()) != size)
    throw RuntimeError("HDF5: H5Fget_file_image failed");
  return bytes;
}

namespace {

// The file's end as its superblock records it (base address + end-of-file address, HDF5 file
// format specification, superblock versions 0 to 3); 0 when the superblock is cut short or has
// sizes the format does not allow.
uint64_t superblock_end(std::string_view bytes) {
  if (bytes.size() < 16) return 0;
  const auto byte = [&](size_t at) { return static_cast<uint8_t>(bytes[at]); };
  const int version = byte(8);
  size_t offsets_size = 0, base_at = 0;
  if (version == 0 || version == 1) {
    offsets_size = byte(13);
    base_at = version == 0 ? 24 : 28;
  } else if (version == 2 || version == 3) {
    offsets_size = byte(9);
    base_at = 12;
  } else {
    return 0;
  }
  if (offsets_size != 8 && offsets_size != 4) return 0;
  const size_t eof_at = base_at + 2 * offsets_size;
  if (eof_at + offsets_size > bytes.size()) return 0;
  const auto address = [&](size_t at) {
    uint64_t value = 0;
    for (size_t i = 0; i < offsets_size; ++i) value |= uint64_t{byte(at + i)} << (8 * i);
    return value;
  };
  const uint64_t base = address(base_at), eof = address(eof_at);
  if (base > (uint64_t{1} << 62) || eof > (uint64_t{1} << 62)) return UINT64_MAX;
  return base + eof;
}

}  // namespace

struct H5VarsReader::File {
  hid_t id = -1;
  ~File() {
    if (id >= 0) H5Fclose(id);
  }
};

H5VarsReader::H5VarsReader(std::string_view bytes, const std::string& file_label)
    : file_(std::make_unique<File>()), label_(file_label) {
  quiet_library();
  static const std::string_view signature("\x89HDF\r\n\x1a\n", 8);
  if (bytes.substr(0, signature.size()) != signature)
    throw InputError(file_label + ": not an HDF5 file (no HDF5 signature at its start)");
  // The superblock's end-of-file address against the bytes there are: the library reads an
  // image cut short as far as it goes, so a truncated file is refused here.
  const uint64_t stored_end = superblock_end(bytes);
  if (stored_end == 0)
    throw InputError(file_label + ": damaged HDF5 file (its superblock cannot be read)");
  if (stored_end > bytes.size())
    throw InputError(file_label + ": truncated HDF5 file (it records " +
                     std::to_string(stored_end) + " bytes, " + std::to_string(bytes.size()) +
                     " are there)");
  Handle fapl(checked(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"), H5Pclose);
  check(H5Pset_fapl_core(fapl.get(), 1 << 16, 0), "H5Pset_fapl_core");
  check(H5Pset_file_image(fapl.get(), const_cast<char*>(bytes.data()), bytes.size()),
        "H5Pset_file_image");
  file_->id = H5Fopen("repro-read.h5", H5F_ACC_RDONLY, fapl.get());
  if (file_->id < 0)
    throw InputError(file_label + ": damaged HDF5 file (the HDF5 library cannot open it)");
}

H5VarsReader::~H5VarsReader() = default;

namespace {

// True when every level of `path` is a hard link (no soft or external links: nothing outside
// the file is opened, and no link cycle is followed); false when one is missing.
bool hard_path(hid_t file, const std::string& path, const std::string& where) {
  for (size_t slash = 0;;) {
    slash = path.find('/', slash + 1);
    const std::string level = path.substr(0, slash);
    if (H5Lexists(file, level.c_str(), H5P_DEFAULT) <= 0) return false;
    H5L_info_t info;
    if (H5Lget_info(file, level.c_str(), &info, H5P_DEFAULT) < 0 || info.type != H5L_TYPE_HARD)
      throw InputError(where + ": '" + level + "' is not a plain HDF5 object (a soft or external " +
                       "link); repro reads only files whose weights are stored in the file");
    if (slash == std::string::npos) return true;
  }
}

// The type of the object at `name`, or H5O_TYPE_UNKNOWN where none can be read. HDF5 1.12 gave
// H5Oget_info_by_name a `fields` argument (Debian 12 has 1.10, Debian 13 1.14).
H5O_type_t object_type(hid_t file, const std::string& name) {
#if H5_VERSION_GE(1, 12, 0)
  H5O_info2_t object;
  if (H5Oget_info_by_name3(file, name.c_str(), &object, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    return H5O_TYPE_UNKNOWN;
#else
  H5O_info_t object;
  if (H5Oget_info_by_name(file, name.c_str(), &object, H5P_DEFAULT) < 0) return H5O_TYPE_UNKNOWN;
#endif
  return object.type;
}

}  // namespace

int64_t H5VarsReader::count(const std::string& path) const {
  const std::string full = vars_path(path);
  if (!hard_path(file_->id, full, label_)) return -1;
  if (object_type(file_->id, full) != H5O_TYPE_GROUP)
    throw InputError(label_ + ": '" + full + "' is not an HDF5 group");
  Handle group(H5Gopen2(file_->id, full.c_str(), H5P_DEFAULT), H5Gclose);
  H5G_info_t info;
  if (!group.ok() || H5Gget_info(group.get(), &info) < 0)
    throw InputError(label_ + ": '" + full + "' is damaged");
  if (info.nlinks > 4096)
    throw InputError(label_ + ": '" + full + "' has " + std::to_string(info.nlinks) +
                     " members; a layer has a handful");
  return static_cast<int64_t>(info.nlinks);
}

std::vector<float> H5VarsReader::read(const std::string& path, int64_t index,
                                      const std::vector<int64_t>& shape) const {
  const std::string name = vars_path(path) + "/" + std::to_string(index);
  const std::string where = label_ + ": '" + name + "'";
  if (!hard_path(file_->id, name, label_)) throw InputError(where + ": no such dataset");
  if (object_type(file_->id, name) != H5O_TYPE_DATASET)
    throw InputError(where + " is not an HDF5 dataset");
  Handle dataset(H5Dopen2(file_->id, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.ok()) throw InputError(where + " is damaged");
  Handle type(H5Dget_type(dataset.get()), H5Tclose);
  if (!type.ok() || H5Tget_class(type.get()) != H5T_FLOAT)
    throw InputError(where + " is not a float dataset (Keras writes float32 weights)");
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0 || rank > 32) throw InputError(where + " has a damaged shape");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
    throw InputError(where + " has a damaged shape");
  auto text = [](const auto& values) {
    std::string out = "(";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
    return out + (values.size() == 1 ? ",)" : ")");
  };
  bool same = dims.size() == shape.size();
  for (size_t i = 0; same && i < dims.size(); ++i) same = dims[i] == static_cast<hsize_t>(shape[i]);
  if (!same)
    throw InputError(where + " has shape " + text(dims) + ", the model's weight there has " +
                     text(shape));
  size_t count = 1;
  for (const int64_t d : shape) count *= static_cast<size_t>(d);
  std::vector<float> values(count);
  if (H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    throw InputError(where + " cannot be read (damaged, or stored with a filter this HDF5 lacks)");
  return values;
}

}  // namespace repro
