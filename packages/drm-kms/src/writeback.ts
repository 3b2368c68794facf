// Writeback capture: a writeback connector on the CRTC, WRITEBACK_FB_ID set to a framebuffer and an out-fence
// (a sync_file the kernel signals once the frame is written), awaited without blocking the loop.
import { KernelError, type WaitOptions, ZcopyError } from '@zcopy/core';
import { checkWaitOptions } from '@zcopy/core/internal';
import type { SyncFile } from '@zcopy/dma-fence';
import type { KmsObjectRef } from './atomic.js';
import { type AtomicRequest, objectId } from './atomic.js';
import { formatNumber, fourccName } from './formats.js';
import { type DumbFramebuffer, Framebuffer } from './framebuffer.js';
import type { Connector, Crtc, Encoder } from './resources.js';

/**
 * What a writeback needs of its device (KmsDevice implements it): the read-out, framebuffers and commits. An
 * interface here keeps writeback.ts from importing device.ts, which builds on it.
 */
export interface WritebackHost {
  connectors(): Connector[];
  connector(ref: KmsObjectRef): Connector;
  encoder(ref: KmsObjectRef): Encoder;
  crtc(ref: KmsObjectRef): Crtc;
  property(object: KmsObjectRef, name: string): bigint;
  writebackFormats(connector: KmsObjectRef): number[];
  createFramebuffer(options: { width: number; height: number; format?: number | string }): DumbFramebuffer;
  atomic(): AtomicRequest;
}

export interface WritebackOptions extends WaitOptions {
  /** The writeback connector (default: the first that the CRTC can feed). timeoutMs/signal apply to `done`. */
  connector?: KmsObjectRef;
  /**
   * Detach, in the same commit, the connectors on the CRTC whose encoders the writeback encoder cannot clone
   * (default true). vkms in Linux 6.1 declares no clones: its Virtual output and its writeback cannot share the
   * CRTC, so capturing takes the Virtual connector off the CRTC (a modeset; capture() puts it back).
   */
  detachOthers?: boolean;
}

export interface CaptureOptions extends WritebackOptions {
  /** Pixel format to capture in (default XRGB8888; see KmsDevice.writebackFormats). */
  format?: number | string;
  /** Re-attach the connectors the writeback detached once the frame is captured (default true). */
  restore?: boolean;
}

export interface CapturedFrame {
  width: number;
  height: number;
  /** Fourcc number. */
  format: number;
  /** Bytes per row in `data`. */
  pitch: number;
  /** pitch × height bytes, copied out of the writeback buffer. */
  data: Buffer;
}

/** A writeback in flight: `done` resolves once the frame is in the framebuffer (the out-fence signalled). */
export class WritebackCapture implements Disposable {
  /** The out-fence (closed by this object once `done` settles, or by close()). */
  readonly fence: SyncFile;
  readonly done: Promise<void>;
  readonly connectorId: number;
  readonly crtcId: number;
  /** Connectors the commit took off the CRTC (not clones of the writeback encoder). */
  readonly detached: readonly number[];
  readonly #kms: WritebackHost;

  /** @internal */
  constructor(
    kms: WritebackHost,
    fence: SyncFile,
    connectorId: number,
    crtcId: number,
    detached: number[],
    options: WaitOptions,
  ) {
    this.#kms = kms;
    this.fence = fence;
    this.connectorId = connectorId;
    this.crtcId = crtcId;
    this.detached = detached;
    this.done = fence.wait(options).then(
      (status) => {
        fence.close();
        if (status.state === 'error')
          throw new ZcopyError(
            'ERR_ZCOPY_WRITEBACK_FAILED',
            `writeback on connector ${connectorId} failed: its fence signalled ${status.code}`,
            { cause: new KernelError({ errno: status.errno, syscall: 'writeback' }) },
          );
      },
      (e) => {
        fence.close();
        throw e;
      },
    );
  }

  /**
   * Puts the detached connectors back on the CRTC and takes the writeback connector off (a modeset). Await `done`
   * first: the writeback must be written before its connector leaves.
   */
  async reattach(): Promise<void> {
    if (this.detached.length === 0) return;
    const req = this.#kms.atomic().set(this.connectorId, 'CRTC_ID', 0);
    for (const id of this.detached) req.set(id, 'CRTC_ID', this.crtcId);
    await req.commit({ allowModeset: true });
  }

  /** Stops waiting (`done` rejects with ClosedError unless settled) and closes the fence. */
  close(): void {
    this.fence.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function writebackConnector(kms: WritebackHost, crtcId: number, ref: KmsObjectRef | undefined): Connector {
  if (ref !== undefined) {
    const c = kms.connector(ref);
    if (!c.writeback) throw new TypeError(`connector ${c.name} is not a writeback connector`);
    return c;
  }
  const c = kms.connectors().find((x) => x.writeback && x.possibleCrtcs.includes(crtcId));
  if (!c)
    throw new ZcopyError(
      'ERR_ZCOPY_NO_WRITEBACK',
      `no writeback connector can capture CRTC ${crtcId} on this device`,
    );
  return c;
}

/** Connectors on the CRTC that cannot share it with the writeback connector (their encoders are not clones). */
function nonClones(kms: WritebackHost, crtcId: number, wb: Connector): Connector[] {
  const wbEncoder = wb.encoders[0] === undefined ? undefined : kms.encoder(wb.encoders[0]);
  return kms.connectors().filter((c) => {
    if (c.id === wb.id || kms.property(c, 'CRTC_ID') !== BigInt(crtcId)) return false;
    const enc = c.encoderId || c.encoders[0];
    return enc !== undefined && wbEncoder !== undefined && !wbEncoder.possibleClones.includes(enc);
  });
}

/** Which writeback rule an EINVAL broke, when this side can tell. */
function writebackRuleBroken(
  kms: WritebackHost,
  crtcId: number,
  wb: Connector,
  framebuffer: KmsObjectRef,
  conflicts: Connector[],
): string | undefined {
  const mode = kms.crtc(crtcId).mode;
  if (!mode) return `a writeback needs an active CRTC: CRTC ${crtcId} is off (set a mode first)`;
  if (conflicts.length > 0)
    return (
      `${conflicts.map((c) => c.name).join(', ')} cannot share CRTC ${crtcId} with ${wb.name}: their encoders ` +
      'are not possible clones (detachOthers: true takes them off the CRTC for the capture)'
    );
  if (framebuffer instanceof Framebuffer) {
    if (framebuffer.width !== mode.hdisplay || framebuffer.height !== mode.vdisplay)
      return (
        `the writeback framebuffer is ${framebuffer.width}x${framebuffer.height}, ` +
        `it must be the mode size ${mode.hdisplay}x${mode.vdisplay}`
      );
    const formats = kms.writebackFormats(wb);
    if (!formats.includes(framebuffer.format))
      return (
        `connector ${wb.name} does not write ${fourccName(framebuffer.format)} ` +
        `(it writes ${formats.map(fourccName).join(', ')})`
      );
  }
  return undefined;
}

export async function startWriteback(
  kms: WritebackHost,
  crtc: KmsObjectRef,
  framebuffer: KmsObjectRef,
  options: WritebackOptions = {},
): Promise<WritebackCapture> {
  const crtcId = objectId(crtc, 'crtc');
  objectId(framebuffer, 'framebuffer');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const wait = checkWaitOptions({ timeoutMs: options.timeoutMs, signal: options.signal });
  const detachOthers = options.detachOthers ?? true;
  if (typeof detachOthers !== 'boolean') throw new TypeError('detachOthers must be a boolean');
  const wb = writebackConnector(kms, crtcId, options.connector);
  const conflicts = nonClones(kms, crtcId, wb);
  // Routing the connector to the CRTC is a modeset the first time; later captures change nothing but the job.
  const routed = kms.property(wb.id, 'CRTC_ID') === BigInt(crtcId);
  const req = kms.atomic();
  if (detachOthers) for (const c of conflicts) req.set(c.id, 'CRTC_ID', 0);
  req.set(wb.id, 'CRTC_ID', crtcId).set(wb.id, 'WRITEBACK_FB_ID', framebuffer).outFence(wb.id);
  let fences: SyncFile[];
  try {
    ({ fences } = await req.commit({ allowModeset: !routed || (detachOthers && conflicts.length > 0) }));
  } catch (e) {
    if (!(e instanceof KernelError) || e.code !== 'EINVAL') throw e;
    const hint = writebackRuleBroken(kms, crtcId, wb, framebuffer, detachOthers ? [] : conflicts);
    if (hint === undefined) throw e;
    throw new KernelError({ errno: e.errno, syscall: e.syscall, request: e.request, hint });
  }
  const fence = fences[0];
  if (!fence) throw new ZcopyError('ERR_ZCOPY_NO_FENCE', 'the kernel made no writeback out-fence');
  const detached = detachOthers ? conflicts.map((c) => c.id) : [];
  return new WritebackCapture(kms, fence, wb.id, crtcId, detached, wait);
}

export async function capture(
  kms: WritebackHost,
  crtc: KmsObjectRef,
  options: CaptureOptions = {},
): Promise<CapturedFrame> {
  const crtcId = objectId(crtc, 'crtc');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const format = formatNumber(options.format ?? 'XRGB8888');
  const mode = kms.crtc(crtcId).mode;
  if (!mode)
    throw new ZcopyError('ERR_ZCOPY_CRTC_OFF', `CRTC ${crtcId} is off: set a mode before capturing it`);
  const restore = options.restore ?? true;
  if (typeof restore !== 'boolean') throw new TypeError('restore must be a boolean');
  using fb = kms.createFramebuffer({ width: mode.hdisplay, height: mode.vdisplay, format });
  using job = await startWriteback(kms, crtcId, fb, options);
  try {
    await job.done;
  } finally {
    if (restore) await job.reattach();
  }
  using map = fb.map({ access: 'read' });
  const bytes = fb.pitch * mode.vdisplay;
  return {
    width: mode.hdisplay,
    height: mode.vdisplay,
    format,
    pitch: fb.pitch,
    data: Buffer.from(map.buffer.subarray(0, bytes)),
  };
}
