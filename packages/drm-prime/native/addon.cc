// @zcopy/drm-prime native addon. Opening and closing fds is @zcopy/core's job (tracked there for the
// environment cleanup hook); this addon only issues DRM ioctls on fds it is given.
#include "drm.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  zcopy::drm::InitDevice(env, exports);
  zcopy::drm::InitCaps(env, exports);
  zcopy::drm::InitBuffers(env, exports);
  zcopy::drm::InitPrime(env, exports);
  zcopy::drm::InitVgem(env, exports);
  return exports;
}

NODE_API_MODULE(zcopy_drm_prime, Init)
