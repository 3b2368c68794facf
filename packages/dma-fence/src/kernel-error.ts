// KernelErrors from this package are this copy of @zcopy/core's KernelError, with this package's hints.
// A process can hold several copies of @zcopy/core (two versions in a dependency tree, or a test runner that
// reloads modules per file); native code raises the class, and reads the hint table, of the copy that
// registered first. So errors from our binding are recognised by their fields and rebuilt here.
import { KernelError } from '@zcopy/core';

export function isKernelError(e: unknown): e is KernelError {
  return e instanceof Error && e.name === 'KernelError' && typeof (e as KernelError).errno === 'number';
}

/** `e` as this copy's KernelError (hints from this copy's table); anything else unchanged. */
export function ownKernelError(e: unknown): unknown {
  if (e instanceof KernelError || !isKernelError(e)) return e;
  return new KernelError({ errno: e.errno, syscall: e.syscall, request: e.request, path: e.path });
}

/** The same object with every function rethrowing through ownKernelError. */
export function withOwnErrors<T extends object>(raw: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    out[key] =
      typeof value === 'function'
        ? (...args: unknown[]) => {
            try {
              return value(...args);
            } catch (e) {
              throw ownKernelError(e);
            }
          }
        : value;
  }
  return out as T;
}
