import { readdirSync, readlinkSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type KernelError, WrongFdError } from '@zcopy/core';
import { expect } from 'vitest';

/** Open fds of this process, as the kernel counts them. */
export function procFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** The KernelError `fn` throws (fails the test if it throws anything else or nothing). */
export function kernelError(fn: () => unknown): KernelError {
  try {
    fn();
  } catch (e) {
    // By name: native code raises the KernelError class of the first @zcopy/core module loaded in the process,
    // and vitest gives each test file its own module instances.
    expect((e as Error).name, String(e)).toBe('KernelError');
    expect((e as KernelError).errno).toBeTypeOf('number');
    return e as KernelError;
  }
  throw new Error('expected a KernelError, nothing was thrown');
}

/** Fds of this process that are dma-bufs (their /proc/self/fd link names the dmabuf filesystem). */
export function dmaBufFdCount(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('/dmabuf:')) n++;
    } catch {
      // closed while listing (the readdir's own fd)
    }
  }
  return n;
}

/** Runs the garbage collector a few times, letting finalizers run in between. */
export async function collectGarbage(rounds = 5): Promise<void> {
  // --expose-gc at run time (the flag only takes effect for contexts created after it is set).
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < rounds; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The WrongFdError fn throws (an fd of the wrong kind refused at open/adopt/borrow/dup). */
export function wrongFd(fn: () => unknown): WrongFdError {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(WrongFdError);
    expect(e).toBeInstanceOf(TypeError);
    return e as WrongFdError;
  }
  throw new Error('expected a WrongFdError, nothing was thrown');
}
