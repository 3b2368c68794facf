// drm_mode_modeinfo ↔ JS: every field, so a mode read from a connector can be passed back in a MODE_ID blob.
#include <cmath>
#include <cstring>
#include <string>

#include <zcopy/ioctl.h>

#include "kms.h"

namespace zcopy::kms {

Napi::Object ModeToJs(Napi::Env env, const struct drm_mode_modeinfo& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("clock", Napi::Number::New(env, m.clock));
  o.Set("hdisplay", Napi::Number::New(env, m.hdisplay));
  o.Set("hsyncStart", Napi::Number::New(env, m.hsync_start));
  o.Set("hsyncEnd", Napi::Number::New(env, m.hsync_end));
  o.Set("htotal", Napi::Number::New(env, m.htotal));
  o.Set("hskew", Napi::Number::New(env, m.hskew));
  o.Set("vdisplay", Napi::Number::New(env, m.vdisplay));
  o.Set("vsyncStart", Napi::Number::New(env, m.vsync_start));
  o.Set("vsyncEnd", Napi::Number::New(env, m.vsync_end));
  o.Set("vtotal", Napi::Number::New(env, m.vtotal));
  o.Set("vscan", Napi::Number::New(env, m.vscan));
  o.Set("vrefresh", Napi::Number::New(env, m.vrefresh));
  o.Set("flags", Napi::Number::New(env, m.flags));
  o.Set("type", Napi::Number::New(env, m.type));
  // The kernel NUL-terminates the name within DRM_DISPLAY_MODE_LEN.
  o.Set("name", Napi::String::New(env, m.name, strnlen(m.name, sizeof m.name)));
  return o;
}

namespace {

uint32_t Field(Napi::Env env, Napi::Object o, const char* key, double max) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("mode.") + key + " must be an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d)
    throw Napi::TypeError::New(env, std::string("mode.") + key + " must be an integer");
  if (d < 0 || d > max) throw Napi::RangeError::New(env, std::string("mode.") + key + " is out of range");
  return static_cast<uint32_t>(d);
}

}  // namespace

struct drm_mode_modeinfo ModeFromJs(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) throw Napi::TypeError::New(env, "mode must be an object");
  Napi::Object o = value.As<Napi::Object>();
  constexpr double u16 = 0xffff, u32 = 0xffffffff;
  auto m = Zeroed<struct drm_mode_modeinfo>();
  m.clock = Field(env, o, "clock", u32);
  m.hdisplay = Field(env, o, "hdisplay", u16);
  m.hsync_start = Field(env, o, "hsyncStart", u16);
  m.hsync_end = Field(env, o, "hsyncEnd", u16);
  m.htotal = Field(env, o, "htotal", u16);
  m.hskew = Field(env, o, "hskew", u16);
  m.vdisplay = Field(env, o, "vdisplay", u16);
  m.vsync_start = Field(env, o, "vsyncStart", u16);
  m.vsync_end = Field(env, o, "vsyncEnd", u16);
  m.vtotal = Field(env, o, "vtotal", u16);
  m.vscan = Field(env, o, "vscan", u16);
  m.vrefresh = Field(env, o, "vrefresh", u32);
  m.flags = Field(env, o, "flags", u32);
  m.type = Field(env, o, "type", u32);
  Napi::Value name = o.Get("name");
  if (!name.IsString()) throw Napi::TypeError::New(env, "mode.name must be a string");
  std::string s = name.As<Napi::String>().Utf8Value();
  if (s.size() >= sizeof m.name)
    throw Napi::RangeError::New(env, "mode.name is limited to " + std::to_string(sizeof m.name - 1) + " bytes");
  std::memcpy(m.name, s.data(), s.size());
  return m;
}

}  // namespace zcopy::kms
