export { XenStoreError } from './errors.js';
export {
  JSON_PART_BYTES,
  JsonChannel,
  type JsonReply,
  jsonMessageIds,
  outcome,
  readJson,
  removeJson,
  type WaitJsonOptions,
  waitJson,
  writeJson,
} from './json.js';
export { type WatchEvent, XenStoreWatch } from './watch.js';
export type { XenStoreAccess, XenStorePermission } from './wire.js';
export {
  type RequestOptions,
  type Transport,
  XENBUS_DEVICE,
  XENSTORED_SOCKET,
  XenStore,
  type XenStoreOptions,
  XenStoreTransaction,
} from './xenstore.js';
