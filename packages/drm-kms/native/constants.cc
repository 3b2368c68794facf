// Numbers from the UAPI headers, by name without the prefix, so TS never hard-codes a kernel constant.
#include "kms.h"

#define ZCOPY_CONST(obj, prefix, name) obj.Set(#name, Napi::Number::New(env, prefix##name))

namespace zcopy::kms {

void InitConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object objectTypes = Napi::Object::New(env);
  ZCOPY_CONST(objectTypes, DRM_MODE_OBJECT_, CRTC);
  ZCOPY_CONST(objectTypes, DRM_MODE_OBJECT_, CONNECTOR);
  ZCOPY_CONST(objectTypes, DRM_MODE_OBJECT_, ENCODER);
  ZCOPY_CONST(objectTypes, DRM_MODE_OBJECT_, MODE);
  ZCOPY_CONST(objectTypes, DRM_MODE_OBJECT_, PROPERTY);
  ZCOPY_CONST(objectTypes, DRM_MODE_OBJECT_, FB);
  ZCOPY_CONST(objectTypes, DRM_MODE_OBJECT_, BLOB);
  ZCOPY_CONST(objectTypes, DRM_MODE_OBJECT_, PLANE);
  ZCOPY_CONST(objectTypes, DRM_MODE_OBJECT_, ANY);
  exports.Set("objectTypes", objectTypes);

  // The kernel's own names for connector types (drm_connector_enum_list), keyed by the UAPI constant.
  Napi::Object connectorTypes = Napi::Object::New(env);
  ZCOPY_CONST(connectorTypes, DRM_MODE_CONNECTOR_, Unknown);
  ZCOPY_CONST(connectorTypes, DRM_MODE_CONNECTOR_, VGA);
  connectorTypes.Set("DVI-I", Napi::Number::New(env, DRM_MODE_CONNECTOR_DVII));
  connectorTypes.Set("DVI-D", Napi::Number::New(env, DRM_MODE_CONNECTOR_DVID));
  connectorTypes.Set("DVI-A", Napi::Number::New(env, DRM_MODE_CONNECTOR_DVIA));
  ZCOPY_CONST(connectorTypes, DRM_MODE_CONNECTOR_, Composite);
  connectorTypes.Set("SVIDEO", Napi::Number::New(env, DRM_MODE_CONNECTOR_SVIDEO));
  ZCOPY_CONST(connectorTypes, DRM_MODE_CONNECTOR_, LVDS);
  ZCOPY_CONST(connectorTypes, DRM_MODE_CONNECTOR_, Component);
  connectorTypes.Set("DIN", Napi::Number::New(env, DRM_MODE_CONNECTOR_9PinDIN));
  connectorTypes.Set("DP", Napi::Number::New(env, DRM_MODE_CONNECTOR_DisplayPort));
  connectorTypes.Set("HDMI-A", Napi::Number::New(env, DRM_MODE_CONNECTOR_HDMIA));
  connectorTypes.Set("HDMI-B", Napi::Number::New(env, DRM_MODE_CONNECTOR_HDMIB));
  ZCOPY_CONST(connectorTypes, DRM_MODE_CONNECTOR_, TV);
  ZCOPY_CONST(connectorTypes, DRM_MODE_CONNECTOR_, eDP);
  connectorTypes.Set("Virtual", Napi::Number::New(env, DRM_MODE_CONNECTOR_VIRTUAL));
  ZCOPY_CONST(connectorTypes, DRM_MODE_CONNECTOR_, DSI);
  ZCOPY_CONST(connectorTypes, DRM_MODE_CONNECTOR_, DPI);
  connectorTypes.Set("Writeback", Napi::Number::New(env, DRM_MODE_CONNECTOR_WRITEBACK));
  ZCOPY_CONST(connectorTypes, DRM_MODE_CONNECTOR_, SPI);
  ZCOPY_CONST(connectorTypes, DRM_MODE_CONNECTOR_, USB);
  exports.Set("connectorTypes", connectorTypes);

  Napi::Object encoderTypes = Napi::Object::New(env);
  ZCOPY_CONST(encoderTypes, DRM_MODE_ENCODER_, NONE);
  ZCOPY_CONST(encoderTypes, DRM_MODE_ENCODER_, DAC);
  ZCOPY_CONST(encoderTypes, DRM_MODE_ENCODER_, TMDS);
  ZCOPY_CONST(encoderTypes, DRM_MODE_ENCODER_, LVDS);
  ZCOPY_CONST(encoderTypes, DRM_MODE_ENCODER_, TVDAC);
  ZCOPY_CONST(encoderTypes, DRM_MODE_ENCODER_, VIRTUAL);
  ZCOPY_CONST(encoderTypes, DRM_MODE_ENCODER_, DSI);
  ZCOPY_CONST(encoderTypes, DRM_MODE_ENCODER_, DPMST);
  ZCOPY_CONST(encoderTypes, DRM_MODE_ENCODER_, DPI);
  exports.Set("encoderTypes", encoderTypes);

  Napi::Object propFlags = Napi::Object::New(env);
  ZCOPY_CONST(propFlags, DRM_MODE_PROP_, PENDING);
  ZCOPY_CONST(propFlags, DRM_MODE_PROP_, RANGE);
  ZCOPY_CONST(propFlags, DRM_MODE_PROP_, IMMUTABLE);
  ZCOPY_CONST(propFlags, DRM_MODE_PROP_, ENUM);
  ZCOPY_CONST(propFlags, DRM_MODE_PROP_, BLOB);
  ZCOPY_CONST(propFlags, DRM_MODE_PROP_, BITMASK);
  ZCOPY_CONST(propFlags, DRM_MODE_PROP_, LEGACY_TYPE);
  ZCOPY_CONST(propFlags, DRM_MODE_PROP_, EXTENDED_TYPE);
  ZCOPY_CONST(propFlags, DRM_MODE_PROP_, OBJECT);
  ZCOPY_CONST(propFlags, DRM_MODE_PROP_, SIGNED_RANGE);
  ZCOPY_CONST(propFlags, DRM_MODE_PROP_, ATOMIC);
  exports.Set("propFlags", propFlags);

  Napi::Object atomicFlags = Napi::Object::New(env);
  ZCOPY_CONST(atomicFlags, DRM_MODE_, PAGE_FLIP_EVENT);
  ZCOPY_CONST(atomicFlags, DRM_MODE_, ATOMIC_TEST_ONLY);
  ZCOPY_CONST(atomicFlags, DRM_MODE_, ATOMIC_NONBLOCK);
  ZCOPY_CONST(atomicFlags, DRM_MODE_, ATOMIC_ALLOW_MODESET);
  exports.Set("atomicFlags", atomicFlags);

  Napi::Object eventTypes = Napi::Object::New(env);
  ZCOPY_CONST(eventTypes, DRM_EVENT_, VBLANK);
  ZCOPY_CONST(eventTypes, DRM_EVENT_, FLIP_COMPLETE);
  ZCOPY_CONST(eventTypes, DRM_EVENT_, CRTC_SEQUENCE);
  exports.Set("eventTypes", eventTypes);

  Napi::Object modeTypes = Napi::Object::New(env);
  ZCOPY_CONST(modeTypes, DRM_MODE_TYPE_, PREFERRED);
  ZCOPY_CONST(modeTypes, DRM_MODE_TYPE_, USERDEF);
  ZCOPY_CONST(modeTypes, DRM_MODE_TYPE_, DRIVER);
  exports.Set("modeTypes", modeTypes);

  Napi::Object connection = Napi::Object::New(env);
  // drm_mode_get_connector.connection: enum drm_connector_status (not in the UAPI header, stable since 2.6.29).
  connection.Set("connected", Napi::Number::New(env, 1));
  connection.Set("disconnected", Napi::Number::New(env, 2));
  connection.Set("unknown", Napi::Number::New(env, 3));
  exports.Set("connection", connection);

  exports.Set("FB_MODIFIERS", Napi::Number::New(env, DRM_MODE_FB_MODIFIERS));
  exports.Set("DISPLAY_MODE_LEN", Napi::Number::New(env, DRM_DISPLAY_MODE_LEN));

  // Common pixel formats (drm_fourcc.h), by the header's names without DRM_FORMAT_.
  Napi::Object formats = Napi::Object::New(env);
  ZCOPY_CONST(formats, DRM_FORMAT_, XRGB8888);
  ZCOPY_CONST(formats, DRM_FORMAT_, ARGB8888);
  ZCOPY_CONST(formats, DRM_FORMAT_, XBGR8888);
  ZCOPY_CONST(formats, DRM_FORMAT_, ABGR8888);
  ZCOPY_CONST(formats, DRM_FORMAT_, RGBX8888);
  ZCOPY_CONST(formats, DRM_FORMAT_, BGRX8888);
  ZCOPY_CONST(formats, DRM_FORMAT_, RGB888);
  ZCOPY_CONST(formats, DRM_FORMAT_, BGR888);
  ZCOPY_CONST(formats, DRM_FORMAT_, RGB565);
  ZCOPY_CONST(formats, DRM_FORMAT_, XRGB2101010);
  ZCOPY_CONST(formats, DRM_FORMAT_, ARGB2101010);
  ZCOPY_CONST(formats, DRM_FORMAT_, XRGB16161616);
  ZCOPY_CONST(formats, DRM_FORMAT_, ARGB16161616);
  ZCOPY_CONST(formats, DRM_FORMAT_, XRGB16161616F);
  ZCOPY_CONST(formats, DRM_FORMAT_, C8);
  ZCOPY_CONST(formats, DRM_FORMAT_, YUYV);
  ZCOPY_CONST(formats, DRM_FORMAT_, UYVY);
  ZCOPY_CONST(formats, DRM_FORMAT_, NV12);
  ZCOPY_CONST(formats, DRM_FORMAT_, NV21);
  ZCOPY_CONST(formats, DRM_FORMAT_, YUV420);
  exports.Set("formats", formats);
  exports.Set("FORMAT_MOD_LINEAR", Napi::BigInt::New(env, static_cast<uint64_t>(DRM_FORMAT_MOD_LINEAR)));
}

}  // namespace zcopy::kms
