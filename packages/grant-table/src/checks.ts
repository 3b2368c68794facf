// Argument checks shared by the mapper and the sharer: TypeError/RangeError before any syscall.
import { checkDomid } from '@zcopy/xen';
import { binding } from './native.js';

export { checkDomid, checkRefs } from '@zcopy/xen';

export function checkCount(count: unknown, name = 'count'): number {
  if (typeof count !== 'number' || !Number.isInteger(count))
    throw new TypeError(`${name} must be an integer, got ${String(count)}`);
  if (count < 1 || count > 0x7fffffff) throw new RangeError(`${name} must be at least 1, got ${count}`);
  return count;
}

/** One domid for all refs, or one per ref. */
export function checkDomids(domid: unknown, count: number): Uint32Array {
  if (Array.isArray(domid)) {
    if (domid.length !== count)
      throw new RangeError(`domids must hold one domid per ref (${count}), got ${domid.length}`);
    return Uint32Array.from(domid, (d, i) => checkDomid(d, `domid[${i}]`));
  }
  return Uint32Array.of(checkDomid(domid));
}

export interface UnmapNotifyOptions {
  /** Byte offset (within the mapping) of a byte the kernel sets to 0 on unmap. */
  clearByte?: number;
  /** An event channel port bound in this domain, notified on unmap. */
  port?: number;
}

/** { action, byteOffset, port } for the notify ioctls. */
export function checkNotify(
  options: UnmapNotifyOptions,
  length: number,
): { action: number; byteOffset: number; port: number } {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const { clearByte, port } = options;
  const { UNMAP_NOTIFY_CLEAR_BYTE, UNMAP_NOTIFY_SEND_EVENT } = binding.constants;
  let action = 0;
  if (clearByte !== undefined) {
    if (!Number.isInteger(clearByte)) throw new TypeError('clearByte must be an integer byte offset');
    if (clearByte < 0 || clearByte >= length)
      throw new RangeError(`clearByte must be within the mapping (0..${length - 1}), got ${clearByte}`);
    action |= UNMAP_NOTIFY_CLEAR_BYTE;
  }
  if (port !== undefined) {
    if (!Number.isInteger(port)) throw new TypeError('port must be an integer event channel port');
    if (port < 0 || port > 0xffffffff) throw new RangeError(`port must be a u32, got ${port}`);
    action |= UNMAP_NOTIFY_SEND_EVENT;
  }
  if (action === 0) throw new TypeError('give clearByte, port or both');
  return { action, byteOffset: clearByte ?? 0, port: port ?? 0 };
}
