// The parts of the @zcopy/drm-prime addon, one file per concern (device, caps, buffers, PRIME, vgem fences).
#pragma once
#include <napi.h>

namespace zcopy::drm {

void InitDevice(Napi::Env env, Napi::Object exports);
void InitCaps(Napi::Env env, Napi::Object exports);
void InitBuffers(Napi::Env env, Napi::Object exports);
void InitPrime(Napi::Env env, Napi::Object exports);
void InitVgem(Napi::Env env, Napi::Object exports);

}  // namespace zcopy::drm
