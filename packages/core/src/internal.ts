// @zcopy/core/internal: for the authors of zcopy addon packages, not for their users (the raw addon and the
// plumbing every package builds on). Kept apart from '@zcopy/core' so that users see only the typed API.
export {
  type BlockingOptions,
  checkWaitOptions,
  Pump,
  type PumpSpec,
  type RunBlockingOptions,
  runBlocking,
} from './async.js';
export { type Closable, CloseNotifier } from './closer.js';
export {
  abortReason,
  type Hint,
  type HintInput,
  registerHints,
  withErrorContext,
} from './errors.js';
export { adoptAllOrClose, adoptOrClose, closableOf, onceClosed, pin } from './fd.js';
export { checkCharDevice, checkFdKind } from './fd-kind.js';
export { loadBinding } from './load-binding.js';
export { type BlockingHandle, type CoreBinding, native } from './native.js';
export { type Waiter, type WaitOptions, type WaitSpec, waitFor } from './wait.js';
