// What each errno means for the ioctls of this package: KernelError messages say the rule.
import { readFileSync } from 'node:fs';
import { registerHints } from '@zcopy/core/internal';

/** Where the kernel keeps gntalloc's limit on grants allocated at once (all processes together). */
export const GNTALLOC_LIMIT_PATH = '/sys/module/xen_gntalloc/parameters/limit';
/** Where the kernel keeps gntdev's limit on grants in one map request. */
export const GNTDEV_LIMIT_PATH = '/sys/module/xen_gntdev/parameters/limit';

/** A module parameter's value, or undefined where it cannot be read. */
export function readLimit(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

registerHints('IOCTL_GNTDEV_MAP_GRANT_REF', {
  EINVAL: `the batch must hold 1..limit refs (the limit is ${GNTDEV_LIMIT_PATH})`,
  ENOMEM: 'the kernel could not allocate the batch (too many refs mapped at once?)',
});
registerHints('IOCTL_GNTDEV_UNMAP_GRANT_REF', {
  ENOENT: 'no batch of that count starts at that index (already unmapped?)',
});
registerHints('IOCTL_GNTDEV_SET_UNMAP_NOTIFY', {
  ENOENT: 'no mapped batch holds that index',
  EINVAL:
    'the action has unknown bits, the event channel port is not bound in this domain, or a byte to clear was asked of a read-only mapping',
});
registerHints('IOCTL_GNTDEV_GRANT_COPY', {
  EINVAL: 'a segment copies local to local, or a grant side crosses its 4096-byte page',
  EFAULT: 'a local side of a segment is not mapped memory of this process',
});
registerHints('IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR', {
  EINVAL: 'the address is not in a gntdev mapping of this fd',
});
registerHints('IOCTL_GNTALLOC_ALLOC_GREF', {
  ENOSPC: ({ context }) =>
    typeof context?.grantCount === 'number'
      ? `${context.grantCount} more grants would pass gntalloc's limit of ${readLimit(GNTALLOC_LIMIT_PATH) ?? 'unknown'} ` +
        `grants in this domain (${GNTALLOC_LIMIT_PATH}; pages the peer still maps count too): unshare some or ` +
        'raise the limit'
      : `gntalloc allows only so many grants at once (${GNTALLOC_LIMIT_PATH}): unshare some or raise the limit`,
  ENOMEM: 'the kernel could not allocate the pages or grant references',
});
registerHints('IOCTL_GNTALLOC_DEALLOC_GREF', {
  EINVAL: 'no shared batch of that count starts at that index (already unshared?)',
});
registerHints('IOCTL_GNTALLOC_SET_UNMAP_NOTIFY', {
  ENOENT: 'no shared page at that index',
  EINVAL: 'the action has unknown bits, or the event channel port is not bound in this domain',
});
registerHints('mmap', {
  EINVAL: ({ context }) =>
    context?.grantMap
      ? 'the hypervisor refused to map at least one grant: never granted, granted to another domain, already ' +
        'ended, or a read-only grant mapped for writing'
      : undefined,
});
