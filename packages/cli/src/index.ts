// @zcopy/cli as a library: the doctor's checks and its report.

export { archNotes } from './arch.js';
export { type Io, main } from './cli.js';
export { type DoctorOptions, doctor } from './doctor.js';
export { formatReport } from './format.js';
export { type KernelConfig, type OptionState, parseKernelConfig, readKernelConfig } from './kconfig.js';
export {
  type ArchNote,
  type Check,
  type CheckGroup,
  type DrmCheckDetails,
  REPORT_SCHEMA,
  type Reason,
  type ReasonCode,
  type Report,
  type XenInfo,
} from './report.js';
