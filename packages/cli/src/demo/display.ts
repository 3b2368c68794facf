// The demo's display: vkms through @zcopy/drm-kms. A frame is shown with one atomic modeset and read back
// through the writeback connector — what the CRTC really composed, not the buffer it was given.
import type { DmaBuf } from '@zcopy/dma-buf';
import { type DumbFramebuffer, type Framebuffer, KmsDevice, type Output } from '@zcopy/drm-kms';
import type { DrmDevice, DumbBuffer, GemHandle } from '@zcopy/drm-prime';
import type { FrameGeometry } from './pattern.js';

export interface Capture {
  /** The capture buffer's pixels (a read mapping, valid until the next capture into it or its close). */
  pixels: Uint8Array;
  pitch: number;
}

export class DemoDisplay {
  readonly kms: KmsDevice;
  readonly output: Output;
  readonly #imports: GemHandle[] = [];

  constructor(kms: KmsDevice) {
    this.kms = kms;
    this.output = kms.pick();
  }

  get drm(): DrmDevice {
    return this.kms.drm;
  }
  get width(): number {
    return this.output.mode.hdisplay;
  }
  get height(): number {
    return this.output.mode.vdisplay;
  }

  /** A framebuffer over a dumb buffer of this device (ADDFB2, XRGB8888). */
  frameOf(buffer: DumbBuffer): Framebuffer {
    return this.kms.addFramebuffer({ buffer, format: 'XRGB8888' });
  }

  /** PRIME-imports a foreign dma-buf and makes a framebuffer of it: the display reads those pages directly. */
  importFrame(dmabuf: DmaBuf, g: FrameGeometry): Framebuffer {
    const handle = this.drm.importDmaBuf(dmabuf);
    this.#imports.push(handle);
    return this.kms.addFramebuffer({
      buffer: handle,
      width: g.width,
      height: g.height,
      pitch: g.pitch,
      format: 'XRGB8888',
    });
  }

  /** A buffer the writeback connector captures into (the mode's size, XRGB8888). */
  createCaptureBuffer(): DumbFramebuffer {
    return this.kms.createFramebuffer({ width: this.width, height: this.height, format: 'XRGB8888' });
  }

  /** Atomic modeset: the framebuffer on the CRTC's primary plane, in the connector's preferred mode. */
  async show(fb: Framebuffer): Promise<void> {
    const { crtc, connector, mode } = this.output;
    await this.kms.setMode(crtc, connector, mode, fb);
  }

  /** One writeback of the CRTC into `target`; resolves once its out-fence has signalled. */
  async capture(target: DumbFramebuffer): Promise<Capture> {
    // vkms (6.1) cannot feed its Virtual and writeback connectors from one CRTC at once (no encoder clones): the
    // writeback takes the Virtual connector off for the capture, and reattach() puts it back on the display.
    const job = await this.kms.writeback(this.output.crtc, target, { timeoutMs: 60_000 });
    try {
      await job.done;
      await job.reattach();
    } finally {
      job.close();
    }
    for (const m of target.buffer.mappings) m.unmap();
    const map = target.map({ access: 'read' });
    return { pixels: new Uint8Array(map.arrayBuffer), pitch: target.pitch };
  }

  close(): void {
    for (const h of this.#imports.splice(0)) h.close();
    this.kms.close();
  }
}

/** Opens this domain's vkms card and picks its connected output and preferred mode. */
export async function openDisplay(): Promise<DemoDisplay> {
  const kms = KmsDevice.openDriver('vkms');
  try {
    return new DemoDisplay(kms);
  } catch (e) {
    kms.close();
    throw e;
  }
}
