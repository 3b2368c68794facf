// Dumb buffers and GEM handles: MODE_CREATE_DUMB, MODE_MAP_DUMB (the fake offset to mmap the device fd at) and
// GEM_CLOSE. Which handles may be closed is decided in TS (handles are shared, see src/handles.ts).
#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>

#include "drm.h"
#include "uapi.h"

namespace zcopy::drm {
namespace {

Napi::Value CreateDumb(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto req = Zeroed<struct drm_mode_create_dumb>();
  req.width = U32Arg(info, 1, "width");
  req.height = U32Arg(info, 2, "height");
  req.bpp = U32Arg(info, 3, "bpp");
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_CREATE_DUMB, &req);
  Napi::Object out = Napi::Object::New(env);
  out.Set("handle", Napi::Number::New(env, req.handle));
  out.Set("pitch", Napi::Number::New(env, req.pitch));
  // The kernel computes size in 32 bits (drm_mode_create_dumb), so it is exact as a double.
  out.Set("size", Napi::Number::New(env, static_cast<double>(req.size)));
  return out;
}

Napi::Value MapDumb(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto req = Zeroed<struct drm_mode_map_dumb>();
  req.handle = U32Arg(info, 1, "handle");
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_MAP_DUMB, &req);
  // Fake offsets live in the device's vma offset space: page numbers below 2^32 on 64-bit kernels.
  if (req.offset > (1ULL << 53)) throw Napi::RangeError::New(env, "mmap offset beyond 2^53");
  return Napi::Number::New(env, static_cast<double>(req.offset));
}

Napi::Value GemClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto req = Zeroed<struct drm_gem_close>();
  req.handle = U32Arg(info, 1, "handle");
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_GEM_CLOSE, &req);
  return env.Undefined();
}

}  // namespace

void InitBuffers(Napi::Env env, Napi::Object exports) {
  exports.Set("createDumb", Napi::Function::New(env, CreateDumb, "createDumb"));
  exports.Set("mapDumb", Napi::Function::New(env, MapDumb, "mapDumb"));
  exports.Set("gemClose", Napi::Function::New(env, GemClose, "gemClose"));
}

}  // namespace zcopy::drm
