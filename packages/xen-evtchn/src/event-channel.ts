// EventChannel: Xen event channel ports bound on one /dev/xen/evtchn fd.
// Delivery: the device queues each port that fires and masks it; reading the fd returns them and writing a port
// back unmasks it. Here core's Pump reads them (a uv_poll wait) while anyone waits or listens; ports then sit
// in a coalesced pending set (an event says "look", not "how many") until next()/wait()/events() take them.
import { constants } from 'node:fs';
import { ClosedError, type FdLike, FdObject, fdOf, KernelError, type WaitOptions } from '@zcopy/core';
import {
  abortReason,
  adoptOrClose,
  checkCharDevice,
  checkWaitOptions,
  closableOf,
  native as core,
  Pump,
  type Waiter,
  waitFor,
} from '@zcopy/core/internal';
import { checkDomid, EVTCHN_PATH } from '@zcopy/xen';
import { binding } from './native.js';
import './hints.js';

export { EVTCHN_PATH };

interface PortWaiter extends Waiter<number> {
  port: number | undefined;
}

function checkPort(port: unknown, name = 'port'): number {
  if (typeof port !== 'number' || !Number.isInteger(port))
    throw new TypeError(`${name} must be an integer event channel port, got ${String(port)}`);
  if (port < 0 || port > 0xffffffff) throw new RangeError(`${name} must be a u32, got ${port}`);
  return port;
}

export interface EventChannelOptions {
  /** Device path (default /dev/xen/evtchn). */
  path?: string;
  /** Restrict the fd to one guest domain: only interdomain binds to it are then allowed (IOCTL_EVTCHN_RESTRICT_DOMID). */
  restrictDomid?: number;
  /** Unmask each port as soon as it is read (default true). false: call unmask() after handling it. */
  autoUnmask?: boolean;
}

function checkEvtchn(fd: number): void {
  checkCharDevice(fd, 'the evtchn device (/dev/xen/evtchn)', 'misc', /^(xen!)?evtchn$/);
}

export class EventChannel extends FdObject {
  readonly #ports = new Set<number>();
  readonly #pending = new Set<number>();
  readonly #waiters = new Set<PortWaiter>();
  readonly #listeners = new Set<(port: number) => void>();
  readonly autoUnmask: boolean;
  // Reads the device while a wait or a listener needs ports (a uv_poll wait only then).
  readonly #pump = new Pump(this, {
    needed: () => this.#waiters.size > 0 || this.#listeners.size > 0,
    read: () => this.#drain(),
    failed: (e) => {
      for (const w of [...this.#waiters]) w.reject(e);
    },
  });

  static open(options: EventChannelOptions = {}): EventChannel {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const path = options.path ?? EVTCHN_PATH;
    if (typeof path !== 'string') throw new TypeError('path must be a string');
    // The kernel's rule: a guest domain, never dom0.
    if (options.restrictDomid !== undefined) checkDomid(options.restrictDomid, 'restrictDomid', { min: 1 });
    const ch = adoptOrClose(core.open(path, constants.O_RDWR | constants.O_NONBLOCK), (fd) => {
      checkEvtchn(fd);
      return new EventChannel(fd, { owned: true, autoUnmask: options.autoUnmask });
    });
    try {
      if (options.restrictDomid !== undefined) ch.restrictDomid(options.restrictDomid);
    } catch (e) {
      ch.close();
      throw e;
    }
    return ch;
  }

  /** Use an evtchn fd someone else owns (it must be O_NONBLOCK; never closed here). WrongFdError if not evtchn. */
  static borrow(fd: FdLike, options: { autoUnmask?: boolean } = {}): EventChannel {
    const n = fdOf(fd);
    checkEvtchn(n);
    return new EventChannel(n, { owned: false, autoUnmask: options.autoUnmask });
  }

  /**
   * Take ownership of an evtchn fd (inherited, received; it must be O_NONBLOCK). WrongFdError, the fd left alone,
   * if it is not evtchn. Ports bound through it before are not known to this object.
   */
  static adopt(fd: number, options: { autoUnmask?: boolean } = {}): EventChannel {
    const n = fdOf(fd);
    checkEvtchn(n);
    return new EventChannel(core.adopt(n), { owned: true, autoUnmask: options.autoUnmask });
  }

  protected constructor(fd: number, options: { owned: boolean; autoUnmask: boolean | undefined }) {
    super(fd, { owned: options.owned });
    if (options.autoUnmask !== undefined && typeof options.autoUnmask !== 'boolean')
      throw new TypeError('autoUnmask must be a boolean');
    this.autoUnmask = options.autoUnmask ?? true;
  }

  /** Ports bound on this fd. */
  get ports(): ReadonlySet<number> {
    return this.#ports;
  }

  /** Binds to `remotePort`, an unbound port `remoteDomid` allocated for this domain; returns the local port. */
  bindInterdomain(remoteDomid: number, remotePort: number): number {
    checkDomid(remoteDomid, 'remoteDomid', { allowSelf: true });
    checkPort(remotePort, 'remotePort');
    return this.#bound(binding.bindInterdomain(this.fd, remoteDomid, remotePort));
  }

  /** Allocates a port that `remoteDomid` may bind to (bindInterdomain there); returns the local port. */
  bindUnboundPort(remoteDomid: number): number {
    checkDomid(remoteDomid, 'remoteDomid', { allowSelf: true });
    return this.#bound(binding.bindUnboundPort(this.fd, remoteDomid));
  }

  /** Binds a virtual IRQ (VIRQ_* of xen/xen.h) on vCPU 0; returns the local port. */
  bindVirq(virq: number): number {
    if (!Number.isInteger(virq)) throw new TypeError('virq must be an integer');
    if (virq < 0 || virq > 0xffffffff) throw new RangeError('virq must be a u32');
    return this.#bound(binding.bindVirq(this.fd, virq));
  }

  /** Unbinds a port of this fd; a pending event of it is dropped. */
  unbind(port: number): void {
    checkPort(port);
    binding.unbind(this.fd, port);
    this.#ports.delete(port);
    this.#pending.delete(port);
  }

  /** Signals the remote end of a bound port. */
  notify(port: number): void {
    checkPort(port);
    binding.notify(this.fd, port);
  }

  /** Re-enables delivery of ports read with autoUnmask false. */
  unmask(ports: number | readonly number[]): void {
    const list = typeof ports === 'number' ? [ports] : ports;
    if (!Array.isArray(list)) throw new TypeError('ports must be a port or an array of ports');
    const raw = Uint32Array.from(list, (p, i) => checkPort(p, `ports[${i}]`));
    binding.unmask(this.fd, raw);
  }

  /** IOCTL_EVTCHN_RESTRICT_DOMID: from now on only interdomain binds to `domid`. Once per fd. */
  restrictDomid(domid: number): void {
    checkDomid(domid, 'domid', { min: 1 });
    binding.restrictDomid(this.fd, domid);
  }

  /** Ports that fired and were not yet taken (without waiting; reads the device first). */
  takePending(): number[] {
    this.#drain();
    const out = [...this.#pending];
    this.#pending.clear();
    return out;
  }

  /** The next port to fire (any port bound here). */
  next(options?: WaitOptions): Promise<number> {
    return this.#wait(undefined, options);
  }

  /** Resolves when `port` fires (consuming that event). */
  wait(port: number, options?: WaitOptions): Promise<number> {
    try {
      checkPort(port);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#wait(port, options);
  }

  /** Every port that fires, as an async iterable; ends when this channel closes or the signal aborts. */
  async *events(options: { signal?: AbortSignal } = {}): AsyncGenerator<number, void, undefined> {
    const { signal } = checkWaitOptions(options);
    for (;;) {
      try {
        yield await this.#wait(undefined, { signal });
      } catch (e) {
        if (e instanceof ClosedError || (signal?.aborted && e === abortReason(signal))) return;
        throw e;
      }
    }
  }

  /** Calls `listener` with each port that fires (it sees events, it does not consume them); returns the unsubscribe. */
  on(listener: (port: number) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.fd; // ClosedError after close
    this.#listeners.add(listener);
    this.#pump.update();
    return () => {
      this.#listeners.delete(listener);
      this.#pump.update();
    };
  }

  #bound(port: number): number {
    this.#ports.add(port);
    return port;
  }

  #wait(port: number | undefined, options: WaitOptions | undefined): Promise<number> {
    let opts: ReturnType<typeof checkWaitOptions>;
    try {
      opts = checkWaitOptions(options);
      this.fd;
      this.#drain();
    } catch (e) {
      return Promise.reject(e);
    }
    const ready =
      port === undefined ? this.#pending.values().next().value : this.#pending.has(port) ? port : undefined;
    if (ready !== undefined) {
      this.#pending.delete(ready);
      return Promise.resolve(ready);
    }
    return waitFor<number>(opts, {
      what: port === undefined ? 'evtchn next' : `evtchn wait(${port})`,
      owner: closableOf(this),
      start: (w) => {
        const waiter: PortWaiter = { port, resolve: w.resolve, reject: w.reject };
        this.#waiters.add(waiter);
        return () => {
          this.#waiters.delete(waiter);
          this.#pump.update();
        };
      },
      kick: () => this.#pump.update(),
    });
  }

  // Reads every queued port from the device into the pending set, unmasks them (autoUnmask), and hands them out.
  #drain(): void {
    let ports: Uint32Array;
    try {
      ports = binding.readPending(this.fd);
    } catch (e) {
      if (!(e instanceof KernelError && e.code === 'EFBIG')) throw e;
      // The kernel's ring overflowed and lost events: reset it and treat every bound port as fired (a spurious
      // event is harmless, a lost one is not).
      binding.reset(this.fd);
      ports = Uint32Array.from(this.#ports);
    }
    if (ports.length === 0) return;
    for (const p of ports) {
      for (const l of [...this.#listeners]) {
        try {
          l(p);
        } catch (e) {
          // A listener's bug must not stop delivery: it surfaces as an uncaught exception, like an EventEmitter's.
          queueMicrotask(() => {
            throw e;
          });
        }
      }
      this.#pending.add(p);
    }
    if (this.autoUnmask) binding.unmask(this.fd, ports);
    for (const w of [...this.#waiters]) {
      const p =
        w.port === undefined
          ? this.#pending.values().next().value
          : this.#pending.has(w.port)
            ? w.port
            : undefined;
      if (p === undefined) continue;
      this.#pending.delete(p);
      w.resolve(p);
    }
  }

  protected override onClose(): void {
    // Pending waits were settled with ClosedError (their owner is this channel) before this runs.
    this.#listeners.clear();
    this.#pump.stop();
    this.#ports.clear();
    this.#pending.clear();
  }
}
