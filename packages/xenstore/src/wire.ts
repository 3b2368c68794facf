// The xenstore wire protocol (struct xsd_sockmsg + payload), the same over the xenstored socket and
// /dev/xen/xenbus: a 16-byte header { type, req_id, tx_id, len } (host byte order) and `len` payload bytes,
// mostly NUL-terminated strings. Pure functions: no I/O here.
import { ZcopyError } from '@zcopy/core';
import { binding, type XsType } from './native.js';

const { HEADER_SIZE, XENSTORE_PAYLOAD_MAX, XENSTORE_ABS_PATH_MAX, XENSTORE_REL_PATH_MAX } = binding.constants;
export { HEADER_SIZE, XENSTORE_PAYLOAD_MAX };

const typeNames = new Map<number, XsType>(
  Object.entries(binding.types).map(([name, n]) => [n, name as XsType]),
);

export function typeName(type: number): string {
  return typeNames.get(type) ?? `XS_UNKNOWN(${type})`;
}

export interface XsMessage {
  type: number;
  reqId: number;
  txId: number;
  payload: Buffer;
}

/** Header + payload in one buffer (one write: the xenbus device takes a message only when it holds all of it). */
export function encodeMessage(type: XsType, reqId: number, txId: number, payload: Buffer): Buffer {
  if (payload.length > XENSTORE_PAYLOAD_MAX)
    throw new RangeError(
      `a xenstore message carries at most ${XENSTORE_PAYLOAD_MAX} bytes, this one ${payload.length}`,
    );
  const out = Buffer.alloc(HEADER_SIZE + payload.length);
  out.writeUInt32LE(binding.types[type], 0);
  out.writeUInt32LE(reqId >>> 0, 4);
  out.writeUInt32LE(txId >>> 0, 8);
  out.writeUInt32LE(payload.length, 12);
  payload.copy(out, HEADER_SIZE);
  return out;
}

/** Reassembles messages from a byte stream. */
export class MessageReader {
  #chunks: Buffer[] = [];
  #size = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }

  get buffered(): number {
    return this.#size;
  }

  /** Complete messages so far; a partial one stays buffered. Throws on a length no server may send. */
  *messages(): Generator<XsMessage> {
    for (;;) {
      if (this.#size < HEADER_SIZE) return;
      const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#size);
      this.#chunks = [all];
      const len = all.readUInt32LE(12);
      if (len > XENSTORE_PAYLOAD_MAX)
        throw new ZcopyError(
          'ERR_ZCOPY_XENSTORE_PROTOCOL',
          `xenstore protocol error: a message of ${len} bytes (the maximum is ${XENSTORE_PAYLOAD_MAX})`,
        );
      if (this.#size < HEADER_SIZE + len) return;
      const msg: XsMessage = {
        type: all.readUInt32LE(0),
        reqId: all.readUInt32LE(4),
        txId: all.readUInt32LE(8),
        payload: Buffer.from(all.subarray(HEADER_SIZE, HEADER_SIZE + len)),
      };
      const rest = all.subarray(HEADER_SIZE + len);
      this.#chunks = rest.length ? [rest] : [];
      this.#size = rest.length;
      yield msg;
    }
  }
}

/** Each string NUL-terminated, concatenated. */
export function strings(...parts: string[]): Buffer {
  return Buffer.concat(parts.map((p) => Buffer.from(`${p}\0`, 'utf8')));
}

/** NUL-separated strings of a reply (the trailing NUL does not make an empty last entry). */
export function parseStrings(payload: Buffer): string[] {
  if (payload.length === 0) return [];
  const text = payload.toString('utf8');
  const parts = text.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The single string of a reply, without its NUL. */
export function parseString(payload: Buffer): string {
  const end = payload.indexOf(0);
  return payload.toString('utf8', 0, end < 0 ? payload.length : end);
}

/** Checks a xenstore path: TypeError/RangeError before anything is sent. */
export function checkPath(path: unknown, name = 'path'): string {
  if (typeof path !== 'string') throw new TypeError(`${name} must be a string`);
  if (path.length === 0) throw new RangeError(`${name} must not be empty`);
  if (path.includes('\0')) throw new RangeError(`${name} must not contain NUL`);
  // xenstored's rule for node names (watches may also name special paths such as @releaseDomain).
  if (!/^[A-Za-z0-9\-/_@]+$/.test(path))
    throw new RangeError(
      `${name} may hold only letters, digits and - / _ @ (xenstore's node name rule), got '${path}'`,
    );
  const max = path.startsWith('/') ? XENSTORE_ABS_PATH_MAX : XENSTORE_REL_PATH_MAX;
  if (Buffer.byteLength(path) > max)
    throw new RangeError(
      `${name} is longer than xenstore allows (${max} bytes for a ${path.startsWith('/') ? 'n absolute' : ' relative'} path)`,
    );
  return path;
}

export type XenStoreAccess = 'none' | 'read' | 'write' | 'both';

/** One entry of a node's permissions; the first entry names the owner and the access of every unlisted domain. */
export interface XenStorePermission {
  domid: number;
  access: XenStoreAccess;
}

const accessChar: Record<XenStoreAccess, string> = { none: 'n', read: 'r', write: 'w', both: 'b' };
const charAccess: Record<string, XenStoreAccess> = { n: 'none', r: 'read', w: 'write', b: 'both' };

export function encodePermissions(perms: readonly XenStorePermission[]): string[] {
  if (!Array.isArray(perms) || perms.length === 0)
    throw new TypeError('permissions must be a non-empty array (the first entry is the owner)');
  return perms.map((p, i) => {
    if (p === null || typeof p !== 'object') throw new TypeError(`permissions[${i}] must be an object`);
    if (!Number.isInteger(p.domid) || p.domid < 0 || p.domid > 0xffff)
      throw new RangeError(`permissions[${i}].domid must be a domain id`);
    const c = accessChar[p.access as XenStoreAccess] as string | undefined;
    if (!c) throw new TypeError(`permissions[${i}].access must be 'none', 'read', 'write' or 'both'`);
    return `${c}${p.domid}`;
  });
}

export function decodePermissions(entries: readonly string[]): XenStorePermission[] {
  return entries.map((e) => {
    const access = charAccess[e[0] ?? ''];
    const domid = Number(e.slice(1));
    if (!access || !/^\d+$/.test(e.slice(1)))
      throw new ZcopyError('ERR_ZCOPY_XENSTORE_PROTOCOL', `xenstore protocol error: permission entry '${e}'`);
    return { domid, access };
  });
}
