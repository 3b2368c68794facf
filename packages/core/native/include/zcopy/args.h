// JS argument checks for native entry points: TypeError/RangeError before any syscall.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace zcopy {

inline std::string ArgName(const char* name) { return std::string("argument '") + name + "'"; }

inline int64_t IntegerArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max) {
  Napi::Env env = info.Env();
  Napi::Value v = info[i];
  double d;
  if (v.IsNumber()) {
    d = v.As<Napi::Number>().DoubleValue();
  } else if (v.IsBigInt()) {
    bool lossless = false;
    int64_t b = v.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless || b < min || b > max) throw Napi::RangeError::New(env, ArgName(name) + " is out of range");
    return b;
  } else {
    throw Napi::TypeError::New(env, ArgName(name) + " must be an integer");
  }
  if (!std::isfinite(d) || std::floor(d) != d) throw Napi::TypeError::New(env, ArgName(name) + " must be an integer");
  if (d < static_cast<double>(min) || d > static_cast<double>(max))
    throw Napi::RangeError::New(env, ArgName(name) + " is out of range");
  return static_cast<int64_t>(d);
}

inline int FdArg(const Napi::CallbackInfo& info, size_t i, const char* name = "fd") {
  return static_cast<int>(IntegerArg(info, i, name, 0, std::numeric_limits<int>::max()));
}

inline uint32_t U32Arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return static_cast<uint32_t>(IntegerArg(info, i, name, 0, std::numeric_limits<uint32_t>::max()));
}

inline uint64_t U64Arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  // Sizes and offsets beyond 2^53 are not meaningful here; BigInt is accepted up to int64 max.
  return static_cast<uint64_t>(IntegerArg(info, i, name, 0, std::numeric_limits<int64_t>::max()));
}

inline std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), ArgName(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

}  // namespace zcopy
