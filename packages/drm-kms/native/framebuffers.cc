// Framebuffers: ADDFB2 (a GEM handle per plane, with pitch, offset and optional modifier) and RMFB.
// Which handle belongs to which device, and the lifetime of the id, are decided in TS.
#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>

#include "kms.h"

namespace zcopy::kms {
namespace {

template <typename T, napi_typedarray_type kind>
T* Array4(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != kind ||
      info[i].As<Napi::TypedArray>().ElementLength() != 4)
    throw Napi::TypeError::New(env, ArgName(name) + " must be a typed array of 4 per-plane values");
  return reinterpret_cast<T*>(static_cast<uint8_t*>(info[i].As<Napi::TypedArray>().ArrayBuffer().Data()) +
                              info[i].As<Napi::TypedArray>().ByteOffset());
}

// addFb2(fd, width, height, format, flags, handles: Uint32Array(4), pitches, offsets, modifiers: BigUint64Array(4))
Napi::Value AddFb2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto cmd = Zeroed<struct drm_mode_fb_cmd2>();
  cmd.width = U32Arg(info, 1, "width");
  cmd.height = U32Arg(info, 2, "height");
  cmd.pixel_format = U32Arg(info, 3, "format");
  cmd.flags = U32Arg(info, 4, "flags");
  const uint32_t* handles = Array4<uint32_t, napi_uint32_array>(info, 5, "handles");
  const uint32_t* pitches = Array4<uint32_t, napi_uint32_array>(info, 6, "pitches");
  const uint32_t* offsets = Array4<uint32_t, napi_uint32_array>(info, 7, "offsets");
  const uint64_t* modifiers = Array4<uint64_t, napi_biguint64_array>(info, 8, "modifiers");
  for (int i = 0; i < 4; i++) {
    cmd.handles[i] = handles[i];
    cmd.pitches[i] = pitches[i];
    cmd.offsets[i] = offsets[i];
    cmd.modifier[i] = modifiers[i];
  }
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_ADDFB2, &cmd);
  return Napi::Number::New(env, cmd.fb_id);
}

Napi::Value RmFb(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  unsigned int id = U32Arg(info, 1, "fbId");
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_RMFB, &id);
  return env.Undefined();
}

}  // namespace

void InitFramebuffers(Napi::Env env, Napi::Object exports) {
  exports.Set("addFb2", Napi::Function::New(env, AddFb2, "addFb2"));
  exports.Set("rmFb", Napi::Function::New(env, RmFb, "rmFb"));
}

}  // namespace zcopy::kms
