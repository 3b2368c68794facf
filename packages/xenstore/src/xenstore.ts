// XenStore client over the xenstored unix socket (dom0) or /dev/xen/xenbus (any domain).
// Requests carry a req_id that the reply echoes, so many may be in flight; watch events arrive as
// XS_WATCH_EVENT messages at any time and are routed by token. The fd is non-blocking: a reader loop on
// core's waitReadable runs while a request is outstanding or someone waits on a watch, and stops otherwise
// (so an idle XenStore never holds the event loop open). Messages that arrive while nothing reads wait in the
// kernel until the next read.
import { constants, statSync } from 'node:fs';
import {
  abortReason,
  ClosedError,
  checkWaitOptions,
  native as core,
  type FdLike,
  FdObject,
  fdOf,
  TimeoutError,
  type WaitOptions,
  waitReadable,
  waitWritable,
} from '@zcopy/core';
import { XenStoreError } from './errors.js';
import { binding, type XsType } from './native.js';
import { type WatchEvent, XenStoreWatch } from './watch.js';
import {
  checkPath,
  decodePermissions,
  encodeMessage,
  encodePermissions,
  MessageReader,
  parseString,
  parseStrings,
  strings,
  typeName,
  type XenStorePermission,
  type XsMessage,
} from './wire.js';

export const XENSTORED_SOCKET = '/run/xenstored/socket';
export const XENBUS_DEVICE = '/dev/xen/xenbus';

const EAGAIN = 11;

export interface XenStoreOptions {
  /** The xenstored socket or the xenbus device. Default: the socket where it exists (dom0), else the device. */
  path?: string;
}

export interface RequestOptions extends WaitOptions {}

interface Pending {
  type: XsType;
  node: string | undefined;
  resolve(msg: XsMessage): void;
  reject(err: unknown): void;
}

export type Transport = 'socket' | 'device';

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
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
  readonly #fd: FdObject;
  readonly transport: Transport;
  readonly #reader = new MessageReader();
  readonly #pending = new Map<number, Pending>();
  readonly #watches = new Map<string, XenStoreWatch>();
  #nextReqId = 1;
  #nextToken = 1;
  #pump: AbortController | undefined;
  #out: Array<{ reqId: number; bytes: Buffer }> = [];
  #flushing = false;
  // Device transport only: the request the kernel is still working on (see #flush).
  #deviceBusy: number | undefined;
  #broken: Error | undefined;

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
    this.#fd = fd;
    this.transport = transport;
  }

  get fd(): number {
    return this.#fd.fd;
  }

  get closed(): boolean {
    return this.#fd.closed;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.#pending.size;
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
      demand: () => this.#updatePump(),
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
      throw new Error(`xenstore protocol error: transaction id '${parseString(r.payload)}'`);
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
    let opts: ReturnType<typeof checkWaitOptions>;
    let msg: Buffer;
    let reqId: number;
    try {
      opts = checkWaitOptions(options);
      this.#fd.fd;
      if (this.#broken) throw this.#broken;
      reqId = this.#nextReqId;
      this.#nextReqId = this.#nextReqId >= 0xffffffff ? 1 : this.#nextReqId + 1;
      msg = encodeMessage(type, reqId, txId, payload);
    } catch (e) {
      return Promise.reject(e);
    }
    const { timeoutMs, signal } = opts;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<XsMessage>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // A reply that comes after a timeout or abort finds no entry and is dropped.
        this.#pending.delete(reqId);
        this.#updatePump();
      };
      const entry: Pending = {
        type,
        node,
        resolve: (m) => {
          done();
          resolve(m);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const onAbort = () => entry.reject(abortReason(signal!));
      this.#pending.set(reqId, entry);
      if (timeoutMs !== undefined)
        timer = setTimeout(() => entry.reject(new TimeoutError(`xenstore ${type}`, timeoutMs)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#send(reqId, msg);
      this.#updatePump();
    });
  }

  #send(reqId: number, bytes: Buffer): void {
    this.#out.push({ reqId, bytes });
    this.#flush();
  }

  // Writes queued messages; a socket that is full gets the rest when it polls writable.
  // /dev/xen/xenbus keeps one message buffer per fd and hands the kernel's xenstore thread a pointer into it,
  // so a second message written before the first is answered can overwrite the first one's body (libxenstore
  // likewise has one request in flight). On the device, the next request goes out only after the previous
  // one's reply, even if nobody waits for that reply any more; requests given up before they were sent are
  // dropped.
  #flush(): void {
    if (this.#flushing) return;
    while (this.#out.length > 0) {
      if (this.transport === 'device') {
        if (this.#deviceBusy !== undefined) return;
        while (this.#out.length > 0 && !this.#pending.has(this.#out[0]!.reqId)) this.#out.shift();
        if (this.#out.length === 0) return;
      }
      const head = this.#out[0]!;
      let n: number;
      try {
        n = binding.writeSome(this.#fd.fd, head.bytes);
      } catch (e) {
        this.#fail(e as Error);
        return;
      }
      if (n === -EAGAIN) {
        this.#flushing = true;
        waitWritable(this.#fd).then(
          () => {
            this.#flushing = false;
            this.#flush();
          },
          (e) => {
            this.#flushing = false;
            if (!(e instanceof ClosedError)) this.#fail(e as Error);
          },
        );
        return;
      }
      if (n === head.bytes.length) {
        this.#out.shift();
        if (this.transport === 'device') this.#deviceBusy = head.reqId;
      } else head.bytes = head.bytes.subarray(n);
    }
  }

  #needsReading(): boolean {
    if (this.#pending.size > 0 || this.#deviceBusy !== undefined) return true;
    for (const w of this.#watches.values()) if (w.demanded) return true;
    return false;
  }

  #updatePump(): void {
    if (this.closed) return;
    if (!this.#needsReading()) {
      this.#pump?.abort();
      this.#pump = undefined;
      return;
    }
    if (this.#pump) return;
    const ctl = new AbortController();
    this.#pump = ctl;
    (async () => {
      while (!ctl.signal.aborted) {
        this.#readAvailable();
        if (ctl.signal.aborted || this.#broken) return;
        await waitReadable(this.#fd, { signal: ctl.signal });
      }
    })()
      .catch((e) => {
        if (!ctl.signal.aborted && !(e instanceof ClosedError)) this.#fail(e as Error);
      })
      .finally(() => {
        if (this.#pump === ctl) this.#pump = undefined;
        if (!ctl.signal.aborted) this.#updatePump();
      });
  }

  #readAvailable(): void {
    const buf = Buffer.allocUnsafe(65536);
    for (;;) {
      const n = binding.readSome(this.#fd.fd, buf);
      if (n === -EAGAIN) break;
      if (n === 0) {
        this.#fail(new Error('xenstore: the connection was closed by the other end'));
        return;
      }
      this.#reader.push(Buffer.from(buf.subarray(0, n)));
      if (n < buf.length) break;
    }
    for (const msg of this.#reader.messages()) this.#dispatch(msg);
  }

  #dispatch(msg: XsMessage): void {
    const { types } = binding;
    if (msg.type === types.XS_WATCH_EVENT) {
      // The kernel's xenbus leaves req_id of watch events unset: route by token only.
      const [path, token] = parseStrings(msg.payload);
      if (path !== undefined && token !== undefined) this.#watches.get(token)?.push({ path, token });
      return;
    }
    if (msg.reqId === this.#deviceBusy) {
      this.#deviceBusy = undefined;
      queueMicrotask(() => {
        this.#flush();
        this.#updatePump();
      });
    }
    const p = this.#pending.get(msg.reqId);
    if (!p) return; // a reply to a request that timed out or was aborted
    if (msg.type === types.XS_ERROR) {
      p.reject(new XenStoreError(parseString(msg.payload), p.type, p.node));
      return;
    }
    if (msg.type !== types[p.type]) {
      p.reject(new Error(`xenstore protocol error: ${p.type} answered with ${typeName(msg.type)}`));
      return;
    }
    p.resolve(msg);
  }

  #fail(err: Error): void {
    this.#broken ??= err;
    for (const p of [...this.#pending.values()]) p.reject(err);
    for (const w of [...this.#watches.values()]) w.fail(err);
    this.#watches.clear();
    this.#pump?.abort();
    this.#pump = undefined;
  }

  /** Idempotent: pending requests reject with ClosedError, watches end; xenstored drops our watches and transactions. */
  close(): void {
    if (this.closed) return;
    const err = new ClosedError('XenStore');
    this.#pump?.abort();
    this.#pump = undefined;
    for (const p of [...this.#pending.values()]) p.reject(err);
    for (const w of [...this.#watches.values()]) w.end();
    this.#watches.clear();
    this.#out = [];
    this.#fd.close();
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
