// memfd and eventfd: the fd kinds the other packages (udmabuf, tests) build on.
import { fstatSync, ftruncateSync, readSync, writeSync } from 'node:fs';
import { type WaitOptions, waitReadable } from './async.js';
import { KernelError } from './errors.js';
import { FdObject } from './fd.js';
import { type MapOptions, Mapping } from './memory.js';
import { native } from './native.js';

export type Seal = 'seal' | 'shrink' | 'grow' | 'write';

const sealBits: Record<Seal, number> = {
  seal: native.constants.F_SEAL_SEAL,
  shrink: native.constants.F_SEAL_SHRINK,
  grow: native.constants.F_SEAL_GROW,
  write: native.constants.F_SEAL_WRITE,
};

function sealMask(seals: readonly Seal[]): number {
  if (!Array.isArray(seals)) throw new TypeError('seals must be an array of seal names');
  let mask = 0;
  for (const s of seals as readonly Seal[]) {
    const bit = sealBits[s];
    if (bit === undefined)
      throw new TypeError(`unknown seal '${String(s)}' (expected ${Object.keys(sealBits).join(', ')})`);
    mask |= bit;
  }
  return mask;
}

// Node's fs errors carry errno as a negative number; make them KernelErrors like the rest.
function fsCall<T>(syscall: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.errno === 'number') throw new KernelError({ errno: Math.abs(err.errno), syscall });
    throw e;
  }
}

export interface MemfdOptions {
  /** ftruncate to this size after creating. */
  size?: number;
  /** MFD_ALLOW_SEALING (default true: udmabuf needs F_SEAL_SHRINK). */
  allowSealing?: boolean;
  /** Seals to add after sizing. */
  seals?: Seal[];
}

export class Memfd extends FdObject {
  static create(name = 'zcopy', options: MemfdOptions = {}): Memfd {
    if (typeof name !== 'string') throw new TypeError('name must be a string');
    const { size, allowSealing = true, seals } = options;
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0))
      throw new RangeError(`size must be a non-negative integer, got ${size}`);
    const mask = seals ? sealMask(seals) : 0;
    const m = new Memfd(native.memfdCreate(name, allowSealing ? native.constants.MFD_ALLOW_SEALING : 0), {
      owned: true,
    });
    try {
      if (size !== undefined) m.truncate(size);
      if (mask) native.addSeals(m.fd, mask);
    } catch (e) {
      m.close();
      throw e;
    }
    return m;
  }

  get size(): number {
    return fstatSync(this.fd).size;
  }

  truncate(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0)
      throw new RangeError(`size must be a non-negative integer, got ${size}`);
    fsCall('ftruncate', () => ftruncateSync(this.fd, size));
  }

  addSeals(seals: Seal[]): void {
    native.addSeals(this.fd, sealMask(seals));
  }

  get seals(): Seal[] {
    const mask = native.getSeals(this.fd);
    return (Object.keys(sealBits) as Seal[]).filter((s) => mask & sealBits[s]);
  }

  map(options: MapOptions & { length?: number } = {}): Mapping {
    return Mapping.map(this, options.length ?? this.size, options);
  }
}

export interface EventFdOptions {
  /** O_NONBLOCK (default true: read() of a zero counter throws EAGAIN instead of blocking the event loop). */
  nonblocking?: boolean;
  semaphore?: boolean;
}

export class EventFd extends FdObject {
  static create(initval = 0, options: EventFdOptions = {}): EventFd {
    if (!Number.isInteger(initval) || initval < 0 || initval > 0xffffffff)
      throw new RangeError(`initval must be a 32-bit unsigned integer, got ${initval}`);
    const { nonblocking = true, semaphore = false } = options;
    const flags =
      (nonblocking ? native.constants.EFD_NONBLOCK : 0) | (semaphore ? native.constants.EFD_SEMAPHORE : 0);
    return new EventFd(native.eventfd(initval, flags), { owned: true });
  }

  /** Adds `n` to the counter. */
  write(n: number | bigint = 1n): void {
    const v = BigInt(n);
    if (v <= 0n || v >= 0xffffffffffffffffn) throw new RangeError('n must be within 1..2^64-2');
    const buf = Buffer.alloc(8);
    buf.writeBigUInt64LE(v);
    fsCall('write', () => writeSync(this.fd, buf));
  }

  /** Reads and resets the counter (or takes 1 in semaphore mode). */
  read(): bigint {
    const buf = Buffer.alloc(8);
    fsCall('read', () => readSync(this.fd, buf, 0, 8, null));
    return buf.readBigUInt64LE();
  }

  /** Resolves once the counter is non-zero. */
  wait(options?: WaitOptions): Promise<number> {
    return waitReadable(this, options);
  }
}
