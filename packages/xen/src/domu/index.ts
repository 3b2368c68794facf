// @zcopy/xen/domu: boot a Linux domU from dom0 that runs one command with some Node packages, and read its
// result from the console (see launch.ts for the protocol).
export { CpioWriter } from './cpio.js';
export { DomUError } from './errors.js';
export {
  type BootOptions,
  bootDomU,
  CONSOLE_LOG_DIR,
  checkDomUType,
  DomainGoneError,
  DomU,
  type DomUOptions,
  type DomUResult,
  type DomUType,
  defaultDomUType,
  domainEnd,
  isDeath,
  jobScript,
  parseConsole,
  START_MARKER,
  STATE_DIR,
  shellQuote,
  startDomU,
  XL_LOG_DIR,
  xlConfig,
} from './launch.js';
export { packageClosure } from './packages.js';
