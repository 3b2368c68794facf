// XenStore client over the xenstored unix socket (dom0) or /dev/xen/xenbus (any domain): nodes, permissions,
// watches (routed by token) and transactions. The wire traffic — req_id matching, the device's one request in
// flight, reading only while someone waits — is the connection engine's (connection.ts).
import { constants, statSync } from 'node:fs';
import { ClosedError, type FdLike, FdObject, fdOf, type WaitOptions, ZcopyError } from '@zcopy/core';
import { native as core } from '@zcopy/core/internal';
import { XENBUS_PATH, XENSTORED_SOCKET } from '@zcopy/xen';
import { type Transport, XsConnection } from './connection.js';
import { XenStoreError } from './errors.js';
import { binding, type XsType } from './native.js';
import { type WatchEvent, XenStoreWatch } from './watch.js';
import {
  checkPath,
  decodePermissions,
  encodePermissions,
  parseString,
  parseStrings,
  strings,
  type XenStorePermission,
  type XsMessage,
} from './wire.js';

export { XENSTORED_SOCKET };
/** /dev/xen/xenbus: XenStore through the kernel, in any domain. */
export const XENBUS_DEVICE = XENBUS_PATH;

export interface XenStoreOptions {
  /** The xenstored socket or the xenbus device. Default: the socket where it exists (dom0), else the device. */
  path?: string;
}

export interface RequestOptions extends WaitOptions {}

export type { Transport };

function isSocket(path: string): boolean {
  try {
    // bigint: a plain stat of a socket breaks Node's symlink resolution for later imports (nodejs/node#51142;
    // @zcopy/core's charDeviceOf says more).
    return statSync(path, { bigint: true }).isSocket();
  } catch {
    return false;
  }
}

/** The operations a connection and a transaction share. */
abstract class XenStoreOps {
  protected abstract request(
    type: XsType,
    payload: Buffer,
    node: string | undefined,
    options: RequestOptions | undefined,
  ): Promise<XsMessage>;

  /** The node's value as UTF-8. */
  async read(path: string, options?: RequestOptions): Promise<string> {
    return (await this.readBuffer(path, options)).toString('utf8');
  }

  /** The node's value as bytes. */
  async readBuffer(path: string, options?: RequestOptions): Promise<Buffer> {
    checkPath(path);
    return (await this.request('XS_READ', strings(path), path, options)).payload;
  }

  /** The value, or undefined if the node does not exist. */
  async tryRead(path: string, options?: RequestOptions): Promise<string | undefined> {
    try {
      return await this.read(path, options);
    } catch (e) {
      if (e instanceof XenStoreError && e.code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Writes (creating the node and missing parents). */
  async write(path: string, value: string | Uint8Array, options?: RequestOptions): Promise<void> {
    checkPath(path);
    if (typeof value !== 'string' && !(value instanceof Uint8Array))
      throw new TypeError('value must be a string or a Uint8Array');
    const payload = Buffer.concat([strings(path), typeof value === 'string' ? Buffer.from(value) : value]);
    await this.request('XS_WRITE', payload, path, options);
  }

  async mkdir(path: string, options?: RequestOptions): Promise<void> {
    checkPath(path);
    await this.request('XS_MKDIR', strings(path), path, options);
  }

  /** Removes the node and everything under it. */
  async remove(path: string, options?: RequestOptions): Promise<void> {
    checkPath(path);
    await this.request('XS_RM', strings(path), path, options);
  }

  /** Names of the node's children. */
  async directory(path: string, options?: RequestOptions): Promise<string[]> {
    checkPath(path);
    return parseStrings((await this.request('XS_DIRECTORY', strings(path), path, options)).payload);
  }

  /** The first entry is the owner, whose access applies to every domain not listed after it. */
  async getPermissions(path: string, options?: RequestOptions): Promise<XenStorePermission[]> {
    checkPath(path);
    return decodePermissions(
      parseStrings((await this.request('XS_GET_PERMS', strings(path), path, options)).payload),
    );
  }

  async setPermissions(
    path: string,
    permissions: readonly XenStorePermission[],
    options?: RequestOptions,
  ): Promise<void> {
    checkPath(path);
    const payload = strings(path, ...encodePermissions(permissions));
    await this.request('XS_SET_PERMS', payload, path, options);
  }
}

export class XenStore extends XenStoreOps implements Disposable {
  readonly #conn: XsConnection;
  readonly #watches = new Map<string, XenStoreWatch>();
  #nextToken = 1;

  /** Connects to xenstored's socket or opens the xenbus device (see XenStoreOptions.path). */
  static open(options: XenStoreOptions = {}): XenStore {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    let path = options.path;
    if (path !== undefined && typeof path !== 'string') throw new TypeError('path must be a string');
    path ??= isSocket(XENSTORED_SOCKET) ? XENSTORED_SOCKET : XENBUS_DEVICE;
    if (isSocket(path)) return new XenStore(XenStoreFd.own(core.adopt(binding.connectUnix(path))), 'socket');
    return new XenStore(XenStoreFd.own(core.open(path, constants.O_RDWR | constants.O_NONBLOCK)), 'device');
  }

  /** Speak the protocol on an fd someone else owns (non-blocking; never closed here). */
  static borrow(fd: FdLike, transport: Transport): XenStore {
    if (transport !== 'socket' && transport !== 'device')
      throw new TypeError(`transport must be 'socket' or 'device'`);
    return new XenStore(XenStoreFd.borrow(fdOf(fd)), transport);
  }

  private constructor(fd: FdObject, transport: Transport) {
    super();
    this.#conn = new XsConnection(fd, transport, {
      watchEvent: (path, token) => this.#watches.get(token)?.push({ path, token }),
      watchDemanded: () => {
        for (const w of this.#watches.values()) if (w.demanded) return true;
        return false;
      },
      ended: (err) => {
        for (const w of [...this.#watches.values()]) {
          if (err instanceof ClosedError) w.end();
          else w.fail(err);
        }
        this.#watches.clear();
      },
    });
  }

  get transport(): Transport {
    return this.#conn.transport;
  }

  get fd(): number {
    return this.#conn.fd.fd;
  }

  get closed(): boolean {
    return this.#conn.closed;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.#conn.inFlight;
  }

  /** The home path of a domain: /local/domain/<domid>. */
  async getDomainPath(domid: number, options?: RequestOptions): Promise<string> {
    if (!Number.isInteger(domid) || domid < 0 || domid > 0xffff)
      throw new RangeError('domid must be a domain id');
    return parseString(
      (await this.request('XS_GET_DOMAIN_PATH', strings(String(domid)), undefined, options)).payload,
    );
  }

  async isDomainIntroduced(domid: number, options?: RequestOptions): Promise<boolean> {
    if (!Number.isInteger(domid) || domid < 0 || domid > 0xffff)
      throw new RangeError('domid must be a domain id');
    const r = await this.request('XS_IS_DOMAIN_INTRODUCED', strings(String(domid)), undefined, options);
    return parseString(r.payload) === 'T';
  }

  /**
   * Watches `path` and everything under it. xenstored fires each new watch once at once (the event names the
   * watched path), then on every change; events are queued from the moment the watch is registered.
   */
  async watch(path: string, options: RequestOptions & { token?: string } = {}): Promise<XenStoreWatch> {
    checkPath(path);
    const token = options.token ?? `zcopy-${process.pid}-${this.#nextToken++}`;
    if (typeof token !== 'string' || token.length === 0 || token.includes('\0'))
      throw new TypeError('token must be a non-empty string without NUL');
    if (this.#watches.has(token)) throw new RangeError(`token ${token} is already in use on this connection`);
    const w = new XenStoreWatch(path, token, {
      unwatch: async (opts) => {
        this.#watches.delete(token);
        if (!this.closed) await this.request('XS_UNWATCH', strings(path, token), path, opts);
      },
      demand: () => this.#conn.demandChanged(),
    });
    this.#watches.set(token, w);
    try {
      await this.request('XS_WATCH', strings(path, token), path, options);
    } catch (e) {
      this.#watches.delete(token);
      w.end();
      throw e;
    }
    return w;
  }

  /** A transaction; commit() or abort() it. Prefer transaction(fn), which retries on conflict. */
  async startTransaction(options?: RequestOptions): Promise<XenStoreTransaction> {
    const r = await this.request('XS_TRANSACTION_START', strings(''), undefined, options);
    const id = Number(parseString(r.payload));
    if (!Number.isInteger(id) || id <= 0)
      throw new ZcopyError(
        'ERR_ZCOPY_XENSTORE_PROTOCOL',
        `xenstore protocol error: transaction id '${parseString(r.payload)}'`,
      );
    return new XenStoreTransaction(this, id);
  }

  /**
   * Runs `fn` in a transaction and commits; when the commit fails with EAGAIN (another writer changed what it
   * read) runs it again, up to `retries` times. An exception from `fn` aborts the transaction.
   */
  async transaction<T>(
    fn: (tx: XenStoreTransaction) => Promise<T>,
    options: RequestOptions & { retries?: number } = {},
  ): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    const retries = options.retries ?? 16;
    if (!Number.isInteger(retries) || retries < 0)
      throw new RangeError('retries must be a non-negative integer');
    for (let attempt = 0; ; attempt++) {
      const tx = await this.startTransaction(options);
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        await tx.abort(options).catch(() => {});
        throw e;
      }
      if (await tx.commit(options)) return result;
      if (attempt >= retries)
        throw new XenStoreError('EAGAIN', 'XS_TRANSACTION_END', `(gave up after ${retries + 1} attempts)`);
    }
  }

  /** @internal Sends one request and resolves with its reply; XS_ERROR replies reject with XenStoreError. */
  override request(
    type: XsType,
    payload: Buffer,
    node: string | undefined,
    options: RequestOptions | undefined,
    txId = 0,
  ): Promise<XsMessage> {
    return this.#conn.request(type, payload, node, options, txId);
  }

  /** Idempotent: pending requests reject with ClosedError, watches end; xenstored drops our watches and transactions. */
  close(): void {
    this.#conn.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export class XenStoreTransaction extends XenStoreOps {
  readonly #store: XenStore;
  readonly id: number;
  #ended = false;

  /** @internal */
  constructor(store: XenStore, id: number) {
    super();
    this.#store = store;
    this.id = id;
  }

  get ended(): boolean {
    return this.#ended;
  }

  protected override request(
    type: XsType,
    payload: Buffer,
    node: string | undefined,
    options: RequestOptions | undefined,
  ): Promise<XsMessage> {
    if (this.#ended) return Promise.reject(new ClosedError(`XenStoreTransaction ${this.id}`));
    return this.#store.request(type, payload, node, options, this.id);
  }

  /** true: committed; false: another writer interfered (EAGAIN) and nothing was written — run it again. */
  async commit(options?: RequestOptions): Promise<boolean> {
    try {
      await this.request('XS_TRANSACTION_END', strings('T'), undefined, options);
      return true;
    } catch (e) {
      if (e instanceof XenStoreError && e.code === 'EAGAIN') return false;
      throw e;
    } finally {
      this.#ended = true;
    }
  }

  /** Drops every write of the transaction. */
  async abort(options?: RequestOptions): Promise<void> {
    if (this.#ended) return;
    try {
      await this.request('XS_TRANSACTION_END', strings('F'), undefined, options);
    } finally {
      this.#ended = true;
    }
  }
}

// The connection's fd: owned or borrowed, closed by XenStore.close() (XenStore itself extends XenStoreOps).
class XenStoreFd extends FdObject {
  static own(fd: number): XenStoreFd {
    return new XenStoreFd(fd, { owned: true });
  }
  static borrow(fd: number): XenStoreFd {
    return new XenStoreFd(fd, { owned: false });
  }
}

export type { WatchEvent };
