// Zero copy in a driver domain (row 3: a PVH backend domain, PV or PVH frontend, frontend allocation): the
// frontend's grant refs become one dma-buf here (IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS), PRIME-imported into this
// domain's display device and scanned out as it is. Needs an auto-translated (PVH/HVM) backend domain; on x86
// the images' kernel patches (images/README.md, "Kernel patches"), and for vkms, which composes with the CPU,
// the exporter's CPU access turned on (setExportCpuAccess(true) of @zcopy/gntdev-dmabuf).
// Destroying a buffer closes the framebuffers, the import and the dma-buf, then waits (EXP_WAIT_RELEASED) until
// the kernel has let go of the grants, all before DBUF_DESTROY is answered: the frontend ends its grants then.

import type { DmaBacking } from '@zcopy/balloon-dma';
import { ZcopyError } from '@zcopy/core';
import type { KmsDevice } from '@zcopy/drm-kms';
import { GntdevDmabuf, type GrantDmaBuf } from '@zcopy/gntdev-dmabuf';
import type { GrantMapper } from '@zcopy/grant-table';
import {
  type BackendOptions,
  type PvDisplayBackend,
  readFrontendDirectory,
  writeFrontendPages,
} from './backend.js';
import { startDisplayBackend } from './display-backend.js';
import type { DisplayArbiter } from './kms-output.js';
import type { BufferIo } from './protocol.js';
import { KmsDirectOutput, type ScanoutBuffer } from './zero-copy.js';

export interface ExportedBuffer extends ScanoutBuffer {
  dmabuf: GrantDmaBuf;
}

/** BufferIo that exports the frontend's refs as dma-bufs and imports them into `kms`. */
export function exportedBuffers(
  kms: KmsDevice,
  gntdev: GntdevDmabuf,
  mapper: GrantMapper,
  domid: number,
  options: { backing?: DmaBacking; releaseTimeoutMs?: number } = {},
): BufferIo<ExportedBuffer> {
  return {
    readDirectory: (ref) => readFrontendDirectory(mapper, domid, ref),
    async map(spec, refs) {
      const dmabuf = gntdev.exportFromRefs(domid, refs, { backing: options.backing ?? 'pages' });
      try {
        const gem = kms.drm.importDmaBuf(dmabuf);
        return { dmabuf, gem, pitch: spec.pitch, offset: spec.dataOffset, fbs: new Map() };
      } catch (e) {
        dmabuf.close();
        throw e;
      }
    },
    async allocate() {
      throw new ZcopyError(
        'ERR_ZCOPY_PV_DISPLAY_PATH',
        'this backend takes the frontend’s buffers (no be-alloc)',
      );
    },
    async writeDirectory() {
      throw new ZcopyError(
        'ERR_ZCOPY_PV_DISPLAY_PATH',
        'this backend takes the frontend’s buffers (no be-alloc)',
      );
    },
    writeFrontendPages: (refs, data) => writeFrontendPages(mapper, domid, refs, data),
    async release(b) {
      for (const fb of b.fbs.values()) fb.close();
      b.fbs.clear();
      b.gem.close();
      b.dmabuf.close();
      // Every user is gone on our side; the kernel unmaps the grants when the last reference drops.
      await gntdev.waitReleased(b.dmabuf, { timeoutMs: options.releaseTimeoutMs ?? 2500 });
    },
  };
}

export interface ExportBackendOptions extends Omit<BackendOptions<ExportedBuffer>, 'services'> {
  display?: DisplayArbiter;
  backing?: DmaBacking;
}

/** Starts a backend that shows frontend-allocated buffers through EXP_FROM_REFS + PRIME import. */
export async function startExportBackend(options: ExportBackendOptions = {}): Promise<{
  backend: PvDisplayBackend<ExportedBuffer>;
  display: DisplayArbiter;
  close(): Promise<void>;
}> {
  const gntdev = GntdevDmabuf.open();
  return startDisplayBackend<ExportedBuffer, KmsDirectOutput<ExportedBuffer>>(options, {
    shown: (kms, out) => new KmsDirectOutput<ExportedBuffer>(kms, out),
    headlessFormats: (kms) => new Set(kms.pick().plane.formats),
    io: ({ info, mapper }, kms) =>
      exportedBuffers(kms, gntdev, mapper, info.frontendDomid, { backing: options.backing }),
    backendAllocation: false,
    close: () => gntdev.close(),
  });
}
