// KernelErrors with this package's hints, whichever copy of @zcopy/core built them.
// A process can hold more than one copy of @zcopy/core (two versions in a dependency tree, or a test runner that
// reloads modules per file); native code raises the KernelError class, and consults the hint table, of the copy
// that registered first. So: recognise KernelErrors by their fields, and rebuild them here with the hint.
import { KernelError } from '@zcopy/core';

export type Hints = Readonly<Record<string, string>>;

export function isKernelError(e: unknown): e is KernelError {
  return e instanceof Error && e.name === 'KernelError' && typeof (e as KernelError).errno === 'number';
}

/** Runs fn; a KernelError whose code has a hint is rethrown as this copy's KernelError with that hint. */
export function withHints<T>(hints: Hints, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const hint = isKernelError(e) ? hints[e.code] : undefined;
    if (hint === undefined) throw e;
    const k = e as KernelError;
    throw new KernelError({ errno: k.errno, syscall: k.syscall, request: k.request, path: k.path, hint });
  }
}
