// Grant copy: the hypervisor copies between grants and local memory with no mapping; per-segment GNTST_* results.

import { checkDomid } from './checks.js';
import { binding, type RawCopySegment, type RawCopySide } from './native.js';

/** A grant of another domain (or of this one): `offset` + the segment length stays within its 4096-byte page. */
export interface GrantSide {
  ref: number;
  domid: number;
  offset?: number;
}

/** Memory of this process. */
export interface LocalSide {
  buffer: ArrayBuffer | ArrayBufferView;
  offset?: number;
}

export interface GrantCopySegment {
  source: GrantSide | LocalSide;
  dest: GrantSide | LocalSide;
  /** Bytes, 1..4096. */
  length: number;
}

/** GNTST_* names of xen/grant_table.h, without the prefix: 'okay', 'bad_gntref', 'permission_denied', ... */
export type GrantStatus =
  | 'okay'
  | 'general_error'
  | 'bad_domain'
  | 'bad_gntref'
  | 'bad_handle'
  | 'bad_virt_addr'
  | 'bad_dev_addr'
  | 'no_device_space'
  | 'permission_denied'
  | 'bad_page'
  | 'bad_copy_arg'
  | 'address_too_big'
  | 'eagain'
  | 'no_space';

/** GNTST_* codes by name, from the Xen header the addon was built against. */
export const GNTST: Readonly<Record<GrantStatus, number>> = Object.freeze(
  binding.GNTST as Record<GrantStatus, number>,
);
const byCode = new Map<number, GrantStatus>(
  Object.entries(GNTST).map(([name, code]) => [code, name as GrantStatus]),
);

/** A status code's name ('unknown(-99)' for a code this Xen header does not know). */
export function grantStatusName(code: number): GrantStatus | `unknown(${number})` {
  return byCode.get(code) ?? `unknown(${code})`;
}

function side(s: unknown, where: string): RawCopySide {
  if (s === null || typeof s !== 'object') throw new TypeError(`${where} must be an object`);
  const o = s as Partial<GrantSide & LocalSide>;
  const offset = o.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0)
    throw new RangeError(`${where}.offset must be a non-negative integer`);
  if (o.buffer !== undefined) {
    if (!(o.buffer instanceof ArrayBuffer) && !ArrayBuffer.isView(o.buffer))
      throw new TypeError(`${where}.buffer must be an ArrayBuffer or a view of one`);
    return { buffer: o.buffer, offset };
  }
  if (!Number.isInteger(o.ref) || (o.ref as number) < 0 || (o.ref as number) > 0xffffffff)
    throw new TypeError(`${where} needs a u32 ref (a grant) or a buffer (local memory)`);
  return { ref: o.ref as number, domid: checkDomid(o.domid, `${where}.domid`), offset };
}

/** Checks segments and converts them to the raw form. */
export function checkSegments(segments: readonly GrantCopySegment[]): RawCopySegment[] {
  if (!Array.isArray(segments)) throw new TypeError('segments must be an array');
  return segments.map((seg, i) => {
    const where = `segments[${i}]`;
    if (seg === null || typeof seg !== 'object') throw new TypeError(`${where} must be an object`);
    const { length } = seg;
    if (!Number.isInteger(length)) throw new TypeError(`${where}.length must be an integer`);
    if (length < 1 || length > binding.constants.XEN_PAGE_SIZE)
      throw new RangeError(`${where}.length must be within 1..${binding.constants.XEN_PAGE_SIZE}`);
    const source = side(seg.source, `${where}.source`);
    const dest = side(seg.dest, `${where}.dest`);
    if ('buffer' in source && source.buffer !== undefined && 'buffer' in dest && dest.buffer !== undefined)
      throw new RangeError(`${where}: one side must be a grant (local to local is not a grant copy)`);
    return { source, dest, length };
  });
}

/**
 * Segments that copy whole pages between `refs` (one page each, in order) and `buffer` (page i at i * 4096):
 * 'from-grants' fills the buffer, 'to-grants' writes the grants.
 */
export function pageCopySegments(options: {
  domid: number;
  refs: ArrayLike<number>;
  buffer: ArrayBuffer | ArrayBufferView;
  direction: 'from-grants' | 'to-grants';
}): GrantCopySegment[] {
  const { domid, refs, buffer, direction } = options;
  if (direction !== 'from-grants' && direction !== 'to-grants')
    throw new TypeError(`direction must be 'from-grants' or 'to-grants'`);
  const page = binding.constants.XEN_PAGE_SIZE;
  const out: GrantCopySegment[] = [];
  for (let i = 0; i < refs.length; i++) {
    const grant: GrantSide = { ref: refs[i] as number, domid, offset: 0 };
    const local: LocalSide = { buffer, offset: i * page };
    out.push(
      direction === 'from-grants'
        ? { source: grant, dest: local, length: page }
        : { source: local, dest: grant, length: page },
    );
  }
  return out;
}
