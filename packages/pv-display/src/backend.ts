// The PV display backend: watches backend/vdispl of this domain in xenstore and serves every frontend device
// the toolstack puts there, each with its own XenbusState machine, rings, event channels and buffers.
//
// States (xen/io/xenbus.h): 1 Initialising, 2 InitWait, 3 Initialised, 4 Connected, 5 Closing, 6 Closed,
// 7 Reconfiguring. The backend goes InitWait as soon as it sees a device (libxl waits 10 s for that during
// `xl create`), connects when the frontend is Initialised, and goes back to InitWait whenever the frontend
// starts over (Initialising, Closing, Closed), which Linux's xen-drm-front waits for when it is removed.
// When the toolstack closes the device (online = 0, or state Closing written by it) the backend disconnects
// and goes Closed; when the device's directory disappears (domain destroyed) it just lets go.
import { ZcopyError } from '@zcopy/core';
import { GrantMapper, type GrantMapping } from '@zcopy/grant-table';
import { EventChannel } from '@zcopy/xen-evtchn';
import { XenStore, type XenStoreWatch } from '@zcopy/xenstore';
import { binding, C } from './native.js';
import {
  type BufferIo,
  type ConnectorConfig,
  type ConnectorOutput,
  DisplayEngine,
  type EngineLimits,
  operationName,
} from './protocol.js';
import { ConnectorRings } from './rings.js';

export const XenbusState = {
  Unknown: 0,
  Initialising: 1,
  InitWait: 2,
  Initialised: 3,
  Connected: 4,
  Closing: 5,
  Closed: 6,
  Reconfiguring: 7,
} as const;

/** Where a frontend device stands, for stats and tests. */
export interface DeviceInfo {
  frontendDomid: number;
  devid: number;
  backendPath: string;
  frontendPath: string;
  state: 'waiting' | 'connected' | 'closed' | 'failed';
  connectors: readonly ConnectorConfig[];
  backendAllocation: boolean;
}

export interface DeviceStats {
  /** Requests taken off the ring, by operation. */
  requests: Record<string, number>;
  /** Requests answered (their response is on the ring), by operation. */
  responded: Record<string, number>;
  /** The longest a request took from the ring to its response, ms. */
  requestMsMax: number;
  /**
   * Requests answered after the frontend had stopped waiting: Linux's xen-drm-front waits 3 s for each response
   * (XEN_DRM_FRONT_WAIT_BACK_MS), then fails the call with -ETIMEDOUT and drops the late response.
   */
  lateResponses: number;
  errors: number;
  flips: number;
  events: number;
  droppedEvents: number;
  /** Bytes copied into display buffers, all frames. */
  bytesCopied: number;
  /**
   * Flips that ended on the display after LATE_FLIP_EVENT_MS, whose events were therefore not sent: the display
   * was slower than Linux's xen-drm-front waits, and the frontend completed the flip itself. Not an error.
   */
  lateFlips: number;
  /** PG_FLIP request taken → the flip ended on the display, ms: sum and max over `events` and `lateFlips`. */
  flipMsTotal: number;
  flipMsMax: number;
  lastError?: string;
}

/** How buffers and displays are made for one device: the buffer path (copy, zero-copy…) lives here. */
export interface DeviceServices<B> {
  io: BufferIo<B>;
  outputs: ConnectorOutput<B>[];
  /** Whether this path can allocate buffers for the frontend (be-alloc). */
  backendAllocation: boolean;
  /** Bytes copied so far by this device's outputs. */
  bytesCopied?(): number;
  close?(): Promise<void> | void;
}

export interface ServiceContext {
  info: DeviceInfo;
  mapper: GrantMapper;
}

export interface BackendOptions<B> {
  /** Makes the buffer path and outputs of a device that connects. */
  services(ctx: ServiceContext): Promise<DeviceServices<B>> | DeviceServices<B>;
  xs?: XenStore;
  limits?: EngineLimits;
  log?: (line: string) => void;
  /** Called on every device state change. */
  onChange?: (info: DeviceInfo) => void;
}

/** How long Linux's xen-drm-front waits for each response (XEN_DRM_FRONT_WAIT_BACK_MS in xen_drm_front.h). */
export const FRONTEND_WAIT_MS = 3000;
/** How long it waits for a flip's event before it sends the vblank itself (FRAME_DONE_TO_MS in xen_drm_front_kms.c). */
export const FRONTEND_FLIP_WAIT_MS = FRONTEND_WAIT_MS + 100;
/**
 * A flip that ends later than this after its request gets no PG_FLIP event. Linux's frontend completes a flip
 * itself FRONTEND_FLIP_WAIT_MS after sending it, and its event handler (xen_drm_front_kms_on_frame_done) ignores
 * the fb_cookie: it ends whatever flip is pending then. A late event would end the client's *next* flip before the
 * display has it, and each late one would put the frontend a frame further ahead, until its flips are refused
 * (EBUSY past MAX_PENDING_FLIPS; seen in the slow-display test on arm64 with the events sent: 433 refused flips).
 * Its request limit, 100 ms before its flip limit, leaves room for the ring's latency: an event later than that
 * could reach a frontend that has already given up on it.
 */
export const LATE_FLIP_EVENT_MS = FRONTEND_WAIT_MS;

const num = (s: string | undefined): number | undefined =>
  s !== undefined && /^\d{1,10}$/.test(s.trim()) && Number(s) <= 0xffff_ffff ? Number(s) : undefined;

/** The backend of every vdispl device of this domain. */
export class PvDisplayBackend<B = unknown> {
  readonly #xs: XenStore;
  readonly #ownXs: boolean;
  readonly #opts: BackendOptions<B>;
  readonly #mapper: GrantMapper;
  readonly #evtchn: EventChannel;
  readonly #ports = new Map<number, () => void>();
  readonly #devices = new Map<string, FrontendDevice<B>>();
  readonly #gone = new Map<string, DeviceStats>();
  #root = '';
  #watch: XenStoreWatch | undefined;
  #loop: Promise<void> | undefined;
  #closed = false;
  #offPorts: () => void;

  private constructor(opts: BackendOptions<B>) {
    this.#opts = opts;
    this.#ownXs = !opts.xs;
    this.#xs = opts.xs ?? XenStore.open();
    this.#mapper = GrantMapper.open();
    this.#evtchn = EventChannel.open();
    this.#offPorts = this.#evtchn.on((port) => this.#ports.get(port)?.());
  }

  /** Starts watching `backend/vdispl`; resolves once the watch is registered (start before `xl create`). */
  static async start<B>(opts: BackendOptions<B>): Promise<PvDisplayBackend<B>> {
    const b = new PvDisplayBackend<B>(opts);
    try {
      const home = await b.#xs.getDomainPath(Number(await b.#xs.read('domid').catch(() => '0')));
      b.#root = `${home}/backend/vdispl`;
      b.#watch = await b.#xs.watch(b.#root);
      b.#loop = b.#run();
    } catch (e) {
      await b.close();
      throw e;
    }
    return b;
  }

  get root(): string {
    return this.#root;
  }

  get devices(): DeviceInfo[] {
    return [...this.#devices.values()].map((d) => d.info);
  }

  /** A device's statistics; those of a device that went away stay readable (the last 64). */
  stats(frontendDomid: number, devid = 0): DeviceStats | undefined {
    const key = `${frontendDomid}/${devid}`;
    return this.#devices.get(key)?.stats ?? this.#gone.get(key);
  }

  /** The buffers a connected device holds now (its path's objects), e.g. to look at what a guest drew. */
  buffers(frontendDomid: number, devid = 0): B[] {
    return this.#devices.get(`${frontendDomid}/${devid}`)?.buffers() ?? [];
  }

  /** Open objects this backend holds (grant mappings), for leak checks. */
  get liveMappings(): number {
    return this.#mapper.mappings.size;
  }

  get boundPorts(): number {
    return this.#evtchn.ports.size;
  }

  log(line: string): void {
    this.#opts.log?.(line);
  }

  async #run(): Promise<void> {
    const w = this.#watch!;
    try {
      for await (const ev of w) {
        if (this.#closed) break;
        await this.#route(ev.path).catch((e) => this.log(`pv-display: ${ev.path}: ${(e as Error).message}`));
      }
    } catch (e) {
      if (!this.#closed) this.log(`pv-display: watch ended: ${(e as Error).message}`);
    }
  }

  async #route(path: string): Promise<void> {
    const rest = path.startsWith(`${this.#root}/`) ? path.slice(this.#root.length + 1).split('/') : [];
    if (rest.length >= 2) {
      const key = `${rest[0]}/${rest[1]}`;
      const d = this.#devices.get(key);
      if (d) return d.backendChanged();
    }
    await this.#rescan();
  }

  async #rescan(): Promise<void> {
    const fes = await this.#xs.directory(this.#root).catch(() => [] as string[]);
    const seen = new Set<string>();
    for (const fe of fes) {
      const feDomid = num(fe);
      if (feDomid === undefined) continue;
      const devs = await this.#xs.directory(`${this.#root}/${fe}`).catch(() => [] as string[]);
      for (const dev of devs) {
        const devid = num(dev);
        if (devid === undefined) continue;
        const key = `${feDomid}/${devid}`;
        seen.add(key);
        if (!this.#devices.has(key)) {
          const d = new FrontendDevice<B>(this, key, feDomid, devid, `${this.#root}/${fe}/${dev}`);
          this.#devices.set(key, d);
          d.start().catch((e) => {
            // Not ready yet (the toolstack writes in a transaction, a hand-made device may not): next event retries.
            if (this.#devices.get(key) === d) this.#devices.delete(key);
            void d.destroy();
            this.log(`pv-display: device ${key}: ${(e as Error).message}`);
          });
        }
      }
    }
    for (const [key, d] of this.#devices)
      if (!seen.has(key)) {
        this.forget(key);
        await d.destroy();
      }
  }

  /** @internal */
  get xs(): XenStore {
    return this.#xs;
  }
  /** @internal */
  get mapper(): GrantMapper {
    return this.#mapper;
  }
  /** @internal */
  get evtchn(): EventChannel {
    return this.#evtchn;
  }
  /** @internal */
  get options(): BackendOptions<B> {
    return this.#opts;
  }
  /** @internal */
  onPort(port: number, fn: (() => void) | undefined): void {
    if (fn) this.#ports.set(port, fn);
    else this.#ports.delete(port);
  }
  /** @internal */
  forget(key: string): void {
    const d = this.#devices.get(key);
    this.#devices.delete(key);
    if (d) this.#retire(key, d.stats);
  }

  #retire(key: string, stats: DeviceStats): void {
    this.#gone.delete(key);
    this.#gone.set(key, stats);
    if (this.#gone.size > 64) this.#gone.delete(this.#gone.keys().next().value!);
  }

  /** Stops: every device disconnected (its backend state left as Closed), the watch and the devices closed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const d of [...this.#devices.values()]) await d.destroy({ closeState: true });
    this.#devices.clear();
    await this.#watch?.close().catch(() => {});
    await this.#loop?.catch(() => {});
    this.#offPorts();
    this.#evtchn.close();
    this.#mapper.close();
    if (this.#ownXs) this.#xs.close();
  }
}

interface Connection<B> {
  engine: DisplayEngine<B>;
  services: DeviceServices<B>;
  rings: ConnectorRings[];
  pages: GrantMapping[];
  ports: number[];
}

class FrontendDevice<B> {
  readonly info: DeviceInfo;
  readonly stats: DeviceStats = {
    requests: {},
    responded: {},
    requestMsMax: 0,
    lateResponses: 0,
    errors: 0,
    flips: 0,
    events: 0,
    droppedEvents: 0,
    bytesCopied: 0,
    lateFlips: 0,
    flipMsTotal: 0,
    flipMsMax: 0,
  };
  readonly #be: PvDisplayBackend<B>;
  readonly #key: string;
  #feWatch: XenStoreWatch | undefined;
  #conn: Connection<B> | undefined;
  #queue: Promise<void> = Promise.resolve();
  #gone = false;
  #written = -1;

  constructor(be: PvDisplayBackend<B>, key: string, feDomid: number, devid: number, backendPath: string) {
    this.#be = be;
    this.#key = key;
    this.info = {
      frontendDomid: feDomid,
      devid,
      backendPath,
      frontendPath: '',
      state: 'waiting',
      connectors: [],
      backendAllocation: false,
    };
  }

  get #xs(): XenStore {
    return this.#be.xs;
  }

  buffers(): B[] {
    return this.#conn ? [...this.#conn.engine.buffers.values()].map((d) => d.buffer) : [];
  }

  /** Runs `fn` after everything queued before it (state changes and ring work never interleave). */
  #serial(fn: () => Promise<void>): Promise<void> {
    const p = this.#queue.then(fn, fn);
    this.#queue = p.catch((e) => this.#fault(e));
    return this.#queue;
  }

  #fault(e: unknown): void {
    this.stats.errors++;
    this.stats.lastError = (e as Error).message;
    this.#be.log(`pv-display: ${this.#key}: ${(e as Error).message}`);
  }

  #set(state: DeviceInfo['state']): void {
    this.info.state = state;
    this.#be.options.onChange?.({ ...this.info });
  }

  async #writeState(s: number): Promise<void> {
    this.#written = s;
    await this.#xs.write(`${this.info.backendPath}/state`, String(s));
  }

  async start(): Promise<void> {
    const bp = this.info.backendPath;
    const fePath = await this.#xs.read(`${bp}/frontend`);
    const feId = num(await this.#xs.read(`${bp}/frontend-id`));
    if (feId !== this.info.frontendDomid)
      throw new ZcopyError(
        'ERR_ZCOPY_PV_DISPLAY_FRONTEND',
        `frontend-id ${feId} does not match the device's directory (${this.info.frontendDomid})`,
      );
    if (!fePath.startsWith(`/local/domain/${feId}/`))
      throw new ZcopyError('ERR_ZCOPY_PV_DISPLAY_FRONTEND', `frontend path ${fePath} is not the domain's`);
    // A device the toolstack is removing (it writes online=0 and waits for Closed: a domain that ended, or
    // vdispl-detach), or whose domain is gone, is not served: a backend started after a guest ended would
    // otherwise wait on it as a frontend (seen: a test's backend listing the previous test's domain).
    if ((await this.#xs.tryRead(`${bp}/online`)) === '0') {
      // What the toolstack waits for before it removes the directory: Closed (never InitWait). Written once:
      // every write fires our own watch, and the rescan it causes comes back here.
      if (num(await this.#xs.tryRead(`${bp}/state`)) !== XenbusState.Closed)
        await this.#writeState(XenbusState.Closed).catch(() => {});
      throw new ZcopyError(
        'ERR_ZCOPY_PV_DISPLAY_FRONTEND',
        'being removed by the toolstack (online=0): answered Closed, not served',
      );
    }
    // (A driver domain may not be allowed to ask: then only `online` decides.)
    if (!(await this.#xs.isDomainIntroduced(feId).catch(() => true)))
      throw new ZcopyError(
        'ERR_ZCOPY_PV_DISPLAY_FRONTEND',
        `frontend domain ${feId} does not exist: not served`,
      );
    this.info.frontendPath = fePath;
    // Version 2 adds GET_EDID, which every path here answers (Linux 6.1 never asks, nor writes `version`).
    await this.#xs.write(`${bp}/versions`, '1,2');
    await this.#writeState(XenbusState.InitWait);
    this.#be.log(`pv-display: ${this.#key}: InitWait (frontend ${fePath})`);
    this.#feWatch = await this.#xs.watch(`${fePath}/state`);
    void (async () => {
      try {
        for await (const _ of this.#feWatch!) {
          if (this.#gone) break;
          await this.#serial(() => this.#frontendChanged());
        }
      } catch {}
    })();
  }

  async #frontendChanged(): Promise<void> {
    // A frontend domain being destroyed loses its nodes (ENOENT) or their permissions (EACCES) first: Unknown.
    const raw = await this.#xs.tryRead(`${this.info.frontendPath}/state`).catch(() => undefined);
    const s = num(raw) ?? XenbusState.Unknown;
    switch (s) {
      case XenbusState.Initialised:
        if (!this.#conn && this.info.state !== 'failed') await this.#connect();
        break;
      case XenbusState.Initialising:
      case XenbusState.Closing:
      case XenbusState.Closed:
      case XenbusState.Unknown:
        if (this.#conn) await this.#disconnect();
        // The frontend starts over (or is being removed and waits for this): be ready for it. A device that
        // failed to connect gets another chance when its frontend starts over.
        if (this.info.state === 'closed' || this.#gone) break;
        if (this.#written !== XenbusState.InitWait) await this.#writeState(XenbusState.InitWait);
        if (s !== XenbusState.Closing) this.#set('waiting');
        break;
      case XenbusState.Reconfiguring:
        if (this.#conn) await this.#disconnect();
        break;
      default:
        break;
    }
  }

  /** Something under the backend directory changed (the toolstack, or our own writes). */
  backendChanged(): Promise<void> {
    return this.#serial(async () => {
      const bp = this.info.backendPath;
      const state = await this.#xs.tryRead(`${bp}/state`);
      if (state === undefined) {
        // Removed (the domain was destroyed, or xl removed the device): let go.
        this.#be.forget(this.#key);
        await this.#destroy(false);
        return;
      }
      const online = await this.#xs.tryRead(`${bp}/online`);
      const s = num(state);
      if (
        (online === '0' || (s === XenbusState.Closing && this.#written !== XenbusState.Closing)) &&
        !this.#gone
      ) {
        if (this.#conn) await this.#disconnect();
        if (this.#written !== XenbusState.Closed) await this.#writeState(XenbusState.Closed);
        this.#set('closed');
      }
    });
  }

  async #connect(): Promise<void> {
    const fp = this.info.frontendPath;
    const domid = this.info.frontendDomid;
    const connectors: ConnectorConfig[] = [];
    const transport: { reqRef: number; reqPort: number; evtRef: number; evtPort: number }[] = [];
    for (let i = 0; i < 16; i++) {
      const res = await this.#xs.tryRead(`${fp}/${i}/resolution`);
      if (res === undefined) break;
      const m = /^(\d{1,5})x(\d{1,5})$/.exec(res.trim());
      if (!m || Number(m[1]) === 0 || Number(m[2]) === 0)
        return this.#failConnect(`connector ${i}: resolution "${res}"`);
      connectors.push({ width: Number(m[1]), height: Number(m[2]) });
      const read = async (n: string) => num(await this.#xs.tryRead(`${fp}/${i}/${n}`));
      const t = {
        reqRef: await read('req-ring-ref'),
        reqPort: await read('req-event-channel'),
        evtRef: await read('evt-ring-ref'),
        evtPort: await read('evt-event-channel'),
      };
      if (Object.values(t).some((v) => v === undefined))
        return this.#failConnect(`connector ${i}: ring refs or event channels missing or not numbers`);
      transport.push(t as { reqRef: number; reqPort: number; evtRef: number; evtPort: number });
    }
    if (connectors.length === 0) return this.#failConnect('no connectors (no <i>/resolution)');
    const beAllocOffered = (await this.#xs.tryRead(`${fp}/be-alloc`))?.trim() === '1';
    this.info.connectors = connectors;
    const pages: GrantMapping[] = [];
    const ports: number[] = [];
    let services: DeviceServices<B> | undefined;
    try {
      for (const t of transport) {
        pages.push(this.#be.mapper.map(domid, [t.reqRef]));
        pages.push(this.#be.mapper.map(domid, [t.evtRef]));
        ports.push(this.#be.evtchn.bindInterdomain(domid, t.reqPort));
        ports.push(this.#be.evtchn.bindInterdomain(domid, t.evtPort));
      }
      services = await this.#be.options.services({ info: this.info, mapper: this.#be.mapper });
      this.info.backendAllocation = beAllocOffered && services.backendAllocation;
      const engine = new DisplayEngine<B>({
        io: services.io,
        outputs: services.outputs,
        connectors,
        backendAllocation: this.info.backendAllocation,
        limits: this.#be.options.limits,
      });
      const rings = transport.map((_, i) => {
        const reqPort = ports[2 * i]!;
        const evtPort = ports[2 * i + 1]!;
        return new ConnectorRings(pages[2 * i]!.buffer, pages[2 * i + 1]!.buffer, {
          notifyReq: () => this.#be.evtchn.notify(reqPort),
          notifyEvt: () => this.#be.evtchn.notify(evtPort),
        });
      });
      this.#conn = { engine, services, rings, pages, ports };
      for (let i = 0; i < rings.length; i++) this.#be.onPort(ports[2 * i]!, () => this.#kick(i));
    } catch (e) {
      for (const p of ports) this.#be.evtchn.unbind(p);
      for (const m of pages) m.unmap();
      await services?.close?.();
      return this.#failConnect((e as Error).message);
    }
    await this.#writeState(XenbusState.Connected);
    this.#set('connected');
    this.#be.log(
      `pv-display: ${this.#key}: Connected, ${connectors.map((c) => `${c.width}x${c.height}`).join(', ')}` +
        `${this.info.backendAllocation ? ', backend allocation' : ''}`,
    );
    // Requests may already be waiting (the frontend does not wait for Connected to be seen to queue).
    for (let i = 0; i < connectors.length; i++) this.#kick(i);
  }

  async #failConnect(why: string): Promise<void> {
    this.#fault(new ZcopyError('ERR_ZCOPY_PV_DISPLAY_CONNECT', `cannot connect: ${why}`));
    this.#set('failed');
    await this.#writeState(XenbusState.Closing);
  }

  #kick(connector: number): void {
    void this.#serial(() => this.#drain(connector));
  }

  async #drain(i: number): Promise<void> {
    const c = this.#conn;
    if (!c) return;
    const rings = c.rings[i]!;
    for (;;) {
      const { requests, overrun } = rings.take();
      if (overrun) {
        this.#fault(
          new ZcopyError(
            'ERR_ZCOPY_PV_DISPLAY_OVERRUN',
            `connector ${i}: req_prod runs more than a ring ahead: disconnecting`,
          ),
        );
        await this.#disconnect();
        this.#set('failed');
        await this.#writeState(XenbusState.Closing);
        return;
      }
      if (requests.length === 0) {
        if (rings.finalCheck()) continue;
        return;
      }
      for (const req of requests) {
        if (this.#conn !== c) return;
        const name = operationName(req.operation);
        this.stats.requests[name] = (this.stats.requests[name] ?? 0) + 1;
        const t0 = performance.now();
        const out = await c.engine.handle(i, req);
        if (out.status !== 0) {
          this.stats.errors++;
          this.stats.lastError = `${name}: ${out.reason ?? out.status}`;
          this.#be.log(`pv-display: ${this.#key}: ${name} -> ${out.status} (${out.reason})`);
        }
        if (this.#conn !== c) return;
        rings.respond(req.id, req.operation, out.status, out.edidSize ?? 0);
        this.stats.responded[name] = (this.stats.responded[name] ?? 0) + 1;
        const took = performance.now() - t0;
        if (took > this.stats.requestMsMax) this.stats.requestMsMax = took;
        if (took > FRONTEND_WAIT_MS) {
          this.stats.lateResponses++;
          this.#be.log(
            `pv-display: ${this.#key}: ${name} took ${(took / 1000).toFixed(1)} s: a Linux frontend gives up after ${FRONTEND_WAIT_MS / 1000} s (-ETIMEDOUT)`,
          );
        }
        if (out.flip) {
          this.stats.flips++;
          out.flip().then(
            (cookie) => {
              if (this.#conn !== c) return;
              const ms = performance.now() - t0;
              this.stats.flipMsTotal += ms;
              if (ms > this.stats.flipMsMax) this.stats.flipMsMax = ms;
              if (ms > LATE_FLIP_EVENT_MS) {
                // The frontend has completed this flip itself (or is about to), and Linux's takes any PG_FLIP
                // event, whatever its fb_cookie, as the end of its *current* flip: sending this one would put it a
                // frame ahead of the display for good (see LATE_FLIP_EVENT_MS).
                this.stats.lateFlips++;
                this.#be.log(
                  `pv-display: ${this.#key}: a flip ended ${(ms / 1000).toFixed(1)} s after its request: its event is not sent (a Linux frontend completes the flip itself after ${FRONTEND_FLIP_WAIT_MS / 1000} s)`,
                );
              } else if (rings.pushFlipEvent(cookie)) this.stats.events++;
              else this.stats.droppedEvents++;
              this.stats.bytesCopied = c.services.bytesCopied?.() ?? 0;
            },
            (e) => this.#fault(e),
          );
        }
      }
      this.stats.bytesCopied = c.services.bytesCopied?.() ?? 0;
    }
  }

  async #disconnect(): Promise<void> {
    const c = this.#conn;
    if (!c) return;
    this.#conn = undefined;
    for (let i = 0; i < c.rings.length; i++) this.#be.onPort(c.ports[2 * i]!, undefined);
    for (const p of c.ports) {
      try {
        this.#be.evtchn.unbind(p);
      } catch {}
    }
    await c.engine.close();
    await c.services.close?.();
    for (const m of c.pages) m.unmap();
    this.#be.log(`pv-display: ${this.#key}: disconnected`);
  }

  async #destroy(closeState: boolean): Promise<void> {
    if (this.#gone) return;
    this.#gone = true;
    await this.#disconnect().catch((e) => this.#fault(e));
    if (closeState) await this.#writeState(XenbusState.Closed).catch(() => {});
    await this.#feWatch?.close().catch(() => {});
    this.#set('closed');
  }

  destroy(opts: { closeState?: boolean } = {}): Promise<void> {
    return this.#serial(() => this.#destroy(opts.closeState ?? false));
  }
}

/** Frontend-allocated buffers mapped from the frontend's grants, read-only (the copy path's BufferIo). */
export function mappedBuffers(mapper: GrantMapper, domid: number): BufferIo<GrantMapping> {
  return {
    readDirectory: (ref) => readFrontendDirectory(mapper, domid, ref),
    async map(_spec, refs) {
      return mapper.map(domid, refs, { access: 'read' });
    },
    async allocate() {
      throw new ZcopyError('ERR_ZCOPY_PV_DISPLAY_PATH', 'this buffer path does not allocate');
    },
    async writeDirectory() {
      throw new ZcopyError('ERR_ZCOPY_PV_DISPLAY_PATH', 'this buffer path does not allocate');
    },
    async release(m) {
      m.unmap();
    },
    writeFrontendPages: (refs, data) => writeFrontendPages(mapper, domid, refs, data),
  };
}

/** Maps the page directory page `ref` of `domid` read-only, reads it, unmaps. */
export async function readFrontendDirectory(
  mapper: GrantMapper,
  domid: number,
  ref: number,
): Promise<{ next: number; refs: Uint32Array }> {
  const m = mapper.map(domid, [ref], { access: 'read' });
  try {
    return binding.dirRead(m.buffer);
  } finally {
    m.unmap();
  }
}

/** Maps `refs` of `domid` writable, copies `data` to their start, unmaps. */
export async function writeFrontendPages(
  mapper: GrantMapper,
  domid: number,
  refs: Uint32Array,
  data: Uint8Array,
): Promise<void> {
  const m = mapper.map(domid, refs, { access: 'readwrite' });
  try {
    m.buffer.set(data.subarray(0, m.buffer.length));
  } finally {
    m.unmap();
  }
}

export { C as constants };
