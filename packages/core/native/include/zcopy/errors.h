// Kernel errors as the JS KernelError class of @zcopy/core.
// The class lives in TS; @zcopy/core publishes a factory on globalThis under Symbol.for('zcopy.kernelError'),
// so every addon in the project (and every worker thread) raises the same class.
#pragma once
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace zcopy {

inline Napi::Error KernelError(Napi::Env env, int err, const char* syscall, const char* request = nullptr,
                               const char* path = nullptr) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("errno", Napi::Number::New(env, err));
  info.Set("syscall", syscall);
  if (request != nullptr) info.Set("request", request);
  if (path != nullptr) info.Set("path", path);

  Napi::Object symbolCtor = env.Global().Get("Symbol").As<Napi::Object>();
  Napi::Value key =
      symbolCtor.Get("for").As<Napi::Function>().Call(symbolCtor, {Napi::String::New(env, "zcopy.kernelError")});
  Napi::Value factory = env.Global().Get(key);
  if (factory.IsFunction()) {
    return Napi::Error(env, factory.As<Napi::Function>().Call({info}));
  }
  // @zcopy/core not loaded: still an Error with the same fields.
  std::string msg = std::string(request != nullptr ? request : syscall) + " failed: " + std::strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (request != nullptr) e.Set("request", Napi::String::New(env, request));
  if (path != nullptr) e.Set("path", Napi::String::New(env, path));
  return e;
}

// Throws (C++ exception, NAPI_CPP_EXCEPTIONS) the KernelError for the current errno.
[[noreturn]] inline void ThrowErrno(Napi::Env env, const char* syscall, const char* request = nullptr,
                                    const char* path = nullptr) {
  int err = errno;
  throw KernelError(env, err, syscall, request, path);
}

}  // namespace zcopy
