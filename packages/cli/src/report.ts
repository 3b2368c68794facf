// The doctor's report: the shape `zcopy doctor --json` prints (documented in the README; version it on change).

/** Bumped on any incompatible change of the JSON shape. */
export const REPORT_SCHEMA = 'zcopy-doctor/1';

export type CheckGroup = 'xen' | 'dma-buf' | 'fence' | 'drm';

/** Why an interface is not usable. Stable strings: scripts switch on them. */
export type ReasonCode =
  /** The running kernel was built without an option it needs (`config` names them). */
  | 'kernel-config'
  /** The option is a module (=m) that is not loaded: `modprobe` it. */
  | 'module-not-loaded'
  /** The device node is not there although nothing above explains it (devtmpfs, udev rules, a driver not bound). */
  | 'node-absent'
  /** A Xen interface on a machine that is not a Xen domain. */
  | 'not-xen'
  /** The Xen domain type rules it out (gntdev dma-buf export needs an auto-translated domain: PVH/HVM). */
  | 'xen-domain-type'
  /** The interface lives in debugfs, which is not mounted. */
  | 'debugfs-not-mounted'
  /** The node exists, but this user may not open it (EACCES/EPERM). */
  | 'permission-denied'
  /** The node exists, but no driver answers it (ENXIO/ENODEV). */
  | 'no-driver'
  /** Opening failed otherwise (`errno` says how). */
  | 'open-failed'
  /** Nothing tells whether the kernel has it (no kernel config, no node to probe). */
  | 'unknown'
  /** zcopy itself could not run the probe (e.g. a native addon failed to load); `message` has the error. */
  | 'internal';

export interface Reason {
  code: ReasonCode;
  /** One sentence for a person. */
  message: string;
  /** The CONFIG_ options at fault (kernel-config: not set; module-not-loaded: =m); else []. */
  config: string[];
  /** The errno name of a failed open or stat (permission-denied, no-driver, open-failed); else null. */
  errno: string | null;
}

export interface DrmCheckDetails {
  driver: string;
  /** 'major.minor.patchlevel'. */
  version: string;
  date: string;
  desc: string;
  nodeType: 'primary' | 'render' | 'control';
  bus: { subsystem: string; id: string; pciSlot: string | null; pciId: string | null } | null;
  prime: { import: boolean; export: boolean } | null;
  /** DRM_CAP_DUMB_BUFFER; null where the driver does not answer it (no modesetting, e.g. vgem). */
  dumbBuffer: boolean | null;
  /** DRM_CAP_SYNCOBJ; null if not answered. */
  syncobj: boolean | null;
}

export interface Check {
  /** 'gntdev', 'gntdev-dmabuf', 'gntalloc', 'evtchn', 'xenbus', 'balloon', 'udmabuf', 'dma-heap:<name>',
   *  'sw_sync', 'sync_file', 'drm:<node>' (or 'drm' when there is no DRM node at all). */
  id: string;
  group: CheckGroup;
  /** What the interface is, for a person. */
  title: string;
  /** The node or file that was probed (null when there is none, e.g. sync_file). */
  path: string | null;
  available: boolean;
  /** null exactly when available. */
  reason: Reason | null;
  /** The kernel options the interface needs. */
  config: string[];
  /** A caveat that does not make it unavailable (e.g. an option that could not be verified); else null. */
  note: string | null;
  /** Per-group facts: DrmCheckDetails for 'drm:*', { targetKb, currentKb } for balloon; else null. */
  details: DrmCheckDetails | Record<string, unknown> | null;
}

export interface XenInfo {
  /** Running in a Xen domain: /sys/hypervisor/type is 'xen', or /proc/xen/capabilities, /dev/xen or the balloon exist. */
  domain: boolean;
  /** /sys/hypervisor/guest_type: 'PV', 'PVH', 'HVM' or 'Xen' (Linux 6.1 on Xen on Arm says 'HVM'); null if unknown. */
  guestType: string | null;
  /** /proc/xen/capabilities says control_d. */
  dom0: boolean;
  /** XENFEAT_auto_translated_physmap (from /sys/hypervisor/properties/features, else the guest type); null if unknown. */
  autoTranslated: boolean | null;
}

/** Something that differs on this architecture (src/arch.ts): a stable id and a sentence for people. */
export interface ArchNote {
  /** 'xen-one-guest-kind', 'xen-dom0-exports', 'xen-direct-mapped' (arm64); 'xen-pv-dom0' (x86). */
  id: string;
  message: string;
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  /** ISO 8601. */
  generatedAt: string;
  host: {
    kernelRelease: string;
    /** Node's process.arch: 'x64', 'arm64'. */
    arch: string;
    /** What differs on this architecture, from facts read here; [] when nothing known does. */
    archNotes: ArchNote[];
    uid: number;
    /** Where the kernel config was read from ('/proc/config.gz', '/boot/config-<release>'), null if nowhere. */
    kernelConfig: string | null;
    /** Where debugfs is mounted, null if it is not. */
    debugfs: string | null;
    xen: XenInfo;
  };
  checks: Check[];
  summary: { available: number; unavailable: number; total: number };
}
