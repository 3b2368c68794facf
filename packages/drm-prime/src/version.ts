// DRM_IOCTL_VERSION: which driver serves a node (asked by every DrmDevice when it is made, and by discovery).
import { binding } from './native.js';

/** DRM_IOCTL_VERSION: which driver serves the node. */
export interface DrmVersion {
  /** Driver name: 'vgem', 'vkms', 'virtio_gpu', 'i915', 'amdgpu', … */
  name: string;
  major: number;
  minor: number;
  patchlevel: number;
  /** The driver's date string, e.g. '20120112'. */
  date: string;
  /** The driver's description, e.g. 'Virtual GEM provider'. */
  desc: string;
}

export function readVersion(fd: number): DrmVersion {
  const v = binding.version(fd);
  return {
    name: v.name,
    major: v.major,
    minor: v.minor,
    patchlevel: v.patchlevel,
    date: v.date,
    desc: v.desc,
  };
}
