export {
  type BackendOptions,
  type DeviceInfo,
  type DeviceServices,
  type DeviceStats,
  mappedBuffers,
  PvDisplayBackend,
  type ServiceContext,
  XenbusState,
} from './backend.js';
export { type CopyBackendOptions, startCopyBackend } from './copy-path.js';
export {
  type ExportBackendOptions,
  type ExportedBuffer,
  exportedBuffers,
  startExportBackend,
} from './export-path.js';
export { DISPLAY_FLIP_LIMIT_MS, DisplayArbiter, HeadlessOutput, KmsCopyOutput } from './kms-output.js';
export {
  binding as displifBinding,
  C as displif,
  type RawEvent,
  type RawRequest,
  type RawResponse,
} from './native.js';
export {
  type BufferIo,
  type ConnectorConfig,
  type ConnectorOutput,
  type Dbuf,
  type DbufSpec,
  DisplayEngine,
  type EngineLimits,
  type FbInfo,
  type Frame,
  type Outcome,
  operationName,
} from './protocol.js';
export { type ModetestReferenceOptions, modetestReference, pollUntil } from './reference.js';
export { ConnectorRings, type RingPorts } from './rings.js';
export type { ScanoutBuffer } from './zero-copy.js';
export {
  type GrantedDumb,
  grantedDumbBuffers,
  KmsDirectOutput,
  startBackendAllocBackend,
  type ZeroCopyBackendOptions,
} from './zero-copy.js';
