// Zero copy with backend allocation (row 2: PV dom0 backend, PVH frontend, be-alloc = 1): each DBUF_CREATE
// with XENDISPL_DBUF_FLG_REQ_ALLOC becomes a dumb buffer of this domain's display device, granted to the
// frontend page by page (IOCTL_GNTDEV_DMABUF_IMP_TO_REFS) and the refs written into the frontend's page
// directory. The guest maps those pages and its client draws straight into them; SET_CONFIG and PG_FLIP put a
// framebuffer over that same dumb buffer on the display: no byte is copied. The display must be shown whole
// (vkms primary planes cover the CRTC): a frame at (0, 0) of the mode's size.

import { ZcopyError } from '@zcopy/core';
import type { Framebuffer, KmsDevice, Output } from '@zcopy/drm-kms';
import type { DumbBuffer, GemHandle } from '@zcopy/drm-prime';
import { GntdevDmabuf, type ImportedRefs } from '@zcopy/gntdev-dmabuf';
import type { GrantMapper } from '@zcopy/grant-table';
import {
  type BackendOptions,
  type PvDisplayBackend,
  readFrontendDirectory,
  writeFrontendPages,
} from './backend.js';
import { startDisplayBackend } from './display-backend.js';
import { DISPLAY_FLIP_LIMIT_MS, type DisplayArbiter, scanoutFormats } from './kms-output.js';
import { binding } from './native.js';
import type { BufferIo, ConnectorOutput, Frame } from './protocol.js';

/** A buffer the display device can scan out as it is: a GEM handle of that device, its layout, its framebuffers. */
export interface ScanoutBuffer {
  gem: GemHandle;
  pitch: number;
  offset: number;
  /** Framebuffers over it, by format. */
  fbs: Map<number, Framebuffer>;
}

/** A display buffer this backend allocated and granted. */
export interface GrantedDumb extends ScanoutBuffer {
  dumb: DumbBuffer;
  imp: ImportedRefs;
}

/** BufferIo of backend-allocated dumb buffers on `kms`, granted to `domid`. */
export function grantedDumbBuffers(
  kms: KmsDevice,
  gntdev: GntdevDmabuf,
  mapper: GrantMapper,
  domid: number,
): BufferIo<GrantedDumb> {
  return {
    readDirectory: (ref) => readFrontendDirectory(mapper, domid, ref),
    async map() {
      throw new ZcopyError(
        'ERR_ZCOPY_PV_DISPLAY_PATH',
        'this backend allocates the buffers (be-alloc): frontend buffers are not taken',
      );
    },
    async allocate(spec) {
      const dumb = kms.drm.createDumb({ width: spec.width, height: spec.height, bpp: spec.bpp });
      try {
        if (dumb.pitch !== spec.pitch || dumb.size < spec.pages * 4096)
          throw new ZcopyError(
            'ERR_ZCOPY_PV_DISPLAY_LAYOUT',
            `the display's dumb buffer has pitch ${dumb.pitch}, the frontend expects ${spec.pitch}`,
          );
        using buf = dumb.exportDmaBuf();
        const imp = gntdev.importToRefs(buf, domid);
        return {
          buffer: { dumb, imp, gem: dumb, pitch: dumb.pitch, offset: 0, fbs: new Map() },
          refs: imp.refs.subarray(0, spec.pages),
        };
      } catch (e) {
        dumb.close();
        throw e;
      }
    },
    async writeDirectory(ref, refs) {
      const m = mapper.map(domid, [ref], { access: 'readwrite' });
      try {
        binding.dirWrite(m.buffer, refs);
      } finally {
        m.unmap();
      }
    },
    writeFrontendPages: (refs, data) => writeFrontendPages(mapper, domid, refs, data),
    async release(b) {
      for (const fb of b.fbs.values()) fb.close();
      b.fbs.clear();
      b.imp.release();
      b.dumb.close();
    },
  };
}

/** Shows buffers as they are (a framebuffer over the buffer itself): no copy. */
export class KmsDirectOutput<B extends ScanoutBuffer = ScanoutBuffer> implements ConnectorOutput<B> {
  readonly formats: ReadonlySet<number>;
  readonly #kms: KmsDevice;
  readonly #out: Output;
  #on = false;
  frames = 0;

  constructor(kms: KmsDevice, out: Output) {
    this.#kms = kms;
    this.#out = out;
    this.formats = scanoutFormats(out);
  }

  #fb(frame: Frame<B>): Framebuffer {
    const { hdisplay, vdisplay } = this.#out.mode;
    if (frame.x !== 0 || frame.y !== 0 || frame.width !== hdisplay || frame.height !== vdisplay)
      throw new ZcopyError(
        'ERR_ZCOPY_PV_DISPLAY_FRAME',
        `zero copy shows whole ${hdisplay}x${vdisplay} frames at 0,0 only`,
      );
    const b = frame.dbuf.buffer;
    let fb = b.fbs.get(frame.fb.format);
    if (!fb) {
      fb = this.#kms.addFramebuffer({
        buffer: b.gem,
        format: frame.fb.format,
        width: hdisplay,
        height: vdisplay,
        pitch: b.pitch,
        offset: b.offset,
      });
      b.fbs.set(frame.fb.format, fb);
    }
    return fb;
  }

  async show(frame: Frame<B> | undefined): Promise<void> {
    if (!frame) {
      if (this.#on) await this.#kms.disable(this.#out.crtc);
      this.#on = false;
      return;
    }
    await this.#kms.setMode(this.#out.crtc, this.#out.connector, this.#out.mode, this.#fb(frame));
    this.#on = true;
    this.frames++;
  }

  async flip(frame: Frame<B>): Promise<void> {
    if (!this.#on) return this.show(frame);
    await this.#kms.flip(this.#out.crtc, this.#fb(frame), { timeoutMs: DISPLAY_FLIP_LIMIT_MS });
    this.frames++;
  }

  async close(): Promise<void> {
    if (this.#on) await this.#kms.disable(this.#out.crtc).catch(() => {});
    this.#on = false;
  }
}

export interface ZeroCopyBackendOptions extends Omit<BackendOptions<GrantedDumb>, 'services'> {
  display?: DisplayArbiter;
}

/** Starts a backend that allocates every buffer on the display device and grants it (be-alloc frontends). */
export async function startBackendAllocBackend(options: ZeroCopyBackendOptions = {}): Promise<{
  backend: PvDisplayBackend<GrantedDumb>;
  display: DisplayArbiter;
  /** Grants of display buffers not yet released (for leak checks). */
  liveImports(): number;
  close(): Promise<void>;
}> {
  const gntdev = GntdevDmabuf.open();
  const started = await startDisplayBackend<GrantedDumb, KmsDirectOutput<GrantedDumb>>(options, {
    shown: (kms, out) => new KmsDirectOutput<GrantedDumb>(kms, out),
    headlessFormats: (kms) => new Set(kms.pick().plane.formats),
    io: ({ info, mapper }, kms) => grantedDumbBuffers(kms, gntdev, mapper, info.frontendDomid),
    backendAllocation: true,
    close: () => gntdev.close(),
  });
  return { ...started, liveImports: () => gntdev.imports.size };
}
