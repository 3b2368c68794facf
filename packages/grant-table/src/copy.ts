// Grant copy: the hypervisor copies between grants and local memory with no mapping; per-segment GNTST_* results.

import { checkDomid } from './checks.js';
import { binding } from './native.js';

const DOMID_FIRST_RESERVED = binding.constants.DOMID_FIRST_RESERVED;

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

/** The names of a copy's statuses (one array, no per-segment allocation for the names Xen knows). */
export function grantStatusNames(codes: Int16Array): Array<GrantStatus | `unknown(${number})`> {
  const out = new Array<GrantStatus | `unknown(${number})`>(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] as number;
    out[i] = c === GNTST.okay ? 'okay' : grantStatusName(c);
  }
  return out;
}

// The packed form the addon takes (grant_copy.cc, ParsePacked): WORDS u32 per segment, length, which sides are
// grants, then per side either ref, domid, offset (a grant) or buffer index, 0, offset (local memory); the local
// buffers are listed once beside it. One native call per copy, no object per segment on either side. The addon
// checks every word again (bounds of local buffers included): these checks are for the errors' names.
const WORDS = 8;
const SOURCE_IS_GRANT = 1;
const DEST_IS_GRANT = 2;

/** Segments checked and packed for the addon. */
export interface PackedSegments {
  words: Uint32Array;
  count: number;
  buffers: Array<ArrayBuffer | ArrayBufferView>;
}

// One packing array kept between calls (a copy of a frame needs 2,025 × 8 words): taken while a call packs into
// it, so a reentrant call (a getter on a segment that copies) gets its own.
let spare: Uint32Array | undefined;

function takeWords(n: number): Uint32Array {
  const w = spare;
  spare = undefined;
  if (w !== undefined && w.length >= n) return w;
  return new Uint32Array(Math.max(n, (w?.length ?? 0) * 2, 64 * WORDS));
}

/** Gives the packing array back once the addon has read it (it copies what it needs before returning). */
export function releasePacked(p: PackedSegments): void {
  spare = p.words;
}

// Packs one side at words[at..at+2]; returns true for a grant.
function packSide(
  s: unknown,
  i: number,
  name: string,
  words: Uint32Array,
  at: number,
  buffers: Array<ArrayBuffer | ArrayBufferView>,
): boolean {
  if (s === null || typeof s !== 'object') throw new TypeError(`segments[${i}].${name} must be an object`);
  const o = s as Partial<GrantSide & LocalSide>;
  const offset = o.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0)
    throw new RangeError(`segments[${i}].${name}.offset must be a non-negative integer`);
  const buffer = o.buffer;
  if (buffer !== undefined) {
    if (!(buffer instanceof ArrayBuffer) && !ArrayBuffer.isView(buffer))
      throw new TypeError(`segments[${i}].${name}.buffer must be an ArrayBuffer or a view of one`);
    if (offset > 0xffffffff) throw new RangeError(`segments[${i}].${name}.offset is out of range`);
    // Runs of segments on one buffer (a frame) share its entry; another buffer gets one of its own.
    let b = buffers.length - 1;
    if (b < 0 || buffers[b] !== buffer) {
      b = buffers.indexOf(buffer);
      if (b < 0) b = buffers.push(buffer) - 1;
    }
    words[at] = b;
    words[at + 1] = 0;
    words[at + 2] = offset;
    return false;
  }
  const ref = o.ref;
  if (!Number.isInteger(ref) || (ref as number) < 0 || (ref as number) > 0xffffffff)
    throw new TypeError(`segments[${i}].${name} needs a u32 ref (a grant) or a buffer (local memory)`);
  const domid = o.domid;
  words[at] = ref as number;
  // The name is made only for the error (a frame is thousands of segments).
  words[at + 1] =
    typeof domid === 'number' && Number.isInteger(domid) && domid >= 0 && domid < DOMID_FIRST_RESERVED
      ? domid
      : checkDomid(domid, `segments[${i}].${name}.domid`);
  // Larger than a page: the addon names it (a grant side cannot cross its page); the u32 word must hold it.
  words[at + 2] = Math.min(offset, 0xffffffff);
  return true;
}

/** Checks segments (TypeError/RangeError naming the segment) and packs them for the addon. */
export function packSegments(segments: readonly GrantCopySegment[]): PackedSegments {
  if (!Array.isArray(segments)) throw new TypeError('segments must be an array');
  const count = segments.length;
  const words = takeWords(count * WORDS);
  const buffers: Array<ArrayBuffer | ArrayBufferView> = [];
  const page = binding.constants.XEN_PAGE_SIZE;
  try {
    for (let i = 0; i < count; i++) {
      const seg = segments[i];
      if (seg === null || typeof seg !== 'object') throw new TypeError(`segments[${i}] must be an object`);
      const length = seg.length;
      if (!Number.isInteger(length)) throw new TypeError(`segments[${i}].length must be an integer`);
      if (length < 1 || length > page)
        throw new RangeError(`segments[${i}].length must be within 1..${page}`);
      const at = i * WORDS;
      const source = packSide(seg.source, i, 'source', words, at + 2, buffers);
      const dest = packSide(seg.dest, i, 'dest', words, at + 5, buffers);
      if (!source && !dest)
        throw new RangeError(`segments[${i}]: one side must be a grant (local to local is not a grant copy)`);
      words[at] = length;
      words[at + 1] = (source ? SOURCE_IS_GRANT : 0) | (dest ? DEST_IS_GRANT : 0);
    }
  } catch (e) {
    spare ??= words;
    throw e;
  }
  return { words, count, buffers };
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
