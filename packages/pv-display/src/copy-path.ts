// The copy path as one call: a backend whose frontends' buffers are mapped from their grants and copied onto
// this domain's display (vkms by default) — row 1 of the buffer paths (PV dom0 backend, frontend allocation).
import type { GrantMapping } from '@zcopy/grant-table';
import { type BackendOptions, mappedBuffers, type PvDisplayBackend } from './backend.js';
import { startDisplayBackend } from './display-backend.js';
import { type DisplayArbiter, KmsCopyOutput } from './kms-output.js';

export interface CopyBackendOptions extends Omit<BackendOptions<GrantMapping>, 'services'> {
  /** The display (default: DisplayArbiter.open('vkms')). */
  display?: DisplayArbiter;
}

/** Starts a copy-path backend; `display` is closed with the backend when it was opened here. */
export async function startCopyBackend(
  options: CopyBackendOptions = {},
): Promise<{ backend: PvDisplayBackend<GrantMapping>; display: DisplayArbiter; close(): Promise<void> }> {
  return startDisplayBackend<GrantMapping, KmsCopyOutput>(options, {
    shown: (kms, out) => new KmsCopyOutput(kms, out),
    // A connector without the display offers what the shown one does, else all the plane's formats.
    headlessFormats: (kms, shown) => shown.at(-1)?.formats ?? new Set(kms.pick().plane.formats),
    io: ({ info, mapper }) => mappedBuffers(mapper, info.frontendDomid),
    backendAllocation: false,
    bytesCopied: (shown) => shown.reduce((n, o) => n + o.bytesCopied, 0),
  });
}
