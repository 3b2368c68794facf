// Capabilities: DRM_IOCTL_GET_CAP (what the driver offers) and DRM_IOCTL_SET_CLIENT_CAP (what this
// client opts into). The numbers come from the UAPI header and are published to TS by name.
#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>

#include "drm.h"
#include "uapi.h"

namespace zcopy::drm {
namespace {

Napi::Value GetCap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto req = Zeroed<struct drm_get_cap>();
  req.capability = U64Arg(info, 1, "capability");
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_GET_CAP, &req);
  // Every cap the kernel defines fits a double exactly (flags, depths, cursor sizes).
  return Napi::Number::New(env, static_cast<double>(req.value));
}

Napi::Value SetClientCap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto req = Zeroed<struct drm_set_client_cap>();
  req.capability = U64Arg(info, 1, "capability");
  req.value = U64Arg(info, 2, "value");
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_SET_CLIENT_CAP, &req);
  return env.Undefined();
}

#define ZCOPY_CONST(obj, prefix, name) (obj).Set(#name, Napi::Number::New(env, prefix##name))

}  // namespace

void InitCaps(Napi::Env env, Napi::Object exports) {
  exports.Set("getCap", Napi::Function::New(env, GetCap, "getCap"));
  exports.Set("setClientCap", Napi::Function::New(env, SetClientCap, "setClientCap"));

  Napi::Object caps = Napi::Object::New(env);
  ZCOPY_CONST(caps, DRM_CAP_, DUMB_BUFFER);
  ZCOPY_CONST(caps, DRM_CAP_, VBLANK_HIGH_CRTC);
  ZCOPY_CONST(caps, DRM_CAP_, DUMB_PREFERRED_DEPTH);
  ZCOPY_CONST(caps, DRM_CAP_, DUMB_PREFER_SHADOW);
  ZCOPY_CONST(caps, DRM_CAP_, PRIME);
  ZCOPY_CONST(caps, DRM_CAP_, TIMESTAMP_MONOTONIC);
  ZCOPY_CONST(caps, DRM_CAP_, ASYNC_PAGE_FLIP);
  ZCOPY_CONST(caps, DRM_CAP_, CURSOR_WIDTH);
  ZCOPY_CONST(caps, DRM_CAP_, CURSOR_HEIGHT);
  ZCOPY_CONST(caps, DRM_CAP_, ADDFB2_MODIFIERS);
  ZCOPY_CONST(caps, DRM_CAP_, PAGE_FLIP_TARGET);
  ZCOPY_CONST(caps, DRM_CAP_, CRTC_IN_VBLANK_EVENT);
  ZCOPY_CONST(caps, DRM_CAP_, SYNCOBJ);
  ZCOPY_CONST(caps, DRM_CAP_, SYNCOBJ_TIMELINE);
#ifdef DRM_CAP_ATOMIC_ASYNC_PAGE_FLIP
  ZCOPY_CONST(caps, DRM_CAP_, ATOMIC_ASYNC_PAGE_FLIP);
#endif
  exports.Set("caps", caps);

  Napi::Object clientCaps = Napi::Object::New(env);
  ZCOPY_CONST(clientCaps, DRM_CLIENT_CAP_, STEREO_3D);
  ZCOPY_CONST(clientCaps, DRM_CLIENT_CAP_, UNIVERSAL_PLANES);
  ZCOPY_CONST(clientCaps, DRM_CLIENT_CAP_, ATOMIC);
  ZCOPY_CONST(clientCaps, DRM_CLIENT_CAP_, ASPECT_RATIO);
  ZCOPY_CONST(clientCaps, DRM_CLIENT_CAP_, WRITEBACK_CONNECTORS);
#ifdef DRM_CLIENT_CAP_CURSOR_PLANE_HOTSPOT
  ZCOPY_CONST(clientCaps, DRM_CLIENT_CAP_, CURSOR_PLANE_HOTSPOT);
#endif
  exports.Set("clientCaps", clientCaps);

  Napi::Object prime = Napi::Object::New(env);
  ZCOPY_CONST(prime, DRM_PRIME_CAP_, IMPORT);
  ZCOPY_CONST(prime, DRM_PRIME_CAP_, EXPORT);
  exports.Set("primeCapBits", prime);
}

}  // namespace zcopy::drm
