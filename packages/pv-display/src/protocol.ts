// The displif request engine of one frontend connection: every request checked against what this connection
// knows (buffers, framebuffers, connectors) before anything is mapped or shown, answered with a status
// (0 or -XEN_E*). Transport-free: the rings (connection.ts) feed it requests; the grant work and the display are
// behind BufferIo and ConnectorOutput, so host tests drive it with fakes.
//
// Rules from the protocol header (xen/io/displif.h) and what Linux 6.1's xen-drm-front does:
// - DBUF_*/FB_* must arrive on connector 0's ring; SET_CONFIG/PG_FLIP on the connector's own.
// - Cookie 0 is invalid. A reused dbuf cookie replaces the old buffer (the frontend never destroys a buffer whose
//   DBUF_CREATE timed out, and its cookies are kernel addresses that come back); a reused fb cookie is EEXIST.
// - Linux fills request slots without zeroing them first (be_prepare_req), so reserved fields and the unused
//   bits of DBUF_CREATE's flags can hold an older request's bytes: only bit 0 of flags is read.
// - The directory chain is followed for exactly the pages buffer_sz needs, never further: a looping or too-long
//   chain ends there, a repeated directory ref is refused, a chain ending early is EINVAL.
import { formatLayout } from '@zcopy/drm-kms';
import { edidFor } from './edid.js';
import { C, type RawRequest } from './native.js';

export type Status = number;

/** A display buffer's geometry as the frontend declared it, checked. */
export interface DbufSpec {
  cookie: bigint;
  width: number;
  height: number;
  bpp: number;
  /** buffer_sz, bytes. */
  size: number;
  dataOffset: number;
  /** Bytes per row, as the frontend's dumb buffers have it: ceil(width × bpp / 8). */
  pitch: number;
  /** Pages (Xen pages) the buffer spans. */
  pages: number;
  /** The backend allocates (be-alloc) and writes the refs into the directory. */
  backendAllocated: boolean;
}

export interface Dbuf<B> {
  spec: DbufSpec;
  buffer: B;
}

export interface FbInfo {
  cookie: bigint;
  dbufCookie: bigint;
  width: number;
  height: number;
  format: number;
  /** Bytes per pixel of the format. */
  cpp: number;
}

/** What one connector shows: a framebuffer's rectangle at (x, y). */
export interface Frame<B> {
  fb: FbInfo;
  dbuf: Dbuf<B>;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Grants: how buffers come and go. */
export interface BufferIo<B> {
  /** Maps one directory page and returns a copy of its chain pointer and refs. */
  readDirectory(ref: number): Promise<{ next: number; refs: Uint32Array }>;
  /** Frontend allocation: maps the frontend's refs as one buffer. */
  map(spec: DbufSpec, refs: Uint32Array): Promise<B>;
  /** Backend allocation: makes a buffer and grants it to the frontend; returns the refs. */
  allocate(spec: DbufSpec): Promise<{ buffer: B; refs: Uint32Array }>;
  /** Backend allocation: writes refs into one directory page of the frontend's. */
  writeDirectory(ref: number, refs: Uint32Array): Promise<void>;
  release(buffer: B): Promise<void>;
  /** GET_EDID: writes `data` at the start of the frontend's pages `refs` (mapped writable). */
  writeFrontendPages?(refs: Uint32Array, data: Uint8Array): Promise<void>;
}

/** One connector's display. */
export interface ConnectorOutput<B> {
  /** The fourccs it can show. */
  readonly formats: ReadonlySet<number>;
  /** SET_CONFIG: shows the frame, or turns the output off (undefined). */
  show(frame: Frame<B> | undefined): Promise<void>;
  /** PG_FLIP: resolves once the frame is really on the display. */
  flip(frame: Frame<B>): Promise<void>;
  close(): Promise<void> | void;
}

export interface EngineLimits {
  /** Largest buffer_sz accepted (default 64 MiB). */
  maxBufferBytes?: number;
  /** Largest width or height (default 8192). */
  maxDimension?: number;
  /** Most display buffers at once per frontend (default 64). */
  maxBuffers?: number;
}

export interface ConnectorConfig {
  width: number;
  height: number;
}

/** What handle() decided: the status to answer, and for a flip, the work that ends in the PG_FLIP event. */
export interface Outcome {
  status: Status;
  /** GET_EDID: the EDID's size. */
  edidSize?: number;
  /** Runs after the response is sent; resolves with the fb cookie for the event once the flip is on screen. */
  flip?: () => Promise<bigint>;
  /** Why a non-zero status was given (logs, stats). */
  reason?: string;
}

const ok: Outcome = { status: 0 };
/** Flips answered but not yet on the display, per connector, before PG_FLIP is EBUSY. */
export const MAX_PENDING_FLIPS = 4;
function fail(errno: number, reason: string): Outcome {
  return { status: -errno, reason };
}

export const OPERATION_NAMES: Readonly<Record<number, string>> = {
  [C.OP_DBUF_CREATE]: 'DBUF_CREATE',
  [C.OP_DBUF_DESTROY]: 'DBUF_DESTROY',
  [C.OP_FB_ATTACH]: 'FB_ATTACH',
  [C.OP_FB_DETACH]: 'FB_DETACH',
  [C.OP_SET_CONFIG]: 'SET_CONFIG',
  [C.OP_PG_FLIP]: 'PG_FLIP',
  [C.OP_GET_EDID]: 'GET_EDID',
};

export function operationName(op: number): string {
  return OPERATION_NAMES[op] ?? `unknown(0x${op.toString(16)})`;
}

/** The request engine of one frontend device (all its connectors). Requests are handled one at a time. */
export class DisplayEngine<B> {
  readonly #io: BufferIo<B>;
  readonly #outputs: readonly ConnectorOutput<B>[];
  readonly #connectors: readonly ConnectorConfig[];
  readonly #beAlloc: boolean;
  readonly #maxBytes: number;
  readonly #maxDim: number;
  readonly #maxBuffers: number;
  readonly #dbufs = new Map<bigint, Dbuf<B>>();
  readonly #fbs = new Map<bigint, FbInfo>();
  /** What each connector shows (SET_CONFIG or the last flip). */
  readonly #shown: (Frame<B> | undefined)[];
  /** Each connector's flips, in order. */
  readonly #flips: Promise<unknown>[];
  /** Flips answered whose event is not sent yet, per connector. */
  readonly #pending: number[];
  #closed = false;

  constructor(options: {
    io: BufferIo<B>;
    outputs: readonly ConnectorOutput<B>[];
    connectors: readonly ConnectorConfig[];
    /** The toolstack offered backend allocation (be-alloc = 1) and this backend can do it. */
    backendAllocation: boolean;
    limits?: EngineLimits;
  }) {
    if (options.outputs.length !== options.connectors.length)
      throw new RangeError('one output per connector');
    this.#io = options.io;
    this.#outputs = options.outputs;
    this.#connectors = options.connectors;
    this.#beAlloc = options.backendAllocation;
    this.#maxBytes = options.limits?.maxBufferBytes ?? 64 * 1024 * 1024;
    this.#maxDim = options.limits?.maxDimension ?? 8192;
    this.#maxBuffers = options.limits?.maxBuffers ?? 64;
    this.#shown = options.connectors.map(() => undefined);
    this.#flips = options.connectors.map(() => Promise.resolve());
    this.#pending = options.connectors.map(() => 0);
  }

  get buffers(): ReadonlyMap<bigint, Dbuf<B>> {
    return this.#dbufs;
  }

  get framebuffers(): ReadonlyMap<bigint, FbInfo> {
    return this.#fbs;
  }

  shown(connector: number): Frame<B> | undefined {
    return this.#shown[connector];
  }

  /** Handles one request that arrived on `connector`'s ring. Never throws: failures are statuses. */
  async handle(connector: number, req: RawRequest): Promise<Outcome> {
    if (this.#closed) return fail(C.XEN_EIO, 'connection closed');
    try {
      const generic =
        req.operation === C.OP_DBUF_CREATE ||
        req.operation === C.OP_DBUF_DESTROY ||
        req.operation === C.OP_FB_ATTACH ||
        req.operation === C.OP_FB_DETACH;
      if (generic && connector !== 0)
        return fail(C.XEN_EINVAL, `${operationName(req.operation)} must come on connector 0's ring`);
      switch (req.operation) {
        case C.OP_DBUF_CREATE:
          return await this.#dbufCreate(req);
        case C.OP_DBUF_DESTROY:
          return await this.#dbufDestroy(req.dbufCookie!);
        case C.OP_FB_ATTACH:
          return this.#fbAttach(connector, req);
        case C.OP_FB_DETACH:
          return await this.#fbDetach(req.fbCookie!);
        case C.OP_SET_CONFIG:
          return await this.#setConfig(connector, req);
        case C.OP_PG_FLIP:
          return this.#pageFlip(connector, req.fbCookie!);
        case C.OP_GET_EDID:
          return await this.#getEdid(connector, req);
        default:
          return fail(C.XEN_EOPNOTSUPP, `unknown operation 0x${req.operation.toString(16)}`);
      }
    } catch (e) {
      return fail(C.XEN_EIO, `${operationName(req.operation)}: ${(e as Error).message}`);
    }
  }

  /** Checks a DBUF_CREATE's geometry; returns the spec or a failure. Pure. */
  checkDbuf(req: RawRequest): DbufSpec | Outcome {
    const cookie = req.dbufCookie!;
    const { width = 0, height = 0, bpp = 0, bufferSize = 0, dataOffset = 0, flags = 0 } = req;
    if (cookie === 0n) return fail(C.XEN_EINVAL, 'dbuf_cookie 0 is invalid');
    if (width === 0 || height === 0) return fail(C.XEN_EINVAL, 'width and height must not be 0');
    if (width > this.#maxDim || height > this.#maxDim)
      return fail(C.XEN_E2BIG, `width and height are limited to ${this.#maxDim}`);
    if (bpp === 0 || bpp > 64 || bpp % 8 !== 0)
      return fail(C.XEN_EINVAL, `bpp ${bpp} is not 8, 16, 24, 32 … 64`);
    if (bufferSize === 0) return fail(C.XEN_EINVAL, 'buffer_sz must not be 0');
    if (bufferSize > this.#maxBytes)
      return fail(C.XEN_E2BIG, `buffer_sz ${bufferSize} is over this backend's limit of ${this.#maxBytes}`);
    // All factors are below 2^16 × 2^3 × 2^13 here: exact in doubles.
    const pitch = Math.ceil((width * bpp) / 8);
    const needed = dataOffset + pitch * height;
    if (dataOffset >= bufferSize || needed > bufferSize)
      return fail(
        C.XEN_EINVAL,
        `data_ofs ${dataOffset} + ${height} rows of ${pitch} bytes = ${needed} does not fit buffer_sz ${bufferSize}`,
      );
    const backendAllocated = (flags & C.DBUF_FLG_REQ_ALLOC) !== 0;
    if (backendAllocated && !this.#beAlloc)
      return fail(C.XEN_EOPNOTSUPP, 'backend allocation was asked for but is not offered (be-alloc)');
    return {
      cookie,
      width,
      height,
      bpp,
      size: bufferSize,
      dataOffset,
      pitch,
      pages: Math.ceil(bufferSize / C.PAGE_SIZE),
      backendAllocated,
    };
  }

  /**
   * Follows the directory chain for exactly the pages `pages` refs need; returns the directory pages' refs and
   * the buffer refs (frontend allocation), or a failure.
   */
  async readChain(
    first: number,
    pages: number,
    wantRefs: boolean,
  ): Promise<{ dirRefs: number[]; refs: Uint32Array } | Outcome> {
    const per = C.GREFS_PER_DIR_PAGE;
    const dirPages = Math.ceil(pages / per);
    const dirRefs: number[] = [];
    const refs = new Uint32Array(wantRefs ? pages : 0);
    let ref = first;
    for (let i = 0; i < dirPages; i++) {
      if (ref === 0)
        return fail(C.XEN_EINVAL, `the page directory ends after ${i} of ${dirPages} pages (gref 0)`);
      if (dirRefs.includes(ref)) return fail(C.XEN_EINVAL, `the page directory loops (gref ${ref} again)`);
      dirRefs.push(ref);
      let page: { next: number; refs: Uint32Array };
      try {
        page = await this.#io.readDirectory(ref);
      } catch (e) {
        return fail(C.XEN_EINVAL, `directory page gref ${ref} cannot be mapped: ${(e as Error).message}`);
      }
      if (wantRefs) {
        const n = Math.min(per, pages - i * per);
        refs.set(page.refs.subarray(0, n), i * per);
      }
      ref = page.next;
    }
    return { dirRefs, refs };
  }

  async #getEdid(connector: number, req: RawRequest): Promise<Outcome> {
    const size = req.bufferSize ?? 0;
    if (!this.#io.writeFrontendPages)
      return fail(C.XEN_EOPNOTSUPP, 'GET_EDID: this buffer path cannot write EDIDs');
    // The header: the buffer must hold XENDISPL_EDID_MAX_SIZE; only what one EDID needs is ever mapped.
    if (size < C.EDID_MAX_SIZE || size > this.#maxBytes)
      return fail(C.XEN_EINVAL, `GET_EDID buffer_sz ${size}: at least ${C.EDID_MAX_SIZE} bytes`);
    const conn = this.#connectors[connector]!;
    let edid: Uint8Array;
    try {
      edid = edidFor(conn.width, conn.height);
    } catch (e) {
      return fail(C.XEN_EINVAL, (e as Error).message);
    }
    const pages = Math.ceil(edid.length / C.PAGE_SIZE);
    const chain = await this.readChain(req.grefDirectory ?? 0, Math.ceil(size / C.PAGE_SIZE), true);
    if ('status' in chain) return chain;
    try {
      await this.#io.writeFrontendPages(chain.refs.subarray(0, pages), edid);
    } catch (e) {
      return fail(C.XEN_EINVAL, `the EDID buffer's grants cannot be mapped: ${(e as Error).message}`);
    }
    return { status: 0, edidSize: edid.length };
  }

  async #dbufCreate(req: RawRequest): Promise<Outcome> {
    const spec = this.checkDbuf(req);
    if ('status' in spec) return spec;
    const old = this.#dbufs.get(spec.cookie);
    if (old) {
      // A cookie comes back when the frontend gave up on an earlier create (timeout): the new one replaces it.
      const r = await this.#dbufDestroy(spec.cookie);
      if (r.status !== 0) return r;
    }
    if (this.#dbufs.size >= this.#maxBuffers)
      return fail(C.XEN_ENOSPC, `this frontend already has ${this.#dbufs.size} buffers`);
    const chain = await this.readChain(req.grefDirectory ?? 0, spec.pages, !spec.backendAllocated);
    if ('status' in chain) return chain;
    let buffer: B;
    if (spec.backendAllocated) {
      const a = await this.#io.allocate(spec).catch((e: Error) => e);
      if (a instanceof Error) return fail(C.XEN_ENOMEM, `allocation failed: ${a.message}`);
      buffer = a.buffer;
      try {
        const per = C.GREFS_PER_DIR_PAGE;
        for (let i = 0; i < chain.dirRefs.length; i++)
          await this.#io.writeDirectory(chain.dirRefs[i]!, a.refs.subarray(i * per, (i + 1) * per));
      } catch (e) {
        await this.#io.release(buffer).catch(() => {});
        return fail(C.XEN_EINVAL, `writing the directory failed: ${(e as Error).message}`);
      }
    } else {
      const m = await this.#io.map(spec, chain.refs).catch((e: Error) => e);
      if (m instanceof Error) return fail(C.XEN_EINVAL, `the buffer's grants cannot be mapped: ${m.message}`);
      buffer = m;
    }
    if (this.#closed) {
      await this.#io.release(buffer).catch(() => {});
      return fail(C.XEN_EIO, 'connection closed');
    }
    this.#dbufs.set(spec.cookie, { spec, buffer });
    return ok;
  }

  /** Stops showing anything that uses `pred` (output off), and waits for flips in flight first. */
  async #unshow(pred: (f: Frame<B>) => boolean): Promise<void> {
    for (let i = 0; i < this.#shown.length; i++) {
      const f = this.#shown[i];
      if (f && pred(f)) {
        await this.#flips[i]!.catch(() => {});
        this.#shown[i] = undefined;
        await this.#outputs[i]!.show(undefined);
      }
    }
  }

  async #dbufDestroy(cookie: bigint): Promise<Outcome> {
    const d = this.#dbufs.get(cookie);
    if (!d) return fail(C.XEN_ENOENT, `no display buffer ${cookie}`);
    // With frontend allocation the frontend ends its grants right after our reply: nothing may map them then.
    // A flip still queued or on its way to the display may use this buffer even when the shown frame (the
    // newest flip) does not: a Linux frontend that gave up waiting for a late flip event destroys its buffers
    // while our flips to them are still in flight. Every connector's flips end before the buffer goes.
    await Promise.all(this.#flips.map((p) => p.catch(() => {})));
    await this.#unshow((f) => f.dbuf === d);
    for (const [k, fb] of this.#fbs) if (fb.dbufCookie === cookie) this.#fbs.delete(k);
    this.#dbufs.delete(cookie);
    await this.#io.release(d.buffer);
    return ok;
  }

  #fbAttach(connector: number, req: RawRequest): Outcome {
    const fbCookie = req.fbCookie!;
    const dbufCookie = req.dbufCookie!;
    const { width = 0, height = 0, pixelFormat = 0 } = req;
    if (fbCookie === 0n) return fail(C.XEN_EINVAL, 'fb_cookie 0 is invalid');
    if (this.#fbs.has(fbCookie)) return fail(C.XEN_EEXIST, `framebuffer ${fbCookie} exists`);
    const d = this.#dbufs.get(dbufCookie);
    if (!d) return fail(C.XEN_ENOENT, `no display buffer ${dbufCookie}`);
    const layout = formatLayout(pixelFormat);
    if (!layout || layout.cpp.length !== 1 || layout.hsub !== 1)
      return fail(C.XEN_EOPNOTSUPP, `pixel format 0x${pixelFormat.toString(16)} is not a packed RGB format`);
    if (!this.#outputs[connector]!.formats.has(pixelFormat))
      return fail(C.XEN_EOPNOTSUPP, `the display cannot show pixel format 0x${pixelFormat.toString(16)}`);
    const cpp = layout.cpp[0]!;
    if (cpp * 8 !== d.spec.bpp)
      return fail(C.XEN_EINVAL, `format has ${cpp * 8} bits per pixel, the buffer ${d.spec.bpp}`);
    if (width === 0 || height === 0 || width > d.spec.width || height > d.spec.height)
      return fail(
        C.XEN_EINVAL,
        `${width}x${height} does not fit the buffer's ${d.spec.width}x${d.spec.height}`,
      );
    this.#fbs.set(fbCookie, { cookie: fbCookie, dbufCookie, width, height, format: pixelFormat, cpp });
    return ok;
  }

  async #fbDetach(cookie: bigint): Promise<Outcome> {
    if (!this.#fbs.has(cookie)) return fail(C.XEN_ENOENT, `no framebuffer ${cookie}`);
    await this.#unshow((f) => f.fb.cookie === cookie);
    this.#fbs.delete(cookie);
    return ok;
  }

  #frame(fbCookie: bigint, x: number, y: number, width: number, height: number): Frame<B> | Outcome {
    const fb = this.#fbs.get(fbCookie);
    if (!fb) return fail(C.XEN_ENOENT, `no framebuffer ${fbCookie}`);
    const dbuf = this.#dbufs.get(fb.dbufCookie);
    if (!dbuf) return fail(C.XEN_ENOENT, `framebuffer ${fbCookie} lost its display buffer`);
    return { fb, dbuf, x, y, width, height };
  }

  async #setConfig(connector: number, req: RawRequest): Promise<Outcome> {
    const { x = 0, y = 0, width = 0, height = 0, bpp = 0 } = req;
    const cookie = req.fbCookie!;
    const out = this.#outputs[connector]!;
    if (cookie === 0n && x === 0 && y === 0 && width === 0 && height === 0 && bpp === 0) {
      await this.#flips[connector]!.catch(() => {});
      this.#shown[connector] = undefined;
      await out.show(undefined);
      return ok;
    }
    const conn = this.#connectors[connector]!;
    if (width === 0 || height === 0) return fail(C.XEN_EINVAL, 'width and height must not be 0');
    if (x + width > conn.width || y + height > conn.height)
      return fail(
        C.XEN_EINVAL,
        `${width}x${height}+${x}+${y} exceeds the connector's ${conn.width}x${conn.height}`,
      );
    const f = this.#frame(cookie, x, y, width, height);
    if ('status' in f) return f;
    if (bpp !== f.fb.cpp * 8)
      return fail(C.XEN_EINVAL, `bpp ${bpp} differs from the framebuffer's ${f.fb.cpp * 8}`);
    if (width > f.fb.width || height > f.fb.height)
      return fail(
        C.XEN_EINVAL,
        `${width}x${height} is larger than the framebuffer's ${f.fb.width}x${f.fb.height}`,
      );
    await this.#flips[connector]!.catch(() => {});
    await out.show(f);
    this.#shown[connector] = f;
    return ok;
  }

  #pageFlip(connector: number, cookie: bigint): Outcome {
    const cur = this.#shown[connector];
    if (!cur) return fail(C.XEN_EINVAL, 'page flip on a connector that shows nothing (no SET_CONFIG)');
    const f = this.#frame(cookie, cur.x, cur.y, cur.width, cur.height);
    if ('status' in f) return f;
    if (f.fb.format !== cur.fb.format || f.fb.width < cur.width || f.fb.height < cur.height)
      return fail(C.XEN_EINVAL, 'page flip to a framebuffer of another format or a smaller size');
    // Linux waits for each flip's event before the next; a frontend that does not cannot queue without bound.
    if (this.#pending[connector]! >= MAX_PENDING_FLIPS)
      return fail(C.XEN_EBUSY, `${MAX_PENDING_FLIPS} flips are already waiting for the display`);
    const out = this.#outputs[connector]!;
    this.#pending[connector]!++;
    const flip = async (): Promise<bigint> => {
      try {
        await out.flip(f);
      } finally {
        this.#pending[connector]!--;
      }
      return cookie;
    };
    // Flips on a connector run in order; the shown frame is the new one from now on (what the next flip
    // compares with, and what a DESTROY of its buffer must take off the display first).
    const run = this.#flips[connector]!.catch(() => {}).then(flip);
    this.#flips[connector] = run.catch(() => {});
    this.#shown[connector] = f;
    return { status: 0, flip: () => run };
  }

  /** Ends the connection: outputs off, every buffer released. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#flips.map((p) => p.catch(() => {})));
    for (let i = 0; i < this.#outputs.length; i++) {
      this.#shown[i] = undefined;
      await Promise.resolve(this.#outputs[i]!.close()).catch(() => {});
    }
    this.#fbs.clear();
    for (const d of this.#dbufs.values()) await this.#io.release(d.buffer).catch(() => {});
    this.#dbufs.clear();
  }
}
