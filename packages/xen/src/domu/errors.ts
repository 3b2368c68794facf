// Errors of the domU launcher, each with a `code` (this package stands apart from @zcopy/core).

/**
 * A domU that could not be launched or did not finish: `code` says which ('ERR_ZCOPY_DOMU_ENV': not in a zcopy
 * Xen job, 'ERR_ZCOPY_DOMU_CREATE': xl create failed, 'ERR_ZCOPY_DOMU_TIMEOUT', 'ERR_ZCOPY_DOMU_NOT_READY').
 */
export class DomUError extends Error {
  override name = 'DomUError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
