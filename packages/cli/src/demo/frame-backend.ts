// The backend's half of the frontend-allocated direction, one code path wherever the backend runs: a frontend's
// grant refs become a dma-buf here (EXP_FROM_REFS), whose bytes are read through the dma-buf itself, which is
// PRIME-imported into this domain's vkms and put on its display, and whose scanout is captured by writeback.
// It runs in a PVH domU on x86 (backend.ts: a PV dom0 cannot export, EINVAL) and in dom0 itself on arm64, where
// every domain is auto-translated and the seeds put the display backend (dom0.ts).
import type { Mapping } from '@zcopy/core';
import type { DumbFramebuffer, Framebuffer } from '@zcopy/drm-kms';
import {
  type ExportCpuAccess,
  exportCpuAccess,
  GntdevDmabuf,
  type GrantDmaBuf,
  type ReleaseResult,
  setExportCpuAccess,
} from '@zcopy/gntdev-dmabuf';
import type { Capture, DemoDisplay } from './display.js';
import { countMismatches, drawFrame, type FrameContent, type FrameGeometry } from './pattern.js';

export interface BackendCapture extends Capture {
  /** Pixels that differ from the frame the frontend drew. */
  mismatches: number;
}

export class FrameBackend {
  readonly gnt = GntdevDmabuf.open();
  readonly display: DemoDisplay;
  readonly g: FrameGeometry;
  #buffer: GrantDmaBuf | undefined;
  #view: Mapping | undefined;
  #scanout: Framebuffer | undefined;
  #capture: DumbFramebuffer | undefined;
  #cpuAccessBefore: ExportCpuAccess | undefined;

  constructor(display: DemoDisplay, g: FrameGeometry) {
    this.display = display;
    this.g = g;
  }

  get buffer(): GrantDmaBuf {
    if (!this.#buffer) throw new Error('nothing exported yet');
    return this.#buffer;
  }

  get captureBuffer(): DumbFramebuffer {
    if (!this.#capture) throw new Error('nothing captured yet');
    return this.#capture;
  }

  /** EXP_FROM_REFS: the frontend's refs become one dma-buf in this domain. */
  exportFrom(frontend: number, refs: readonly number[]): GrantDmaBuf {
    this.#buffer = this.gnt.exportFromRefs(frontend, refs);
    return this.#buffer;
  }

  reference(content: FrameContent): Uint8Array {
    const ref = new Uint8Array(this.g.pitch * this.g.height);
    drawFrame(ref, this.g, content);
    return ref;
  }

  /** Pixels of the dma-buf that differ from `content`, read through a mapping of the dma-buf itself. */
  mismatchesThroughDmaBuf(content: FrameContent): number {
    const buffer = this.buffer;
    if (!this.#view) {
      // CPU view through the dma-buf (the images' kernel patch; off, this is upstream's EINVAL). The same switch
      // gives vkms the vmap it composes with. Put back as it was at release().
      this.#cpuAccessBefore = exportCpuAccess();
      setExportCpuAccess(true);
      this.#view = buffer.mmap({ access: 'read' });
    }
    const view = this.#view;
    const { pitch, width, height } = this.g;
    return buffer.withCpuAccess('read', () =>
      countMismatches(new Uint8Array(view.arrayBuffer), pitch, this.reference(content), pitch, width, height),
    );
  }

  /** PRIME import into this domain's vkms, a framebuffer of it, atomic modeset: the display reads those pages. */
  async show(): Promise<void> {
    this.#scanout = this.display.importFrame(this.buffer, this.g);
    await this.display.show(this.#scanout);
  }

  /** One writeback of the display, compared with `content`. */
  async capture(content: FrameContent): Promise<BackendCapture> {
    this.#capture ??= this.display.createCaptureBuffer();
    const cap = await this.display.capture(this.#capture);
    const { pitch, width, height } = this.g;
    return {
      ...cap,
      mismatches: countMismatches(cap.pixels, cap.pitch, this.reference(content), pitch, width, height),
    };
  }

  /**
   * The release handshake as a backend runs it: EXP_WAIT_RELEASED started while the buffer is still in use,
   * then every user lets go (`others` first: e.g. grants of the capture); resolves with the wait's result.
   */
  async release(others?: () => void): Promise<ReleaseResult> {
    const waiting = this.gnt.waitReleased(this.buffer, { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 300)); // let the wait start in the kernel first
    others?.();
    this.#view?.unmap();
    this.#view = undefined;
    this.display.close();
    this.#buffer?.close();
    const first = await waiting;
    this.#restoreCpuAccess();
    return first;
  }

  #restoreCpuAccess(): void {
    if (this.#cpuAccessBefore === 'off') setExportCpuAccess(false);
    this.#cpuAccessBefore = undefined;
  }

  /** Closes whatever is still open (after a failure; release() is the orderly way). */
  close(): void {
    this.#view?.unmap();
    this.display.close();
    this.#buffer?.close();
    this.gnt.close();
    this.#restoreCpuAccess();
  }
}
