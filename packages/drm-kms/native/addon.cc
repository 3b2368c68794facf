// @zcopy/drm-kms native addon. Device fds are opened and owned through @zcopy/drm-prime and @zcopy/core; this addon
// issues KMS ioctls on fds it is given and returns any fd the kernel makes (out-fences) for TS to adopt.
#include "kms.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  zcopy::kms::InitResources(env, exports);
  zcopy::kms::InitProperties(env, exports);
  zcopy::kms::InitFramebuffers(env, exports);
  zcopy::kms::InitAtomic(env, exports);
  zcopy::kms::InitEvents(env, exports);
  zcopy::kms::InitConstants(env, exports);
  return exports;
}

NODE_API_MODULE(zcopy_drm_kms, Init)
