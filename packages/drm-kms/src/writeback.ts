// Writeback capture: a writeback connector on the CRTC, WRITEBACK_FB_ID set to a framebuffer and an out-fence
// (a sync_file the kernel signals once the frame is written), awaited without blocking the loop.
import { checkWaitOptions, type WaitOptions } from '@zcopy/core';
import type { SyncFile } from '@zcopy/dma-fence';
import type { KmsObjectRef } from './atomic.js';
import { objectId } from './atomic.js';
import type { KmsDevice } from './device.js';
import { formatNumber } from './formats.js';
import type { Connector } from './resources.js';

export interface WritebackOptions extends WaitOptions {
  /** The writeback connector (default: the first that the CRTC can feed). timeoutMs/signal apply to `done`. */
  connector?: KmsObjectRef;
}

export interface CaptureOptions extends WritebackOptions {
  /** Pixel format to capture in (default XRGB8888; see KmsDevice.writebackFormats). */
  format?: number | string;
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

  /** @internal */
  constructor(fence: SyncFile, connectorId: number, options: WaitOptions) {
    this.fence = fence;
    this.connectorId = connectorId;
    this.done = fence.wait(options).then(
      (status) => {
        fence.close();
        if (status.state === 'error')
          throw new Error(`writeback on connector ${connectorId} failed: its fence signalled ${status.code}`);
      },
      (e) => {
        fence.close();
        throw e;
      },
    );
  }

  /** Stops waiting (`done` rejects with ClosedError unless settled) and closes the fence. */
  close(): void {
    this.fence.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function writebackConnector(kms: KmsDevice, crtcId: number, ref: KmsObjectRef | undefined): Connector {
  if (ref !== undefined) {
    const c = kms.connector(ref);
    if (!c.writeback) throw new TypeError(`connector ${c.name} is not a writeback connector`);
    return c;
  }
  const c = kms.connectors().find((x) => x.writeback && x.possibleCrtcs.includes(crtcId));
  if (!c) throw new Error(`no writeback connector can capture CRTC ${crtcId} on this device`);
  return c;
}

export async function startWriteback(
  kms: KmsDevice,
  crtc: KmsObjectRef,
  framebuffer: KmsObjectRef,
  options: WritebackOptions = {},
): Promise<WritebackCapture> {
  const crtcId = objectId(crtc, 'crtc');
  objectId(framebuffer, 'framebuffer');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const wait = checkWaitOptions({ timeoutMs: options.timeoutMs, signal: options.signal });
  const wb = writebackConnector(kms, crtcId, options.connector);
  // Routing the connector to the CRTC is a modeset the first time; later captures change nothing but the job.
  const routed = kms.property(wb.id, 'CRTC_ID') === BigInt(crtcId);
  const { fences } = await kms
    .atomic()
    .set(wb.id, 'CRTC_ID', crtcId)
    .set(wb.id, 'WRITEBACK_FB_ID', framebuffer)
    .outFence(wb.id)
    .commit({ allowModeset: !routed });
  const fence = fences[0];
  if (!fence) throw new Error('the kernel made no writeback out-fence');
  return new WritebackCapture(fence, wb.id, wait);
}

export async function capture(
  kms: KmsDevice,
  crtc: KmsObjectRef,
  options: CaptureOptions = {},
): Promise<CapturedFrame> {
  const crtcId = objectId(crtc, 'crtc');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const format = formatNumber(options.format ?? 'XRGB8888');
  const mode = kms.crtc(crtcId).mode;
  if (!mode) throw new Error(`CRTC ${crtcId} is off: set a mode before capturing it`);
  using fb = kms.createFramebuffer({ width: mode.hdisplay, height: mode.vdisplay, format });
  using job = await startWriteback(kms, crtcId, fb, options);
  await job.done;
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
