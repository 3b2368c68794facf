// What the three ready-made buffer paths (copy, backend allocation, driver-domain export) share: one display
// (a DisplayArbiter, opened here unless given), each device's connectors claimed on it — the first free one is
// shown, the others are headless — and one close() for the backend, the path's own resources and the display.
import type { KmsDevice, Output } from '@zcopy/drm-kms';
import {
  type BackendOptions,
  type DeviceServices,
  PvDisplayBackend,
  type ServiceContext,
} from './backend.js';
import { DisplayArbiter, HeadlessOutput } from './kms-output.js';
import type { BufferIo, ConnectorOutput } from './protocol.js';

/** One buffer path on a shared display. */
export interface DisplayPath<B, O extends ConnectorOutput<B>> {
  /** The output of a connector that got the display. */
  shown(kms: KmsDevice, out: Output): O;
  /** The formats a connector without the display offers, given the outputs shown so far for its device. */
  headlessFormats(kms: KmsDevice, shown: readonly O[]): ReadonlySet<number>;
  /** The device's buffers. */
  io(ctx: ServiceContext, kms: KmsDevice): BufferIo<B>;
  backendAllocation: boolean;
  /** Bytes copied so far by a device's shown outputs (default 0: nothing copied). */
  bytesCopied?(shown: readonly O[]): number;
  /** Closes what the path opened for itself (after the backend, before the display). */
  close?(): void;
}

export type DisplayBackendOptions<B> = Omit<BackendOptions<B>, 'services'> & {
  /** The display (default: DisplayArbiter.open('vkms'), then closed with the backend). */
  display?: DisplayArbiter;
};

/** Starts a backend whose devices use `path` on one display; on failure closes what it and `path` opened. */
export async function startDisplayBackend<B, O extends ConnectorOutput<B>>(
  options: DisplayBackendOptions<B>,
  path: DisplayPath<B, O>,
): Promise<{ backend: PvDisplayBackend<B>; display: DisplayArbiter; close(): Promise<void> }> {
  const own = !options.display;
  let display: DisplayArbiter;
  try {
    display = options.display ?? DisplayArbiter.open('vkms');
  } catch (e) {
    path.close?.();
    throw e;
  }
  const { kms } = display;
  let backend: PvDisplayBackend<B>;
  try {
    backend = await PvDisplayBackend.start<B>({
      ...options,
      services(ctx): DeviceServices<B> {
        const { info } = ctx;
        const outputs: ConnectorOutput<B>[] = [];
        const shown: O[] = [];
        const releases: (() => void)[] = [];
        for (let i = 0; i < info.connectors.length; i++) {
          const c = display.claim(`${info.frontendDomid}/${info.devid}/${i}`, info.connectors[i]!);
          if (c) {
            const o = path.shown(kms, c.output);
            shown.push(o);
            outputs.push(o);
            releases.push(c.release);
          } else {
            outputs.push(new HeadlessOutput<B>(path.headlessFormats(kms, shown)));
          }
        }
        return {
          io: path.io(ctx, kms),
          outputs,
          backendAllocation: path.backendAllocation,
          bytesCopied: () => path.bytesCopied?.(shown) ?? 0,
          close() {
            for (const r of releases) r();
          },
        };
      },
    });
  } catch (e) {
    path.close?.();
    if (own) display.close();
    throw e;
  }
  return {
    backend,
    display,
    async close() {
      await backend.close();
      path.close?.();
      if (own) display.close();
    },
  };
}
