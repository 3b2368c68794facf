// Where Linux puts the Xen interfaces: the device nodes under /dev/xen (one directory, as Xen's own libraries
// share one DEVXEN), xenstored's socket in dom0, xenfs and the hypervisor's sysfs facts.

/** The directory of the Xen device nodes. */
export const DEVXEN = '/dev/xen';
/** Grant mapping and gntdev dma-buf (CONFIG_XEN_GNTDEV). */
export const GNTDEV_PATH = `${DEVXEN}/gntdev`;
/** Grant allocation (CONFIG_XEN_GRANT_DEV_ALLOC). */
export const GNTALLOC_PATH = `${DEVXEN}/gntalloc`;
/** Event channels (CONFIG_XEN_DEV_EVTCHN). */
export const EVTCHN_PATH = `${DEVXEN}/evtchn`;
/** XenStore through the kernel (any domain). */
export const XENBUS_PATH = `${DEVXEN}/xenbus`;
/** xenstored's socket (dom0). */
export const XENSTORED_SOCKET = '/run/xenstored/socket';
/** xenfs: 'control_d' in it marks the control domain. */
export const CAPABILITIES_PATH = '/proc/xen/capabilities';
/** CONFIG_XEN_SYS_HYPERVISOR: 'PV', 'PVH', 'HVM' (x86) or 'Xen' (Arm). */
export const GUEST_TYPE_PATH = '/sys/hypervisor/guest_type';
