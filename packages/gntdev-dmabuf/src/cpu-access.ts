// CPU access to buffers exported from grant refs. Upstream gntdev's exporter has neither mmap nor vmap, so such
// a buffer reaches the CPU only through a device (DMA) or a separate grant mapping, and drivers that compose
// with the CPU (vkms) cannot display it. The images' kernel carries a patch
// (images/kernel/patches/0002-xen-gntdev-dmabuf-cpu-access-of-exported-buffers.patch) that adds both behind
// the parameter below, off by default; with it off the kernel behaves exactly as upstream.
import { readFileSync, writeFileSync } from 'node:fs';
import { adoptOrClose, native } from '@zcopy/core/internal';
import { DmaBuf } from '@zcopy/dma-buf';

export const CPU_ACCESS_PARAM = '/sys/module/xen_gntdev/parameters/dmabuf_cpu_access';

/** 'on'/'off': the patched kernel and its parameter; 'unsupported': a kernel without the patch. */
export type ExportCpuAccess = 'on' | 'off' | 'unsupported';

export function exportCpuAccess(path: string = CPU_ACCESS_PARAM): ExportCpuAccess {
  let v: string;
  try {
    v = readFileSync(path, 'utf8').trim();
  } catch {
    return 'unsupported';
  }
  return v === 'Y' || v === '1' ? 'on' : 'off';
}

/**
 * Turns CPU access to new and existing exports on or off (root; the patched kernel only). It takes effect at
 * the next mmap or vmap: mappings made before stay. Error (TypeError) on a kernel without the patch.
 */
export function setExportCpuAccess(on: boolean, path: string = CPU_ACCESS_PARAM): void {
  if (typeof on !== 'boolean') throw new TypeError('on must be a boolean');
  if (exportCpuAccess(path) === 'unsupported')
    throw new TypeError(`this kernel has no ${path}: gntdev exports offer no CPU access (upstream Linux)`);
  writeFileSync(path, on ? '1' : '0');
}

export function cpuAccessHint(state: ExportCpuAccess = exportCpuAccess()): string {
  switch (state) {
    case 'unsupported':
      return (
        "gntdev's dma-buf exporter offers no mmap or vmap in this kernel (upstream Linux): reach the pages " +
        'through a device that imported the buffer (DMA) or a grant mapping of the same refs; the zcopy images ' +
        'carry a kernel patch that adds CPU access (xen_gntdev.dmabuf_cpu_access)'
      );
    case 'off':
      return `CPU access to gntdev exports is off: write 1 to ${CPU_ACCESS_PARAM} (root) to mmap or vmap them`;
    case 'on':
      return 'dma-buf mappings must be shared and lie within the buffer';
  }
}

/** A dma-buf exported from grant refs: mmap errors say whether this kernel offers CPU access to it. */
export class GrantDmaBuf extends DmaBuf {
  /**
   * Owns the fd IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS just returned: the ioctl vouches that it is a dma-buf, so there
   * is no fstatfs/F_GETFD probe as DmaBuf.adopt() makes for a foreign fd. Whatever fails closes the fd.
   */
  static ownExport(fd: number): GrantDmaBuf {
    return adoptOrClose(fd, (n) => new GrantDmaBuf(native.own(n), { owned: true }));
  }

  protected override mmapHint(code: string): string | undefined {
    return code === 'EINVAL' ? cpuAccessHint() : super.mmapHint(code);
  }
}
