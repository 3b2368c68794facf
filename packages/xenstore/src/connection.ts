// The xenstore connection engine: requests out, replies and watch events in, on one non-blocking fd (the
// xenstored socket or /dev/xen/xenbus). Requests carry a req_id that the reply echoes, so many may be in
// flight; watch events arrive as XS_WATCH_EVENT at any time and are handed to the client by token. A Pump
// (core) reads while a request is outstanding or someone waits on a watch, and stops otherwise, so an idle
// connection never holds the event loop open; messages that arrive meanwhile wait in the kernel.
// The client API (paths, watches, transactions) is xenstore.ts.
import { ClosedError, type FdObject, type WaitOptions, waitWritable, ZcopyError } from '@zcopy/core';
import { CloseNotifier, checkWaitOptions, Pump, type Waiter, waitFor } from '@zcopy/core/internal';
import { XenStoreError } from './errors.js';
import { binding, type XsType } from './native.js';
import { encodeMessage, MessageReader, parseString, parseStrings, typeName, type XsMessage } from './wire.js';

const EAGAIN = 11;

export type Transport = 'socket' | 'device';

/** What the connection needs of its client. */
export interface ConnectionClient {
  /** An XS_WATCH_EVENT for `token`. */
  watchEvent(path: string, token: string): void;
  /** True while someone awaits a watch event (the connection must read for it). */
  watchDemanded(): boolean;
  /** The connection broke (`err`) or closed (a ClosedError): end every watch. */
  ended(err: Error): void;
}

interface Pending extends Waiter<XsMessage> {
  type: XsType;
  node: string | undefined;
}

export class XsConnection {
  readonly fd: FdObject;
  readonly transport: Transport;
  readonly #client: ConnectionClient;
  readonly #reader = new MessageReader();
  readonly #pending = new Map<number, Pending>();
  // Closed once, with ClosedError('XenStore') on close() or the error that broke the connection.
  readonly #ended = new CloseNotifier();
  readonly #pump: Pump;
  #nextReqId = 1;
  #out: Array<{ reqId: number; bytes: Buffer }> = [];
  #flushing = false;
  // Device transport only: the request the kernel is still working on (see #flush).
  #deviceBusy: number | undefined;

  constructor(fd: FdObject, transport: Transport, client: ConnectionClient) {
    this.fd = fd;
    this.transport = transport;
    this.#client = client;
    this.#pump = new Pump(fd, {
      needed: () =>
        !this.#ended.closed &&
        (this.#pending.size > 0 || this.#deviceBusy !== undefined || this.#client.watchDemanded()),
      read: () => this.#readAvailable(),
      failed: (e) => this.#fail(e as Error),
      readFirst: true,
    });
  }

  get closed(): boolean {
    return this.fd.closed;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Someone started or stopped waiting on a watch: read for it, or stop reading. */
  demandChanged(): void {
    this.#pump.update();
  }

  /** Sends one request and resolves with its reply; XS_ERROR replies reject with XenStoreError. */
  request(
    type: XsType,
    payload: Buffer,
    node: string | undefined,
    options: WaitOptions | undefined,
    txId = 0,
  ): Promise<XsMessage> {
    let msg: Buffer;
    let reqId: number;
    try {
      checkWaitOptions(options);
      this.fd.fd; // ClosedError after close()
      if (this.#ended.closed) throw this.#ended.reason;
      reqId = this.#nextReqId;
      this.#nextReqId = this.#nextReqId >= 0xffffffff ? 1 : this.#nextReqId + 1;
      msg = encodeMessage(type, reqId, txId, payload);
    } catch (e) {
      return Promise.reject(e);
    }
    return waitFor<XsMessage>(options, {
      what: `xenstore ${type}`,
      owner: this.#ended,
      start: (w) => {
        this.#pending.set(reqId, { type, node, resolve: w.resolve, reject: w.reject });
        // A reply that comes after a timeout or abort finds no entry and is dropped.
        return () => {
          this.#pending.delete(reqId);
          this.#pump.update();
        };
      },
      kick: () => {
        this.#send(reqId, msg);
        this.#pump.update();
      },
    });
  }

  /** Idempotent: pending requests reject with ClosedError, the client's watches end, the fd closes. */
  close(): void {
    if (this.closed) return;
    this.#pump.stop();
    this.#end(new ClosedError('XenStore'));
    this.#out = [];
    this.fd.close();
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
        n = binding.writeSome(this.fd.fd, head.bytes);
      } catch (e) {
        this.#fail(e as Error);
        return;
      }
      if (n === -EAGAIN) {
        this.#flushing = true;
        waitWritable(this.fd).then(
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

  #readAvailable(): void {
    const buf = Buffer.allocUnsafe(65536);
    for (;;) {
      const n = binding.readSome(this.fd.fd, buf);
      if (n === -EAGAIN) break;
      if (n === 0) {
        this.#fail(
          new ZcopyError('ERR_ZCOPY_PEER_CLOSED', 'xenstore: the connection was closed by the other end'),
        );
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
      if (path !== undefined && token !== undefined) this.#client.watchEvent(path, token);
      return;
    }
    if (msg.reqId === this.#deviceBusy) {
      this.#deviceBusy = undefined;
      queueMicrotask(() => {
        this.#flush();
        this.#pump.update();
      });
    }
    const p = this.#pending.get(msg.reqId);
    if (!p) return; // a reply to a request that timed out or was aborted
    if (msg.type === types.XS_ERROR) {
      p.reject(new XenStoreError(parseString(msg.payload), p.type, p.node));
      return;
    }
    if (msg.type !== types[p.type]) {
      p.reject(
        new ZcopyError(
          'ERR_ZCOPY_XENSTORE_PROTOCOL',
          `xenstore protocol error: ${p.type} answered with ${typeName(msg.type)}`,
        ),
      );
      return;
    }
    p.resolve(msg);
  }

  // The connection is broken: every request (pending and later) rejects with `err`, watches end with it.
  #fail(err: Error): void {
    this.#pump.stop();
    this.#end(err);
  }

  #end(err: Error): void {
    if (this.#ended.closed) return;
    this.#ended.close(err);
    this.#client.ended(err);
  }
}
