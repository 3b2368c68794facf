// Atomic commits: a builder of (object, property, value) triples, property names resolved to ids from the
// device's read-out, packed into drm_mode_atomic's arrays natively. Blocking commits run on the threadpool (they
// wait for the hardware); nonblocking ones return at once and, with pageFlipEvent, settle on the flip event.
import type { FdObject, WaitOptions } from '@zcopy/core';
import {
  abortReason,
  adoptAllOrClose,
  checkWaitOptions,
  registerHints,
  runBlocking,
} from '@zcopy/core/internal';
import type { SyncFile } from '@zcopy/dma-fence';
import { syncFileOfNewFd } from '@zcopy/dma-fence/internal';
import type { FlipEvent } from './events.js';
import { binding } from './native.js';

registerHints('DRM_IOCTL_MODE_ATOMIC', {
  EBUSY:
    'a nonblocking commit may not overtake the previous commit on the same CRTC: await its page-flip event ' +
    '(or commit without nonblock, which waits)',
  EINVAL:
    'the kernel refused the configuration: an unknown property for the object, a value out of range, a ' +
    'mode change without allowModeset, a plane or connector on a CRTC it cannot use, a framebuffer that does not ' +
    'fit the plane (the primary plane must cover the whole mode), a writeback framebuffer not the mode size, or ' +
    'a framebuffer the driver cannot map for the CPU (vkms composes in software: an imported dma-buf whose ' +
    'exporter has no vmap, such as a gntdev export from grant refs on upstream Linux)',
  EACCES: 'atomic commits need the DRM master: another fd (this or another process) holds master of the card',
  ENOENT: 'an object id (CRTC, plane, connector, framebuffer, blob) does not exist on this device',
  ERANGE: 'a property value is out of the property range',
  EOPNOTSUPP: 'this driver has no atomic modesetting, or DRM_CLIENT_CAP_ATOMIC is not set on this fd',
  ENOSPC:
    'a plane source rectangle lies outside its framebuffer (it must be at least the size it is shown at)',
  EDEADLK: 'the kernel could not take its locks (retry)',
});

/** Anything with a KMS object id: a Crtc, Plane, Connector (resources), a Framebuffer, a PropertyBlob. */
export type KmsObjectRef = number | { readonly id: number };
/** A property value: integers (negative ones for signed ranges), booleans, objects by id, null for 0. */
export type PropertyInput = number | bigint | boolean | null | { readonly id: number };

export interface CommitOptions extends WaitOptions {
  /** DRM_MODE_ATOMIC_ALLOW_MODESET: a mode, routing or enable change may happen. */
  allowModeset?: boolean;
  /** DRM_MODE_ATOMIC_TEST_ONLY: check only, change nothing (no events, no fences). */
  testOnly?: boolean;
  /** DRM_MODE_ATOMIC_NONBLOCK: return at once; the commit completes on a later vblank. */
  nonblock?: boolean;
  /** DRM_MODE_PAGE_FLIP_EVENT: the returned promise waits for the flip event of every CRTC in the commit. */
  pageFlipEvent?: boolean;
}

export interface CommitResult {
  /** Out-fences, in the order they were requested with outFence(); each SyncFile is the caller's to close. */
  fences: SyncFile[];
  /** With pageFlipEvent: one event per CRTC of the commit. */
  events: FlipEvent[];
}

/** What a request needs of its device. */
export interface AtomicHost {
  readonly fd: number;
  /** @internal Property id by name: RangeError when the object has none by that name. */
  propertyId(objId: number, name: string): number;
  /** @internal CRTCs a commit's flip events will come from. */
  crtcsOf(request: AtomicRequest): Set<number>;
  /** @internal */
  nextUserData(): number;
  /** @internal */
  expectFlip(userData: number, crtcs: Set<number>, options: WaitOptions): Promise<FlipEvent[]>;
  /**
   * @internal The object that owns the fd: a blocking commit runs on the threadpool pinned to it (its fd stays
   * open until the commit returns), and its close settles the commit's promise.
   */
  readonly fdOwner: FdObject;
}

export function objectId(ref: KmsObjectRef, what = 'object'): number {
  const id = typeof ref === 'number' ? ref : ref !== null && typeof ref === 'object' ? ref.id : undefined;
  if (typeof id !== 'number' || !Number.isInteger(id))
    throw new TypeError(`${what} must be a KMS object id or an object with an id, got ${String(ref)}`);
  if (id <= 0 || id > 0xffff_ffff) throw new RangeError(`${what} id must be a positive u32, got ${id}`);
  return id;
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const S64_MIN = -(1n << 63n);

/** A property value as the kernel's u64 (two's complement for negatives). */
export function propertyValue(value: PropertyInput, what = 'value'): bigint {
  if (value === null) return 0n;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`${what} must be a safe integer, got ${value}`);
    return BigInt.asUintN(64, BigInt(value));
  }
  if (typeof value === 'bigint') {
    if (value < S64_MIN || value > U64_MAX) throw new RangeError(`${what} does not fit in 64 bits: ${value}`);
    return BigInt.asUintN(64, value);
  }
  if (typeof value === 'object') return BigInt(objectId(value, what));
  throw new TypeError(`${what} must be a number, bigint, boolean, null or an object with an id`);
}

function flag(v: unknown, name: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean`);
  return v;
}

export class AtomicRequest {
  readonly #host: AtomicHost;
  // Insertion-ordered: objects in the order first set, each with its properties (a later set replaces).
  readonly #objects = new Map<number, Map<number, bigint>>();
  readonly #names = new Map<number, Map<number, string>>();
  readonly #fences: { objId: number; propId: number }[] = [];

  /** @internal Made by KmsDevice.atomic(). */
  constructor(host: AtomicHost) {
    this.#host = host;
  }

  /** Sets `name` (e.g. 'FB_ID', 'CRTC_ID', 'MODE_ID', 'ACTIVE') of `object` to `value`. */
  set(object: KmsObjectRef, name: string, value: PropertyInput): this {
    const objId = objectId(object);
    if (typeof name !== 'string' || name.length === 0)
      throw new TypeError('property name must be a non-empty string');
    const v = propertyValue(value, `value of ${name}`);
    if (/OUT_FENCE_PTR$/.test(name))
      throw new TypeError(
        `${name} takes a pointer the kernel writes a fence fd to: use outFence(object) instead`,
      );
    const propId = this.#host.propertyId(objId, name);
    this.#props(objId).set(propId, v);
    this.#names.get(objId)!.set(propId, name);
    return this;
  }

  /**
   * Asks for an out-fence: WRITEBACK_OUT_FENCE_PTR of a writeback connector (signalled when the writeback is
   * written), or OUT_FENCE_PTR of a CRTC (signalled when the commit is on screen). The commit's result holds it.
   */
  outFence(object: KmsObjectRef, name?: string): this {
    const objId = objectId(object);
    let propId: number;
    if (name !== undefined) {
      if (typeof name !== 'string') throw new TypeError('property name must be a string');
      propId = this.#host.propertyId(objId, name);
    } else {
      try {
        propId = this.#host.propertyId(objId, 'WRITEBACK_OUT_FENCE_PTR');
      } catch {
        propId = this.#host.propertyId(objId, 'OUT_FENCE_PTR');
      }
    }
    this.#props(objId).set(propId, 0n);
    if (!this.#fences.some((f) => f.objId === objId && f.propId === propId))
      this.#fences.push({ objId, propId });
    return this;
  }

  /** The objects and property names set so far (for inspection and tests). */
  entries(): { objectId: number; property: string; value: bigint }[] {
    const out: { objectId: number; property: string; value: bigint }[] = [];
    for (const [objId, props] of this.#objects)
      for (const [propId, value] of props)
        out.push({ objectId: objId, property: this.#names.get(objId)?.get(propId) ?? String(propId), value });
    return out;
  }

  /** @internal Values set for a property name on an object. */
  valueOf(objId: number, name: string): bigint | undefined {
    const names = this.#names.get(objId);
    if (!names) return undefined;
    for (const [propId, n] of names) if (n === name) return this.#objects.get(objId)?.get(propId);
    return undefined;
  }

  /** Object ids in the request. */
  get objectIds(): number[] {
    return [...this.#objects.keys()];
  }

  /** TEST_ONLY: would the kernel accept this? Resolves true, or false with the KernelError as `reason`. */
  async test(options: { allowModeset?: boolean } = {}): Promise<{ ok: boolean; reason?: Error }> {
    try {
      await this.commit({ allowModeset: options.allowModeset, testOnly: true });
      return { ok: true };
    } catch (e) {
      if (e instanceof Error && e.name === 'KernelError') return { ok: false, reason: e };
      throw e;
    }
  }

  /** DRM_IOCTL_MODE_ATOMIC. Errors are KernelErrors naming the rule (EBUSY, EINVAL, EACCES…). */
  async commit(options: CommitOptions = {}): Promise<CommitResult> {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const allowModeset = flag(options.allowModeset, 'allowModeset');
    const testOnly = flag(options.testOnly, 'testOnly');
    const nonblock = flag(options.nonblock, 'nonblock');
    const pageFlipEvent = flag(options.pageFlipEvent, 'pageFlipEvent');
    if (testOnly && pageFlipEvent) throw new TypeError('a testOnly commit has no page-flip event');
    if (this.#objects.size === 0 && pageFlipEvent) throw new TypeError('an empty commit has no CRTC to flip');
    const A = binding.atomicFlags;
    const flags =
      (allowModeset ? A.ATOMIC_ALLOW_MODESET : 0) |
      (testOnly ? A.ATOMIC_TEST_ONLY : 0) |
      (nonblock ? A.ATOMIC_NONBLOCK : 0) |
      (pageFlipEvent ? A.PAGE_FLIP_EVENT : 0);
    const waitOptions = checkWaitOptions({ timeoutMs: options.timeoutMs, signal: options.signal });
    // An already-aborted wait must not commit anything.
    if (waitOptions.signal?.aborted) throw abortReason(waitOptions.signal);
    const crtcs = pageFlipEvent ? this.#host.crtcsOf(this) : new Set<number>();

    const { objs, counts, props, values, fenceSlots } = this.#pack();
    const userData = pageFlipEvent ? this.#host.nextUserData() : 0;
    const fd = this.#host.fd;
    let fds: number[];
    if (testOnly || nonblock) {
      fds = binding.atomicCommit(fd, flags, objs, counts, props, values, fenceSlots, userData);
    } else {
      fds = await runBlocking(
        () => binding.atomicCommitBlocking(fd, flags, objs, counts, props, values, fenceSlots, userData),
        {
          owner: this.#host.fdOwner,
          what: 'atomic commit',
          // The kernel finishes the commit even when nobody waits any more: its fences are closed, not leaked.
          late: (fds) => {
            for (const f of adoptAllOrClose(fds, syncFileOfNewFd)) f.close();
          },
        },
      );
    }
    const fences = adoptFences(fds);
    if (!pageFlipEvent) return { fences, events: [] };
    try {
      const events = await this.#host.expectFlip(userData, crtcs, waitOptions);
      return { fences, events };
    } catch (e) {
      for (const f of fences) f.close();
      throw e;
    }
  }

  #props(objId: number): Map<number, bigint> {
    let m = this.#objects.get(objId);
    if (!m) {
      m = new Map();
      this.#objects.set(objId, m);
      this.#names.set(objId, new Map());
    }
    return m;
  }

  #pack() {
    const objs = new Uint32Array(this.#objects.size);
    const counts = new Uint32Array(this.#objects.size);
    let total = 0;
    for (const m of this.#objects.values()) total += m.size;
    const props = new Uint32Array(total);
    const values = new BigUint64Array(total);
    let o = 0;
    let k = 0;
    for (const [objId, m] of this.#objects) {
      objs[o] = objId;
      counts[o++] = m.size;
      for (const [propId, v] of m) {
        props[k] = propId;
        values[k++] = v;
      }
    }
    // The value index of each out-fence property, in outFence() order (the order the fds come back in).
    const fenceSlots = new Uint32Array(this.#fences.length);
    this.#fences.forEach((f, i) => {
      let idx = 0;
      for (const [objId, m] of this.#objects) {
        for (const propId of m.keys()) {
          if (objId === f.objId && propId === f.propId) fenceSlots[i] = idx;
          idx++;
        }
      }
    });
    return { objs, counts, props, values, fenceSlots };
  }
}

/**
 * Out-fence fds the kernel just wrote into OUT_FENCE_PTR, each owned at once (all closed again if one cannot
 * be). The atomic ioctl vouches that they are sync_files: no probe as SyncFile.adopt() makes for a foreign fd.
 */
function adoptFences(fds: number[]): SyncFile[] {
  return adoptAllOrClose(fds, syncFileOfNewFd);
}
