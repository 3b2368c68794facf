// Outputs for the backend's own display (vkms through @zcopy/drm-kms).
//
// The copy path: the frontend's buffer is mapped from its grants (read-only) and each SET_CONFIG/PG_FLIP copies
// the shown rectangle into one of two dumb framebuffers of the display's mode, which is then flipped to. Counted:
// bytes copied per frame. One display, many frontends: the display belongs to the first connector that
// connects while it is free (DisplayArbiter); every other connector gets a headless output that accepts the
// same requests and completes flips on a timer, so a second guest works but is not shown until it reconnects
// after the first let go.
import type { Mapping } from '@zcopy/core';
import { type DumbFramebuffer, formatLayout, KmsDevice, type Output, preferredMode } from '@zcopy/drm-kms';
import type { GrantMapping } from '@zcopy/grant-table';
import type { ConnectorConfig, ConnectorOutput, Frame } from './protocol.js';

/**
 * How long a flip may take on the display before it is a fault: the kernel's own limit for a commit's flip_done
 * (10 s in drm_atomic_helper_wait_for_flip_done). A flip slower than the frontend's wait is late, not failed: its
 * event still goes out when the display really shows the frame, and the backend counts it (`lateFlips`).
 */
export const DISPLAY_FLIP_LIMIT_MS = 10_000;

/** The formats of `out`'s plane a frontend's framebuffer can have: one packed plane, no subsampling. */
export function scanoutFormats(out: Output): ReadonlySet<number> {
  const fmts = new Set<number>();
  for (const f of out.plane.formats) {
    const l = formatLayout(f);
    if (l && l.cpp.length === 1 && l.hsub === 1) fmts.add(f);
  }
  return fmts;
}

interface Back {
  fb: DumbFramebuffer;
  map: Mapping;
}

/** The copy path onto a KMS display. */
export class KmsCopyOutput implements ConnectorOutput<GrantMapping> {
  readonly formats: ReadonlySet<number>;
  readonly #kms: KmsDevice;
  readonly #out: Output;
  #bufs: Back[] = [];
  #front = -1;
  #format = 0;
  #on = false;
  bytesCopied = 0;
  frames = 0;

  constructor(kms: KmsDevice, out: Output) {
    this.#kms = kms;
    this.#out = out;
    this.formats = scanoutFormats(out);
  }

  get output(): Output {
    return this.#out;
  }

  #ensure(format: number): void {
    if (this.#format === format && this.#bufs.length === 2) return;
    this.#free();
    const { hdisplay: width, vdisplay: height } = this.#out.mode;
    for (let i = 0; i < 2; i++) {
      const fb = this.#kms.createFramebuffer({ width, height, format });
      this.#bufs.push({ fb, map: fb.map() });
    }
    this.#format = format;
    this.#front = -1;
  }

  #free(): void {
    for (const b of this.#bufs) {
      b.map.unmap();
      b.fb.close();
    }
    this.#bufs = [];
  }

  /** Copies the frame's rectangle into the back buffer; returns it. */
  #copy(frame: Frame<GrantMapping>): Back {
    this.#ensure(frame.fb.format);
    const back = this.#bufs[this.#front === 0 ? 1 : 0]!;
    const src = frame.dbuf.buffer.buffer;
    const dst = back.map.buffer;
    const cpp = frame.fb.cpp;
    const { hdisplay: mw, vdisplay: mh } = this.#out.mode;
    const w = Math.min(frame.width, mw - frame.x);
    const h = Math.min(frame.height, mh - frame.y);
    const spitch = frame.dbuf.spec.pitch;
    const dpitch = back.fb.pitch;
    const base = frame.dbuf.spec.dataOffset;
    const row = w * cpp;
    if (frame.x === 0 && frame.y === 0 && spitch === dpitch && row === spitch) {
      src.copy(dst, 0, base, base + row * h);
    } else {
      for (let y = 0; y < h; y++) {
        const s = base + y * spitch;
        src.copy(dst, (frame.y + y) * dpitch + frame.x * cpp, s, s + row);
      }
    }
    this.bytesCopied += row * h;
    this.frames++;
    return back;
  }

  async show(frame: Frame<GrantMapping> | undefined): Promise<void> {
    if (!frame) {
      if (this.#on) await this.#kms.disable(this.#out.crtc);
      this.#on = false;
      return;
    }
    const back = this.#copy(frame);
    await this.#kms.setMode(this.#out.crtc, this.#out.connector, this.#out.mode, back.fb);
    this.#front = this.#bufs.indexOf(back);
    this.#on = true;
  }

  async flip(frame: Frame<GrantMapping>): Promise<void> {
    if (!this.#on || frame.fb.format !== this.#format) return this.show(frame);
    const back = this.#copy(frame);
    await this.#kms.flip(this.#out.crtc, back.fb, { timeoutMs: DISPLAY_FLIP_LIMIT_MS });
    this.#front = this.#bufs.indexOf(back);
  }

  async close(): Promise<void> {
    if (this.#on) await this.#kms.disable(this.#out.crtc).catch(() => {});
    this.#on = false;
    this.#free();
  }
}

/** A connector with no display: requests succeed, flips complete after `periodMs`. */
export class HeadlessOutput<B> implements ConnectorOutput<B> {
  readonly formats: ReadonlySet<number>;
  readonly #period: number;
  flips = 0;
  constructor(formats: ReadonlySet<number>, periodMs = 16) {
    this.formats = formats;
    this.#period = periodMs;
  }
  async show(): Promise<void> {}
  async flip(): Promise<void> {
    this.flips++;
    await new Promise((r) => setTimeout(r, this.#period));
  }
  close(): void {}
}

/**
 * One KMS display shared by every frontend: the first connector to ask while it is free gets it; the others
 * get headless outputs. Returns a release function with each grant.
 */
export class DisplayArbiter {
  readonly #kms: KmsDevice;
  #owner: string | undefined;

  constructor(kms: KmsDevice) {
    this.#kms = kms;
  }

  static open(driver = 'vkms'): DisplayArbiter {
    return new DisplayArbiter(KmsDevice.openDriver(driver));
  }

  get kms(): KmsDevice {
    return this.#kms;
  }

  get owner(): string | undefined {
    return this.#owner;
  }

  /** The display's output for a connector of `cfg`'s size, if the display is free and has that mode. */
  claim(who: string, cfg: ConnectorConfig): { output: Output; release: () => void } | undefined {
    if (this.#owner !== undefined) return undefined;
    const out = this.#kms.pick();
    const mode = preferredMode(
      out.connector.modes.filter((m) => m.hdisplay === cfg.width && m.vdisplay === cfg.height),
    );
    if (!mode) return undefined;
    this.#owner = who;
    return {
      output: { ...out, mode },
      release: () => {
        if (this.#owner === who) this.#owner = undefined;
      },
    };
  }

  close(): void {
    this.#kms.close();
  }
}
