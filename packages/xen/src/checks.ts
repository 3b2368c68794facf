// Argument checks every Xen package shares: TypeError/RangeError before any syscall.
// Domain ids from xen/include/public/xen.h (a domid_t is 16 bits; ids from DOMID_FIRST_RESERVED up are
// special). The addons export the header's values, and their tests check these against them.

/** The first reserved domain id: DOMID_SELF, DOMID_IO, … follow. */
export const DOMID_FIRST_RESERVED = 0x7ff0;
/** "This domain" in hypercalls that take a domid. */
export const DOMID_SELF = 0x7ff0;

export interface DomidRule {
  /** The smallest id allowed (default 0; 1 where dom0 itself is refused). */
  min?: number;
  /** DOMID_SELF is allowed too (default false). */
  allowSelf?: boolean;
}

/** A domain id: an integer in min..DOMID_FIRST_RESERVED-1 (or DOMID_SELF where allowed). */
export function checkDomid(domid: unknown, name = 'domid', rule: DomidRule = {}): number {
  const min = rule.min ?? 0;
  if (typeof domid !== 'number' || !Number.isInteger(domid))
    throw new TypeError(`${name} must be an integer domain id, got ${String(domid)}`);
  if (rule.allowSelf && domid === DOMID_SELF) return domid;
  if (domid < min || domid >= DOMID_FIRST_RESERVED)
    throw new RangeError(`${name} must be within ${min}..${DOMID_FIRST_RESERVED - 1}, got ${domid}`);
  return domid;
}

/** Grant refs as a fresh Uint32Array (a copy: the caller may reuse its array), at least one, every one a u32. */
export function checkRefs(refs: unknown, name = 'refs'): Uint32Array {
  if (!(refs instanceof Uint32Array) && !Array.isArray(refs))
    throw new TypeError(`${name} must be an array of grant refs or a Uint32Array`);
  if (refs.length === 0) throw new RangeError(`${name} must hold at least one grant ref`);
  if (refs instanceof Uint32Array) return refs.slice();
  const out = new Uint32Array(refs.length);
  refs.forEach((r, i) => {
    if (typeof r !== 'number' || !Number.isInteger(r))
      throw new TypeError(`${name}[${i}] must be an integer`);
    if (r < 0 || r > 0xffffffff) throw new RangeError(`${name}[${i}] must be a u32 grant ref, got ${r}`);
    out[i] = r;
  });
  return out;
}
