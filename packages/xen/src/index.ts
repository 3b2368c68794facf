// @zcopy/xen: the plumbing the Xen packages (grant-table, gntdev-dmabuf, xen-evtchn, xenstore, the CLI) share.
// The domU launcher for dom0 is '@zcopy/xen/domu'.
export { checkDomid, checkRefs, DOMID_FIRST_RESERVED, DOMID_SELF, type DomidRule } from './checks.js';
export { guestType, isDom0, xenCapabilities } from './domain.js';
export {
  CAPABILITIES_PATH,
  DEVXEN,
  EVTCHN_PATH,
  GNTALLOC_PATH,
  GNTDEV_PATH,
  GUEST_TYPE_PATH,
  XENBUS_PATH,
  XENSTORED_SOCKET,
} from './paths.js';
