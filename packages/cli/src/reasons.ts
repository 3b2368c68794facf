// Turning what was observed into a Reason a person (and a script) can act on.

import type { Reason, ReasonCode } from './report.js';
import type { Context } from './system.js';

export function reason(
  code: ReasonCode,
  message: string,
  config: string[] = [],
  errno: string | null = null,
): Reason {
  return { code, message, config, errno };
}

/** The options the running kernel definitely lacks (state 'n'). */
export function missingOptions(ctx: Context, options: readonly string[]): string[] {
  return options.filter((o) => ctx.config.state(o) === 'n');
}

export function kernelConfigReason(ctx: Context, missing: string[]): Reason {
  return reason(
    'kernel-config',
    `the running kernel was built without ${missing.join(', ')} (${ctx.config.source ?? 'kernel config'})`,
    missing,
  );
}

/** Why opening (or stat-ing) a node that exists failed; `group` is the node's group, when it is not root's. */
export function openFailure(path: string, errno: string, group: string | null = null): Reason {
  switch (errno) {
    case 'EACCES':
    case 'EPERM': {
      const how = group
        ? `join its group '${group}' (or grant access with a udev rule), or run as root`
        : 'run as root, or grant access with a udev rule';
      return reason('permission-denied', `${path}: ${errno}: this user may not open it: ${how}`, [], errno);
    }
    case 'ENXIO':
    case 'ENODEV':
      return reason('no-driver', `${path} exists but no driver answers it (${errno})`, [], errno);
    case 'ENOENT':
      return reason('node-absent', `${path} does not exist`, [], errno);
    default:
      return reason('open-failed', `${path}: open failed with ${errno}`, [], errno);
  }
}

export interface AbsenceSpec {
  path: string;
  config: readonly string[];
  /** A Xen interface: absent outside a Xen domain. */
  xen?: boolean;
  /** Lives in debugfs. */
  debugfs?: boolean;
}

/** Why a node is absent, most fundamental cause first: kernel option, Xen, debugfs, module, then unexplained. */
export function absenceReason(ctx: Context, spec: AbsenceSpec): Reason {
  const missing = missingOptions(ctx, spec.config);
  if (missing.length) return kernelConfigReason(ctx, missing);
  if (spec.xen && !ctx.xen.domain)
    return reason('not-xen', `${spec.path} is absent: this machine is not running as a Xen domain`);
  if (spec.debugfs && !ctx.debugfs)
    return reason(
      'debugfs-not-mounted',
      `debugfs is not mounted (mount -t debugfs debugfs /sys/kernel/debug)`,
    );
  const modules = spec.config.filter((o) => ctx.config.state(o) === 'm');
  if (modules.length)
    return reason(
      'module-not-loaded',
      `${spec.path} is absent: ${modules.map((m) => `${m}=m`).join(', ')} is a module that is not loaded (modprobe it)`,
      modules,
    );
  const known = ctx.config.source
    ? `although the kernel has ${spec.config.join(', ')}`
    : `(no kernel config to read: the kernel may lack ${spec.config.join(', ')})`;
  return reason('node-absent', `${spec.path} does not exist ${known}`);
}
