// Properties and blobs: OBJ_GETPROPERTIES (an object's property ids and current values), GETPROPERTY (name,
// flags, values, enum names), GETPROPBLOB / CREATEPROPBLOB / DESTROYPROPBLOB, and MODE_ID blobs from modes.
#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>

#include <cstring>
#include <vector>

#include "kms.h"

namespace zcopy::kms {
namespace {

constexpr int kMaxPasses = 8;

Napi::Value ObjGetProperties(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  uint32_t objId = U32Arg(info, 1, "objectId");
  uint32_t objType = U32Arg(info, 2, "objectType");
  std::vector<uint32_t> ids;
  std::vector<uint64_t> values;
  for (int pass = 0; pass < kMaxPasses; pass++) {
    auto p = Zeroed<struct drm_mode_obj_get_properties>();
    p.obj_id = objId;
    p.obj_type = objType;
    p.count_props = ids.size();
    p.props_ptr = PtrOf(ids.data());
    p.prop_values_ptr = PtrOf(values.data());
    ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &p);
    if (p.count_props > ids.size()) {
      ids.resize(p.count_props);
      values.resize(p.count_props);
      continue;
    }
    Napi::Array outIds = Napi::Array::New(env, p.count_props);
    Napi::Array outValues = Napi::Array::New(env, p.count_props);
    for (uint32_t i = 0; i < p.count_props; i++) {
      outIds.Set(i, Napi::Number::New(env, ids[i]));
      outValues.Set(i, Napi::BigInt::New(env, static_cast<uint64_t>(values[i])));
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("ids", outIds);
    out.Set("values", outValues);
    return out;
  }
  throw Napi::Error::New(env, "DRM_IOCTL_MODE_OBJ_GETPROPERTIES: the property list kept changing");
}

// Values: range bounds (RANGE, SIGNED_RANGE), enum/bitmask values, or the object type (OBJECT).
Napi::Value GetProperty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  uint32_t propId = U32Arg(info, 1, "propertyId");
  std::vector<uint64_t> values;
  std::vector<struct drm_mode_property_enum> enums;
  for (int pass = 0; pass < kMaxPasses; pass++) {
    auto p = Zeroed<struct drm_mode_get_property>();
    p.prop_id = propId;
    p.count_values = values.size();
    p.values_ptr = PtrOf(values.data());
    p.count_enum_blobs = enums.size();
    p.enum_blob_ptr = PtrOf(enums.data());
    ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_GETPROPERTY, &p);
    if (p.count_values > values.size() || p.count_enum_blobs > enums.size()) {
      values.resize(p.count_values);
      enums.resize(p.count_enum_blobs, Zeroed<struct drm_mode_property_enum>());
      continue;
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("id", Napi::Number::New(env, p.prop_id));
    out.Set("name", Napi::String::New(env, p.name, strnlen(p.name, sizeof p.name)));
    out.Set("flags", Napi::Number::New(env, p.flags));
    Napi::Array vs = Napi::Array::New(env, p.count_values);
    for (uint32_t i = 0; i < p.count_values; i++) vs.Set(i, Napi::BigInt::New(env, static_cast<uint64_t>(values[i])));
    out.Set("values", vs);
    Napi::Array es = Napi::Array::New(env, p.count_enum_blobs);
    for (uint32_t i = 0; i < p.count_enum_blobs; i++) {
      Napi::Object e = Napi::Object::New(env);
      e.Set("value", Napi::BigInt::New(env, static_cast<uint64_t>(enums[i].value)));
      e.Set("name", Napi::String::New(env, enums[i].name, strnlen(enums[i].name, sizeof enums[i].name)));
      es.Set(i, e);
    }
    out.Set("enums", es);
    return out;
  }
  throw Napi::Error::New(env, "DRM_IOCTL_MODE_GETPROPERTY: the value list kept changing");
}

Napi::Value GetPropBlob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  uint32_t blobId = U32Arg(info, 1, "blobId");
  std::vector<uint8_t> data;
  for (int pass = 0; pass < kMaxPasses; pass++) {
    auto b = Zeroed<struct drm_mode_get_blob>();
    b.blob_id = blobId;
    b.length = data.size();
    b.data = PtrOf(data.data());
    ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_GETPROPBLOB, &b);
    // The kernel copies only into a buffer of exactly the blob's length; blobs are immutable, so two passes.
    if (b.length != data.size()) {
      data.resize(b.length);
      continue;
    }
    return Napi::Buffer<uint8_t>::Copy(env, data.data(), b.length);
  }
  throw Napi::Error::New(env, "DRM_IOCTL_MODE_GETPROPBLOB: the blob length kept changing");
}

// The MODE_ID blob of a CRTC (or any blob holding one drm_mode_modeinfo) as a mode object.
Napi::Value GetModeBlob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto b = Zeroed<struct drm_mode_get_blob>();
  b.blob_id = U32Arg(info, 1, "blobId");
  auto mode = Zeroed<struct drm_mode_modeinfo>();
  b.length = sizeof mode;
  b.data = PtrOf(&mode);
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_GETPROPBLOB, &b);
  if (b.length != sizeof mode)
    throw Napi::RangeError::New(env, "blob " + std::to_string(b.blob_id) + " holds " + std::to_string(b.length) +
                                         " bytes, not one drm_mode_modeinfo (" + std::to_string(sizeof mode) + ")");
  return ModeToJs(env, mode);
}

Napi::Value CreatePropBlob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "argument 'data' must be a Uint8Array");
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  auto b = Zeroed<struct drm_mode_create_blob>();
  b.data = PtrOf(data.Data());
  b.length = static_cast<uint32_t>(data.ByteLength());
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_CREATEPROPBLOB, &b);
  return Napi::Number::New(env, b.blob_id);
}

Napi::Value CreateModeBlob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  struct drm_mode_modeinfo mode = ModeFromJs(env, info[1]);
  auto b = Zeroed<struct drm_mode_create_blob>();
  b.data = PtrOf(&mode);
  b.length = sizeof mode;
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_CREATEPROPBLOB, &b);
  return Napi::Number::New(env, b.blob_id);
}

Napi::Value DestroyPropBlob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto b = Zeroed<struct drm_mode_destroy_blob>();
  b.blob_id = U32Arg(info, 1, "blobId");
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_DESTROYPROPBLOB, &b);
  return env.Undefined();
}

}  // namespace

void InitProperties(Napi::Env env, Napi::Object exports) {
  exports.Set("objGetProperties", Napi::Function::New(env, ObjGetProperties, "objGetProperties"));
  exports.Set("getProperty", Napi::Function::New(env, GetProperty, "getProperty"));
  exports.Set("getPropBlob", Napi::Function::New(env, GetPropBlob, "getPropBlob"));
  exports.Set("getModeBlob", Napi::Function::New(env, GetModeBlob, "getModeBlob"));
  exports.Set("createPropBlob", Napi::Function::New(env, CreatePropBlob, "createPropBlob"));
  exports.Set("createModeBlob", Napi::Function::New(env, CreateModeBlob, "createModeBlob"));
  exports.Set("destroyPropBlob", Napi::Function::New(env, DestroyPropBlob, "destroyPropBlob"));
}

}  // namespace zcopy::kms
