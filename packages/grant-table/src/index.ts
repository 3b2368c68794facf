export type { UnmapNotifyOptions } from './checks.js';
export {
  GNTST,
  type GrantCopySegment,
  type GrantSide,
  type GrantStatus,
  grantStatusName,
  type LocalSide,
  pageCopySegments,
} from './copy.js';
export { GNTALLOC_LIMIT_PATH, GNTDEV_LIMIT_PATH } from './hints.js';
export {
  GNTDEV_PATH,
  type GrantAccess,
  GrantCopyPlan,
  GrantMapper,
  GrantMapping,
  type MapGrantsOptions,
} from './mapper.js';
export { GNTALLOC_PATH, GrantSharer, SharedGrants, type ShareOptions } from './sharer.js';
