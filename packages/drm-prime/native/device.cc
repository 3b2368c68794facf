// Device identity: DRM_IOCTL_VERSION (driver name, version, date, description).
#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>

#include <algorithm>
#include <string>

#include "drm.h"
#include "uapi.h"

namespace zcopy::drm {
namespace {

// The kernel copies min(len, strlen) bytes and reports strlen in len: ask for the lengths first,
// then fetch with buffers of that size (the driver's strings are static, so one round suffices).
Napi::Value Version(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto v = Zeroed<struct drm_version>();
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_VERSION, &v);

  std::string name(v.name_len, '\0'), date(v.date_len, '\0'), desc(v.desc_len, '\0');
  auto w = Zeroed<struct drm_version>();
  w.name_len = name.size();
  w.name = name.data();
  w.date_len = date.size();
  w.date = date.data();
  w.desc_len = desc.size();
  w.desc = desc.data();
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_VERSION, &w);
  name.resize(std::min<size_t>(w.name_len, name.size()));
  date.resize(std::min<size_t>(w.date_len, date.size()));
  desc.resize(std::min<size_t>(w.desc_len, desc.size()));

  Napi::Object out = Napi::Object::New(env);
  out.Set("major", Napi::Number::New(env, w.version_major));
  out.Set("minor", Napi::Number::New(env, w.version_minor));
  out.Set("patchlevel", Napi::Number::New(env, w.version_patchlevel));
  out.Set("name", Napi::String::New(env, name));
  out.Set("date", Napi::String::New(env, date));
  out.Set("desc", Napi::String::New(env, desc));
  return out;
}

}  // namespace

void InitDevice(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New(env, Version, "version"));
}

}  // namespace zcopy::drm
