// The parts of the @zcopy/drm-prime addon, one file per concern (device, caps; dumb buffers and PRIME later).
#pragma once
#include <napi.h>

namespace zcopy::drm {

void InitDevice(Napi::Env env, Napi::Object exports);
void InitCaps(Napi::Env env, Napi::Object exports);

}  // namespace zcopy::drm
