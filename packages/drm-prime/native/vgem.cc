// vgem fences: VGEM_FENCE_ATTACH puts a new unsignalled fence on a buffer's reservation object (read or write
// use), VGEM_FENCE_SIGNAL signals it. The kernel signals a forgotten fence itself after 10 s, and at close.
// Only valid on a vgem fd: other drivers give the same numbers to their own ioctls, so TS checks the driver.
#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>

#include "drm.h"
#include "vgem_uapi.h"

namespace zcopy::drm {
namespace {

Napi::Value FenceAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto req = Zeroed<struct drm_vgem_fence_attach>();
  req.handle = U32Arg(info, 1, "handle");
  req.flags = U32Arg(info, 2, "flags");
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_VGEM_FENCE_ATTACH, &req);
  return Napi::Number::New(env, req.out_fence);
}

Napi::Value FenceSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto req = Zeroed<struct drm_vgem_fence_signal>();
  req.fence = U32Arg(info, 1, "fence");
  req.flags = U32Arg(info, 2, "flags");
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_VGEM_FENCE_SIGNAL, &req);
  return env.Undefined();
}

}  // namespace

void InitVgem(Napi::Env env, Napi::Object exports) {
  exports.Set("vgemFenceAttach", Napi::Function::New(env, FenceAttach, "vgemFenceAttach"));
  exports.Set("vgemFenceSignal", Napi::Function::New(env, FenceSignal, "vgemFenceSignal"));
  exports.Set("VGEM_FENCE_WRITE", Napi::Number::New(env, VGEM_FENCE_WRITE));
}

}  // namespace zcopy::drm
