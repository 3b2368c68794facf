// The parts of the @zcopy/drm-kms addon, one file per concern, and the mode conversions they share.
#pragma once
#include <napi.h>

#include "uapi.h"

namespace zcopy::kms {

void InitResources(Napi::Env env, Napi::Object exports);
void InitProperties(Napi::Env env, Napi::Object exports);
void InitFramebuffers(Napi::Env env, Napi::Object exports);
void InitAtomic(Napi::Env env, Napi::Object exports);
void InitEvents(Napi::Env env, Napi::Object exports);
void InitConstants(Napi::Env env, Napi::Object exports);

// drm_mode_modeinfo ↔ a plain JS object with every field (camelCase), so a mode read out can be committed back.
Napi::Object ModeToJs(Napi::Env env, const struct drm_mode_modeinfo& mode);
// TypeError/RangeError for a missing or out-of-range field, before any syscall.
struct drm_mode_modeinfo ModeFromJs(Napi::Env env, Napi::Value value);

// A number when it is exact as a double, else a BigInt (u64 kernel values).
inline Napi::Value U64ToJs(Napi::Env env, uint64_t v) {
  if (v <= (1ULL << 53)) return Napi::Number::New(env, static_cast<double>(v));
  return Napi::BigInt::New(env, v);
}

inline uint64_t PtrOf(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

}  // namespace zcopy::kms
