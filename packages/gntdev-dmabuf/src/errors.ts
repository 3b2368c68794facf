// What each errno of the gntdev dma-buf ioctls means, in core's hint table. EXP_FROM_REFS's EINVAL has several
// causes the kernel does not tell apart; the domain type (sysfs) tells the commonest one apart, so its hint is
// a function of it and the message says which applies.
import { registerHints } from '@zcopy/core/internal';
import { GUEST_TYPE_PATH, guestType } from '@zcopy/xen';

export { GUEST_TYPE_PATH, guestType };

export const NOT_AUTO_TRANSLATED =
  'this domain is PV (not auto-translated): gntdev maps grants through page tables here (use_ptemod) and cannot ' +
  'export them as a dma-buf. Export in a PVH or HVM domain (see images/README.md)';

export const EXPORT_EINVAL_TRANSLATED =
  'count is 0 or above the gntdev limit, or the hypervisor refused the map: on x86 PVH/HVM an unpatched ' +
  'Linux asks for GNTMAP_device_map, which Xen refuses there (the images carry the kernel fix)';

const NO_DMABUF = 'the kernel lacks CONFIG_XEN_GNTDEV_DMABUF (gntdev without dma-buf support)';

registerHints('IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS', {
  EINVAL: () => (guestType() === 'PV' ? NOT_AUTO_TRANSLATED : EXPORT_EINVAL_TRANSLATED),
  ENOTTY: NO_DMABUF,
  ENOMEM: 'the kernel could not allocate the backing pages (DMA backings need contiguous memory)',
  EFAULT: 'a grant could not be mapped: never granted, granted to another domain, or already ended',
});
registerHints('IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED', { ENOTTY: NO_DMABUF });
registerHints('IOCTL_GNTDEV_DMABUF_IMP_TO_REFS', {
  EINVAL:
    'the dma-buf is not exactly count pages, starts at an offset within a page, or count is 0 or above the ' +
    'gntdev limit',
  EBADF: 'the fd is not an open dma-buf',
  ENOTTY: NO_DMABUF,
  ENOSPC: 'no free grant references are left in this domain',
});
registerHints('IOCTL_GNTDEV_DMABUF_IMP_RELEASE', {
  ENOENT: 'this gntdev fd holds no import of that dma-buf fd (already released?)',
  ENOTTY: NO_DMABUF,
});
