// vgem's driver ioctls (include/uapi/drm/vgem_drm.h): fences a test can attach to a buffer and signal by hand.
// libdrm-dev does not ship vgem_drm.h and a kernel headers install does, so: the installed header when there is
// one, else the two structs as the kernel ABI defines them (stable since Linux 4.10). The static_asserts below
// hold for both and pin the request numbers to the kernel's.
#pragma once
#include "uapi.h"

#if __has_include(<drm/vgem_drm.h>)
#include <drm/vgem_drm.h>
#elif __has_include(<libdrm/vgem_drm.h>)
#include <libdrm/vgem_drm.h>
#else
extern "C" {
// Attach a new fence to the object's reservation (write: exclusive use; else shared/read); out: its id.
struct drm_vgem_fence_attach {
  __u32 handle;
  __u32 flags;
  __u32 out_fence;
  __u32 pad;
};
// Signal (and forget) a fence by the id attach returned.
struct drm_vgem_fence_signal {
  __u32 fence;
  __u32 flags;
};
}
#define VGEM_FENCE_WRITE 0x1
#define DRM_VGEM_FENCE_ATTACH 0x1
#define DRM_VGEM_FENCE_SIGNAL 0x2
#define DRM_IOCTL_VGEM_FENCE_ATTACH DRM_IOWR(DRM_COMMAND_BASE + DRM_VGEM_FENCE_ATTACH, struct drm_vgem_fence_attach)
#define DRM_IOCTL_VGEM_FENCE_SIGNAL DRM_IOW(DRM_COMMAND_BASE + DRM_VGEM_FENCE_SIGNAL, struct drm_vgem_fence_signal)
#endif

ZCOPY_ASSERT_SIZE(struct drm_vgem_fence_attach, 16);
ZCOPY_ASSERT_OFFSET(struct drm_vgem_fence_attach, handle, 0);
ZCOPY_ASSERT_OFFSET(struct drm_vgem_fence_attach, flags, 4);
ZCOPY_ASSERT_OFFSET(struct drm_vgem_fence_attach, out_fence, 8);
ZCOPY_ASSERT_OFFSET(struct drm_vgem_fence_attach, pad, 12);
ZCOPY_ASSERT_SIZE(struct drm_vgem_fence_signal, 8);
ZCOPY_ASSERT_OFFSET(struct drm_vgem_fence_signal, fence, 0);
ZCOPY_ASSERT_OFFSET(struct drm_vgem_fence_signal, flags, 4);
// The kernel's numbers (Linux 6.1: 0xc0106441 and 0x40086442): driver ioctls 0x41/0x42 on the 'd' base.
static_assert(DRM_IOCTL_VGEM_FENCE_ATTACH == 0xc0106441UL);
static_assert(DRM_IOCTL_VGEM_FENCE_SIGNAL == 0x40086442UL);
static_assert(VGEM_FENCE_WRITE == 0x1);
