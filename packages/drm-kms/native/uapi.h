// The kernel's KMS UAPI (drm_mode.h, drm_fourcc.h) and compile-time checks of every struct this addon hands to
// the kernel. Debian ships the DRM UAPI headers in libdrm-dev (/usr/include/libdrm); a kernel headers install has
// them in /usr/include/drm. Both are copies of include/uapi/drm/.
#pragma once
#if __has_include(<drm/drm_mode.h>)
#include <drm/drm.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_mode.h>
#elif __has_include(<libdrm/drm_mode.h>)
#include <libdrm/drm.h>
#include <libdrm/drm_fourcc.h>
#include <libdrm/drm_mode.h>
#else
#error "DRM UAPI headers not found: apt-get install libdrm-dev"
#endif

#include <zcopy/layout.h>

// The request numbers encode the argument size the kernel copies: a mismatch means a foreign header.
#define ZCOPY_ASSERT_REQUEST(req, type, nr) \
  static_assert(_IOC_SIZE(req) == sizeof(type) && _IOC_TYPE(req) == DRM_IOCTL_BASE && _IOC_NR(req) == (nr), #req)

// A mode as the kernel passes it in and out (GETCONNECTOR's list, GETCRTC, the MODE_ID blob).
ZCOPY_ASSERT_SIZE(struct drm_mode_modeinfo, 68);
ZCOPY_ASSERT_OFFSET(struct drm_mode_modeinfo, clock, 0);
ZCOPY_ASSERT_OFFSET(struct drm_mode_modeinfo, hdisplay, 4);
ZCOPY_ASSERT_OFFSET(struct drm_mode_modeinfo, hskew, 12);
ZCOPY_ASSERT_OFFSET(struct drm_mode_modeinfo, vdisplay, 14);
ZCOPY_ASSERT_OFFSET(struct drm_mode_modeinfo, vscan, 22);
ZCOPY_ASSERT_OFFSET(struct drm_mode_modeinfo, vrefresh, 24);
ZCOPY_ASSERT_OFFSET(struct drm_mode_modeinfo, flags, 28);
ZCOPY_ASSERT_OFFSET(struct drm_mode_modeinfo, type, 32);
ZCOPY_ASSERT_OFFSET(struct drm_mode_modeinfo, name, 36);
static_assert(sizeof(((struct drm_mode_modeinfo*)nullptr)->name) == DRM_DISPLAY_MODE_LEN);

ZCOPY_ASSERT_SIZE(struct drm_mode_card_res, 64);
ZCOPY_ASSERT_OFFSET(struct drm_mode_card_res, fb_id_ptr, 0);
ZCOPY_ASSERT_OFFSET(struct drm_mode_card_res, crtc_id_ptr, 8);
ZCOPY_ASSERT_OFFSET(struct drm_mode_card_res, connector_id_ptr, 16);
ZCOPY_ASSERT_OFFSET(struct drm_mode_card_res, encoder_id_ptr, 24);
ZCOPY_ASSERT_OFFSET(struct drm_mode_card_res, count_fbs, 32);
ZCOPY_ASSERT_OFFSET(struct drm_mode_card_res, count_encoders, 44);
ZCOPY_ASSERT_OFFSET(struct drm_mode_card_res, min_width, 48);
ZCOPY_ASSERT_OFFSET(struct drm_mode_card_res, max_height, 60);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_GETRESOURCES, struct drm_mode_card_res, 0xA0);

ZCOPY_ASSERT_SIZE(struct drm_mode_crtc, 104);
ZCOPY_ASSERT_OFFSET(struct drm_mode_crtc, set_connectors_ptr, 0);
ZCOPY_ASSERT_OFFSET(struct drm_mode_crtc, crtc_id, 12);
ZCOPY_ASSERT_OFFSET(struct drm_mode_crtc, fb_id, 16);
ZCOPY_ASSERT_OFFSET(struct drm_mode_crtc, gamma_size, 28);
ZCOPY_ASSERT_OFFSET(struct drm_mode_crtc, mode_valid, 32);
ZCOPY_ASSERT_OFFSET(struct drm_mode_crtc, mode, 36);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_GETCRTC, struct drm_mode_crtc, 0xA1);

ZCOPY_ASSERT_SIZE(struct drm_mode_get_encoder, 20);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_encoder, encoder_type, 4);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_encoder, crtc_id, 8);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_encoder, possible_crtcs, 12);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_encoder, possible_clones, 16);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_GETENCODER, struct drm_mode_get_encoder, 0xA6);

ZCOPY_ASSERT_SIZE(struct drm_mode_get_connector, 80);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_connector, encoders_ptr, 0);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_connector, modes_ptr, 8);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_connector, props_ptr, 16);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_connector, prop_values_ptr, 24);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_connector, count_modes, 32);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_connector, count_encoders, 40);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_connector, connector_id, 48);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_connector, connector_type, 52);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_connector, connection, 60);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_connector, subpixel, 72);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_GETCONNECTOR, struct drm_mode_get_connector, 0xA7);

ZCOPY_ASSERT_SIZE(struct drm_mode_get_plane_res, 16);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_plane_res, count_planes, 8);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_GETPLANERESOURCES, struct drm_mode_get_plane_res, 0xB5);

ZCOPY_ASSERT_SIZE(struct drm_mode_get_plane, 32);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_plane, crtc_id, 4);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_plane, fb_id, 8);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_plane, possible_crtcs, 12);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_plane, count_format_types, 20);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_plane, format_type_ptr, 24);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_GETPLANE, struct drm_mode_get_plane, 0xB6);

// Properties: an object's (id, value) pairs, then each property's name, flags, values and enum names.
ZCOPY_ASSERT_SIZE(struct drm_mode_obj_get_properties, 32);
ZCOPY_ASSERT_OFFSET(struct drm_mode_obj_get_properties, props_ptr, 0);
ZCOPY_ASSERT_OFFSET(struct drm_mode_obj_get_properties, prop_values_ptr, 8);
ZCOPY_ASSERT_OFFSET(struct drm_mode_obj_get_properties, count_props, 16);
ZCOPY_ASSERT_OFFSET(struct drm_mode_obj_get_properties, obj_id, 20);
ZCOPY_ASSERT_OFFSET(struct drm_mode_obj_get_properties, obj_type, 24);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_OBJ_GETPROPERTIES, struct drm_mode_obj_get_properties, 0xB9);

ZCOPY_ASSERT_SIZE(struct drm_mode_get_property, 64);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_property, values_ptr, 0);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_property, enum_blob_ptr, 8);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_property, prop_id, 16);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_property, flags, 20);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_property, name, 24);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_property, count_values, 56);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_property, count_enum_blobs, 60);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_GETPROPERTY, struct drm_mode_get_property, 0xAA);
ZCOPY_ASSERT_SIZE(struct drm_mode_property_enum, 40);
ZCOPY_ASSERT_OFFSET(struct drm_mode_property_enum, name, 8);

ZCOPY_ASSERT_SIZE(struct drm_mode_get_blob, 16);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_blob, length, 4);
ZCOPY_ASSERT_OFFSET(struct drm_mode_get_blob, data, 8);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_GETPROPBLOB, struct drm_mode_get_blob, 0xAC);
ZCOPY_ASSERT_SIZE(struct drm_mode_create_blob, 16);
ZCOPY_ASSERT_OFFSET(struct drm_mode_create_blob, data, 0);
ZCOPY_ASSERT_OFFSET(struct drm_mode_create_blob, length, 8);
ZCOPY_ASSERT_OFFSET(struct drm_mode_create_blob, blob_id, 12);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_CREATEPROPBLOB, struct drm_mode_create_blob, 0xBD);
ZCOPY_ASSERT_SIZE(struct drm_mode_destroy_blob, 4);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_DESTROYPROPBLOB, struct drm_mode_destroy_blob, 0xBE);

// Framebuffers: ADDFB2 takes up to four planes of (handle, pitch, offset, modifier); RMFB takes the id.
ZCOPY_ASSERT_SIZE(struct drm_mode_fb_cmd2, 104);
ZCOPY_ASSERT_OFFSET(struct drm_mode_fb_cmd2, fb_id, 0);
ZCOPY_ASSERT_OFFSET(struct drm_mode_fb_cmd2, pixel_format, 12);
ZCOPY_ASSERT_OFFSET(struct drm_mode_fb_cmd2, flags, 16);
ZCOPY_ASSERT_OFFSET(struct drm_mode_fb_cmd2, handles, 20);
ZCOPY_ASSERT_OFFSET(struct drm_mode_fb_cmd2, pitches, 36);
ZCOPY_ASSERT_OFFSET(struct drm_mode_fb_cmd2, offsets, 52);
ZCOPY_ASSERT_OFFSET(struct drm_mode_fb_cmd2, modifier, 72);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_ADDFB2, struct drm_mode_fb_cmd2, 0xB8);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_RMFB, unsigned int, 0xAF);

// Atomic: parallel arrays (objs, count_props per obj, props, values) by user pointer.
ZCOPY_ASSERT_SIZE(struct drm_mode_atomic, 56);
ZCOPY_ASSERT_OFFSET(struct drm_mode_atomic, flags, 0);
ZCOPY_ASSERT_OFFSET(struct drm_mode_atomic, count_objs, 4);
ZCOPY_ASSERT_OFFSET(struct drm_mode_atomic, objs_ptr, 8);
ZCOPY_ASSERT_OFFSET(struct drm_mode_atomic, count_props_ptr, 16);
ZCOPY_ASSERT_OFFSET(struct drm_mode_atomic, props_ptr, 24);
ZCOPY_ASSERT_OFFSET(struct drm_mode_atomic, prop_values_ptr, 32);
ZCOPY_ASSERT_OFFSET(struct drm_mode_atomic, user_data, 48);
ZCOPY_ASSERT_REQUEST(DRM_IOCTL_MODE_ATOMIC, struct drm_mode_atomic, 0xBC);

// Events read from the fd: a header (type, length), then the type's body.
ZCOPY_ASSERT_SIZE(struct drm_event, 8);
ZCOPY_ASSERT_OFFSET(struct drm_event, length, 4);
ZCOPY_ASSERT_SIZE(struct drm_event_vblank, 32);
ZCOPY_ASSERT_OFFSET(struct drm_event_vblank, user_data, 8);
ZCOPY_ASSERT_OFFSET(struct drm_event_vblank, tv_sec, 16);
ZCOPY_ASSERT_OFFSET(struct drm_event_vblank, tv_usec, 20);
ZCOPY_ASSERT_OFFSET(struct drm_event_vblank, sequence, 24);
ZCOPY_ASSERT_OFFSET(struct drm_event_vblank, crtc_id, 28);
ZCOPY_ASSERT_SIZE(struct drm_event_crtc_sequence, 32);
ZCOPY_ASSERT_OFFSET(struct drm_event_crtc_sequence, user_data, 8);
ZCOPY_ASSERT_OFFSET(struct drm_event_crtc_sequence, time_ns, 16);
ZCOPY_ASSERT_OFFSET(struct drm_event_crtc_sequence, sequence, 24);

static_assert(_IOC_NR(DRM_IOCTL_SET_MASTER) == 0x1e && _IOC_NR(DRM_IOCTL_DROP_MASTER) == 0x1f);
