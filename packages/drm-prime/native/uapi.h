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

#include <fcntl.h>
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

// Dumb buffers (drm_mode.h): create → handle/pitch/size, map → a fake offset into the device fd for mmap.
ZCOPY_ASSERT_SIZE(struct drm_mode_create_dumb, 32);
ZCOPY_ASSERT_OFFSET(struct drm_mode_create_dumb, height, 0);
ZCOPY_ASSERT_OFFSET(struct drm_mode_create_dumb, width, 4);
ZCOPY_ASSERT_OFFSET(struct drm_mode_create_dumb, bpp, 8);
ZCOPY_ASSERT_OFFSET(struct drm_mode_create_dumb, flags, 12);
ZCOPY_ASSERT_OFFSET(struct drm_mode_create_dumb, handle, 16);
ZCOPY_ASSERT_OFFSET(struct drm_mode_create_dumb, pitch, 20);
ZCOPY_ASSERT_OFFSET(struct drm_mode_create_dumb, size, 24);
ZCOPY_ASSERT_SIZE(struct drm_mode_map_dumb, 16);
ZCOPY_ASSERT_OFFSET(struct drm_mode_map_dumb, handle, 0);
ZCOPY_ASSERT_OFFSET(struct drm_mode_map_dumb, offset, 8);
static_assert(_IOC_SIZE(DRM_IOCTL_MODE_CREATE_DUMB) == sizeof(struct drm_mode_create_dumb));
static_assert(_IOC_SIZE(DRM_IOCTL_MODE_MAP_DUMB) == sizeof(struct drm_mode_map_dumb));
static_assert(_IOC_NR(DRM_IOCTL_MODE_CREATE_DUMB) == 0xb2 && _IOC_NR(DRM_IOCTL_MODE_MAP_DUMB) == 0xb3);

// PRIME (handle ↔ dma-buf fd) and GEM_CLOSE (drop a handle of this fd).
ZCOPY_ASSERT_SIZE(struct drm_prime_handle, 12);
ZCOPY_ASSERT_OFFSET(struct drm_prime_handle, handle, 0);
ZCOPY_ASSERT_OFFSET(struct drm_prime_handle, flags, 4);
ZCOPY_ASSERT_OFFSET(struct drm_prime_handle, fd, 8);
ZCOPY_ASSERT_SIZE(struct drm_gem_close, 8);
ZCOPY_ASSERT_OFFSET(struct drm_gem_close, handle, 0);
static_assert(_IOC_SIZE(DRM_IOCTL_PRIME_HANDLE_TO_FD) == sizeof(struct drm_prime_handle));
static_assert(_IOC_SIZE(DRM_IOCTL_PRIME_FD_TO_HANDLE) == sizeof(struct drm_prime_handle));
static_assert(_IOC_SIZE(DRM_IOCTL_GEM_CLOSE) == sizeof(struct drm_gem_close));
static_assert(_IOC_NR(DRM_IOCTL_PRIME_HANDLE_TO_FD) == 0x2d && _IOC_NR(DRM_IOCTL_PRIME_FD_TO_HANDLE) == 0x2e);
static_assert(_IOC_NR(DRM_IOCTL_GEM_CLOSE) == 0x09);
// The export flags are open(2)'s: the kernel passes them on to the dma-buf file.
static_assert(DRM_CLOEXEC == O_CLOEXEC && DRM_RDWR == O_RDWR);
