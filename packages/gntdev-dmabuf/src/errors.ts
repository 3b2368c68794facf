// What each errno of the gntdev dma-buf ioctls means. EXP_FROM_REFS's EINVAL has several causes the kernel does
// not tell apart; the domain type (sysfs) tells the commonest one apart, so the message says which applies.
import { readFileSync } from 'node:fs';
import { KernelError } from '@zcopy/core';

export const GUEST_TYPE_PATH = '/sys/hypervisor/guest_type';

/** 'PV', 'PVH', 'HVM' (Xen guests), or undefined when the kernel does not say. */
export function guestType(path = GUEST_TYPE_PATH): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export const NOT_AUTO_TRANSLATED =
  'this domain is PV (not auto-translated): gntdev maps grants through page tables here (use_ptemod) and cannot ' +
  'export them as a dma-buf. Export in a PVH or HVM domain (see images/README.md)';

export const EXPORT_EINVAL_TRANSLATED =
  'count is 0 or above the gntdev limit, or the hypervisor refused the map: on x86 PVH/HVM an unpatched ' +
  'Linux asks for GNTMAP_device_map, which Xen refuses there (the images carry the kernel fix)';

const NO_DMABUF = 'the kernel lacks CONFIG_XEN_GNTDEV_DMABUF (gntdev without dma-buf support)';

const hints: Record<string, Record<string, string | (() => string)>> = {
  IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS: {
    EINVAL: () => (guestType() === 'PV' ? NOT_AUTO_TRANSLATED : EXPORT_EINVAL_TRANSLATED),
    ENOTTY: NO_DMABUF,
    ENOMEM: 'the kernel could not allocate the backing pages (DMA backings need contiguous memory)',
    EFAULT: 'a grant could not be mapped: never granted, granted to another domain, or already ended',
  },
  IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED: { ENOTTY: NO_DMABUF },
  IOCTL_GNTDEV_DMABUF_IMP_TO_REFS: {
    EINVAL:
      'the dma-buf is not exactly count pages, starts at an offset within a page, or count is 0 or above the ' +
      'gntdev limit',
    EBADF: 'the fd is not an open dma-buf',
    ENOTTY: NO_DMABUF,
    ENOSPC: 'no free grant references are left in this domain',
  },
  IOCTL_GNTDEV_DMABUF_IMP_RELEASE: {
    ENOENT: 'this gntdev fd holds no import of that dma-buf fd (already released?)',
    ENOTTY: NO_DMABUF,
  },
};

function isKernelError(e: unknown): e is KernelError {
  return e instanceof Error && e.name === 'KernelError' && typeof (e as KernelError).errno === 'number';
}

/** Runs fn; a KernelError of one of these ioctls is rethrown with the rule it broke in its message. */
export function withHints<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw explain(e);
  }
}

export function explain(e: unknown): unknown {
  if (!isKernelError(e) || !e.request) return e;
  const h = hints[e.request]?.[e.code];
  if (h === undefined) return e;
  const hint = typeof h === 'function' ? h() : h;
  return new KernelError({ errno: e.errno, syscall: e.syscall, request: e.request, path: e.path, hint });
}
