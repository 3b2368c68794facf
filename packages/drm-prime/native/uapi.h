// The kernel's DRM UAPI (drm.h), and compile-time checks of every struct this addon hands to the kernel.
// Debian ships the DRM UAPI headers in libdrm-dev (/usr/include/libdrm); a kernel headers install has them
// in /usr/include/drm. Both are copies of include/uapi/drm/drm.h.
#pragma once
#if __has_include(<drm/drm.h>)
#include <drm/drm.h>
#elif __has_include(<libdrm/drm.h>)
#include <libdrm/drm.h>
#else
#error "DRM UAPI headers not found: apt-get install libdrm-dev"
#endif

#include <zcopy/layout.h>

// struct drm_version: three ints, then (size, pointer) pairs for name, date and desc.
#if __SIZEOF_POINTER__ == 8
ZCOPY_ASSERT_SIZE(struct drm_version, 64);
ZCOPY_ASSERT_OFFSET(struct drm_version, name_len, 16);
ZCOPY_ASSERT_OFFSET(struct drm_version, name, 24);
ZCOPY_ASSERT_OFFSET(struct drm_version, date_len, 32);
ZCOPY_ASSERT_OFFSET(struct drm_version, date, 40);
ZCOPY_ASSERT_OFFSET(struct drm_version, desc_len, 48);
ZCOPY_ASSERT_OFFSET(struct drm_version, desc, 56);
#endif
ZCOPY_ASSERT_OFFSET(struct drm_version, version_major, 0);
ZCOPY_ASSERT_OFFSET(struct drm_version, version_minor, 4);
ZCOPY_ASSERT_OFFSET(struct drm_version, version_patchlevel, 8);

ZCOPY_ASSERT_SIZE(struct drm_get_cap, 16);
ZCOPY_ASSERT_OFFSET(struct drm_get_cap, capability, 0);
ZCOPY_ASSERT_OFFSET(struct drm_get_cap, value, 8);

ZCOPY_ASSERT_SIZE(struct drm_set_client_cap, 16);
ZCOPY_ASSERT_OFFSET(struct drm_set_client_cap, capability, 0);
ZCOPY_ASSERT_OFFSET(struct drm_set_client_cap, value, 8);

// The request numbers encode the struct size the kernel copies: a mismatch here means a foreign header.
static_assert(_IOC_SIZE(DRM_IOCTL_VERSION) == sizeof(struct drm_version));
static_assert(_IOC_SIZE(DRM_IOCTL_GET_CAP) == sizeof(struct drm_get_cap));
static_assert(_IOC_SIZE(DRM_IOCTL_SET_CLIENT_CAP) == sizeof(struct drm_set_client_cap));
static_assert(_IOC_TYPE(DRM_IOCTL_VERSION) == DRM_IOCTL_BASE && _IOC_NR(DRM_IOCTL_VERSION) == 0x00);
static_assert(_IOC_NR(DRM_IOCTL_GET_CAP) == 0x0c && _IOC_NR(DRM_IOCTL_SET_CLIENT_CAP) == 0x0d);
