// Read-out of the display pipeline: GETRESOURCES, GETCONNECTOR, GETENCODER, GETCRTC, GETPLANERESOURCES, GETPLANE.
// Lists come in two passes (counts, then arrays of that size); when a count grows in between (hotplug), again.
#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>

#include <vector>

#include "kms.h"

namespace zcopy::kms {
namespace {

constexpr int kMaxPasses = 8;

Napi::Array U32Array(Napi::Env env, const std::vector<uint32_t>& v, size_t n) {
  Napi::Array a = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, v[i]));
  return a;
}

[[noreturn]] void Unstable(Napi::Env env, const char* what) {
  throw Napi::Error::New(env, std::string(what) + ": the list kept changing between calls (hotplug storm?)");
}

Napi::Value GetResources(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  std::vector<uint32_t> fbs, crtcs, connectors, encoders;
  for (int pass = 0; pass < kMaxPasses; pass++) {
    auto res = Zeroed<struct drm_mode_card_res>();
    res.count_fbs = fbs.size();
    res.fb_id_ptr = PtrOf(fbs.data());
    res.count_crtcs = crtcs.size();
    res.crtc_id_ptr = PtrOf(crtcs.data());
    res.count_connectors = connectors.size();
    res.connector_id_ptr = PtrOf(connectors.data());
    res.count_encoders = encoders.size();
    res.encoder_id_ptr = PtrOf(encoders.data());
    ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_GETRESOURCES, &res);
    if (res.count_fbs > fbs.size() || res.count_crtcs > crtcs.size() || res.count_connectors > connectors.size() ||
        res.count_encoders > encoders.size()) {
      fbs.resize(res.count_fbs);
      crtcs.resize(res.count_crtcs);
      connectors.resize(res.count_connectors);
      encoders.resize(res.count_encoders);
      continue;
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("fbs", U32Array(env, fbs, res.count_fbs));
    out.Set("crtcs", U32Array(env, crtcs, res.count_crtcs));
    out.Set("connectors", U32Array(env, connectors, res.count_connectors));
    out.Set("encoders", U32Array(env, encoders, res.count_encoders));
    out.Set("minWidth", Napi::Number::New(env, res.min_width));
    out.Set("maxWidth", Napi::Number::New(env, res.max_width));
    out.Set("minHeight", Napi::Number::New(env, res.min_height));
    out.Set("maxHeight", Napi::Number::New(env, res.max_height));
    return out;
  }
  Unstable(env, "DRM_IOCTL_MODE_GETRESOURCES");
}

// The first call (count_modes 0) makes the kernel probe the connector's modes, when this fd is the DRM master.
Napi::Value GetConnector(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  uint32_t id = U32Arg(info, 1, "connectorId");
  std::vector<struct drm_mode_modeinfo> modes;
  std::vector<uint32_t> encoders;
  for (int pass = 0; pass < kMaxPasses; pass++) {
    auto c = Zeroed<struct drm_mode_get_connector>();
    c.connector_id = id;
    c.count_modes = modes.size();
    c.modes_ptr = PtrOf(modes.data());
    c.count_encoders = encoders.size();
    c.encoders_ptr = PtrOf(encoders.data());
    ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_GETCONNECTOR, &c);
    // A first pass that found no modes still counts as done: count_modes 0 would only probe again.
    if (c.count_modes > modes.size() || c.count_encoders > encoders.size()) {
      modes.resize(c.count_modes);
      encoders.resize(c.count_encoders);
      continue;
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("id", Napi::Number::New(env, c.connector_id));
    out.Set("type", Napi::Number::New(env, c.connector_type));
    out.Set("typeId", Napi::Number::New(env, c.connector_type_id));
    out.Set("connection", Napi::Number::New(env, c.connection));
    out.Set("encoderId", Napi::Number::New(env, c.encoder_id));
    out.Set("mmWidth", Napi::Number::New(env, c.mm_width));
    out.Set("mmHeight", Napi::Number::New(env, c.mm_height));
    out.Set("subpixel", Napi::Number::New(env, c.subpixel));
    out.Set("encoders", U32Array(env, encoders, c.count_encoders));
    Napi::Array ms = Napi::Array::New(env, c.count_modes);
    for (uint32_t i = 0; i < c.count_modes; i++) ms.Set(i, ModeToJs(env, modes[i]));
    out.Set("modes", ms);
    return out;
  }
  Unstable(env, "DRM_IOCTL_MODE_GETCONNECTOR");
}

Napi::Value GetEncoder(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto e = Zeroed<struct drm_mode_get_encoder>();
  e.encoder_id = U32Arg(info, 1, "encoderId");
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_GETENCODER, &e);
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", Napi::Number::New(env, e.encoder_id));
  out.Set("type", Napi::Number::New(env, e.encoder_type));
  out.Set("crtcId", Napi::Number::New(env, e.crtc_id));
  out.Set("possibleCrtcs", Napi::Number::New(env, e.possible_crtcs));
  out.Set("possibleClones", Napi::Number::New(env, e.possible_clones));
  return out;
}

Napi::Value GetCrtc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto c = Zeroed<struct drm_mode_crtc>();
  c.crtc_id = U32Arg(info, 1, "crtcId");
  ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_GETCRTC, &c);
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", Napi::Number::New(env, c.crtc_id));
  out.Set("fbId", Napi::Number::New(env, c.fb_id));
  out.Set("x", Napi::Number::New(env, c.x));
  out.Set("y", Napi::Number::New(env, c.y));
  out.Set("gammaSize", Napi::Number::New(env, c.gamma_size));
  out.Set("mode", c.mode_valid ? Napi::Value(ModeToJs(env, c.mode)) : env.Null());
  return out;
}

Napi::Value GetPlaneResources(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  std::vector<uint32_t> planes;
  for (int pass = 0; pass < kMaxPasses; pass++) {
    auto r = Zeroed<struct drm_mode_get_plane_res>();
    r.count_planes = planes.size();
    r.plane_id_ptr = PtrOf(planes.data());
    ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_GETPLANERESOURCES, &r);
    if (r.count_planes > planes.size()) {
      planes.resize(r.count_planes);
      continue;
    }
    return U32Array(env, planes, r.count_planes);
  }
  Unstable(env, "DRM_IOCTL_MODE_GETPLANERESOURCES");
}

Napi::Value GetPlane(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  uint32_t id = U32Arg(info, 1, "planeId");
  std::vector<uint32_t> formats;
  for (int pass = 0; pass < kMaxPasses; pass++) {
    auto p = Zeroed<struct drm_mode_get_plane>();
    p.plane_id = id;
    p.count_format_types = formats.size();
    p.format_type_ptr = PtrOf(formats.data());
    ZCOPY_IOCTL(env, fd, DRM_IOCTL_MODE_GETPLANE, &p);
    if (p.count_format_types > formats.size()) {
      formats.resize(p.count_format_types);
      continue;
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("id", Napi::Number::New(env, p.plane_id));
    out.Set("crtcId", Napi::Number::New(env, p.crtc_id));
    out.Set("fbId", Napi::Number::New(env, p.fb_id));
    out.Set("possibleCrtcs", Napi::Number::New(env, p.possible_crtcs));
    out.Set("gammaSize", Napi::Number::New(env, p.gamma_size));
    out.Set("formats", U32Array(env, formats, p.count_format_types));
    return out;
  }
  Unstable(env, "DRM_IOCTL_MODE_GETPLANE");
}

Napi::Value SetMaster(const Napi::CallbackInfo& info) {
  ZCOPY_IOCTL(info.Env(), FdArg(info, 0), DRM_IOCTL_SET_MASTER, static_cast<void*>(nullptr));
  return info.Env().Undefined();
}

Napi::Value DropMaster(const Napi::CallbackInfo& info) {
  ZCOPY_IOCTL(info.Env(), FdArg(info, 0), DRM_IOCTL_DROP_MASTER, static_cast<void*>(nullptr));
  return info.Env().Undefined();
}

}  // namespace

void InitResources(Napi::Env env, Napi::Object exports) {
  exports.Set("getResources", Napi::Function::New(env, GetResources, "getResources"));
  exports.Set("getConnector", Napi::Function::New(env, GetConnector, "getConnector"));
  exports.Set("getEncoder", Napi::Function::New(env, GetEncoder, "getEncoder"));
  exports.Set("getCrtc", Napi::Function::New(env, GetCrtc, "getCrtc"));
  exports.Set("getPlaneResources", Napi::Function::New(env, GetPlaneResources, "getPlaneResources"));
  exports.Set("getPlane", Napi::Function::New(env, GetPlane, "getPlane"));
  exports.Set("setMaster", Napi::Function::New(env, SetMaster, "setMaster"));
  exports.Set("dropMaster", Napi::Function::New(env, DropMaster, "dropMaster"));
}

}  // namespace zcopy::kms
