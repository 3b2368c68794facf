// Typed view of the grant-table addon (raw bindings: numbers in, numbers out; no policy here).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BlockingHandle, loadBinding } from '@zcopy/core/internal';

/** Local buffers of packed grant copy segments (copy.ts packSegments), indexed by the segments' words. */
export type RawCopyBuffers = Array<ArrayBuffer | ArrayBufferView>;

/** An opaque native grant copy plan (an External). */
export type CopyPlanHandle = { readonly __brand: 'CopyPlan' };

export interface GrantTableBinding {
  mapGrantRefs(fd: number, domids: Uint32Array, refs: Uint32Array): number;
  unmapGrantRef(fd: number, index: number, count: number): void;
  gntdevSetUnmapNotify(fd: number, index: number, action: number, port: number): void;
  setMaxGrants(fd: number, count: number): void;
  offsetForAddress(fd: number, buffer: ArrayBuffer): { offset: number; count: number };
  /** Segments packed by copy.ts (8 u32 words each: see packSegments); every word is checked again here. */
  grantCopy(fd: number, words: Uint32Array, count: number, buffers: RawCopyBuffers): Int16Array;
  grantCopyAsync(
    fd: number,
    words: Uint32Array,
    count: number,
    buffers: RawCopyBuffers,
  ): BlockingHandle<Int16Array>;
  /** Checks packed segments once; the plan keeps their buffers alive. */
  prepareCopy(words: Uint32Array, count: number, buffers: RawCopyBuffers): CopyPlanHandle;
  runCopy(fd: number, plan: CopyPlanHandle): Int16Array;
  runCopyAsync(fd: number, plan: CopyPlanHandle): BlockingHandle<Int16Array>;
  allocGrefs(
    fd: number,
    domid: number,
    writable: boolean,
    count: number,
  ): { index: number; refs: Uint32Array };
  deallocGrefs(fd: number, index: number, count: number): void;
  gntallocSetUnmapNotify(fd: number, index: number, action: number, port: number): void;
  /** GNTST_* of xen/grant_table.h by name without the prefix. */
  GNTST: Record<string, number>;
  constants: Record<
    | 'UNMAP_NOTIFY_CLEAR_BYTE'
    | 'UNMAP_NOTIFY_SEND_EVENT'
    | 'DOMID_FIRST_RESERVED'
    | 'DOMID_SELF'
    | 'PAGE_SIZE'
    | 'XEN_PAGE_SIZE',
    number
  >;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binding: GrantTableBinding = loadBinding<GrantTableBinding>(packageDir, 'zcopy_grant_table');
