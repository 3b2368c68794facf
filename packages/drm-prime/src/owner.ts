// What the buffers, handles and PRIME calls of a device need of it: its fd, whether it is closed, its driver.
// DrmDevice implements it; the modules that take a device depend on this interface, not on DrmDevice, so that
// device.ts (which builds on them) and they do not import each other.
import type { DrmVersion } from './version.js';

export interface DrmOwner {
  /** The device fd; throws ClosedError once closed. */
  readonly fd: number;
  readonly closed: boolean;
  /** The driver (DRM_IOCTL_VERSION when the device was made). */
  readonly version: DrmVersion;
}
