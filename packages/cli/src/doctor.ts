// doctor(): every check, run against this machine (or a fake tree under `root`, for tests).
import { release } from 'node:os';
import { isAbsolute } from 'node:path';
import { archNotes } from './arch.js';
import { dmabufChecks } from './checks/dmabuf.js';
import { drmChecks } from './checks/drm.js';
import { fenceChecks } from './checks/fence.js';
import { xenChecks } from './checks/xen.js';
import { readKernelConfig } from './kconfig.js';
import { REPORT_SCHEMA, type Report } from './report.js';
import { type Context, findDebugfs, readXenFeatures, readXenInfo } from './system.js';

export interface DoctorOptions {
  /** Read /dev, /sys, /proc and /boot under this directory instead of '/' (tests use a fake tree). */
  root?: string;
  /** The release whose /boot/config-<release> is read when /proc/config.gz is absent (default: uname -r). */
  kernelRelease?: string;
  /** The architecture to report and judge by (default: process.arch; tests give another with a fake tree). */
  arch?: string;
}

export async function doctor(options: DoctorOptions = {}): Promise<Report> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const { root = '/', kernelRelease = release(), arch = process.arch } = options;
  if (typeof arch !== 'string' || arch === '')
    throw new TypeError(`arch must be a name such as arm64, got ${String(arch)}`);
  if (typeof root !== 'string' || !isAbsolute(root))
    throw new TypeError(`root must be an absolute path, got ${String(root)}`);
  if (typeof kernelRelease !== 'string' || kernelRelease === '' || kernelRelease.includes('/'))
    throw new TypeError(
      `kernelRelease must be a release name such as 6.1.0-18-amd64, got ${String(kernelRelease)}`,
    );
  const prefix = root.replace(/\/+$/, '');
  const ctx: Context = {
    root: prefix,
    arch,
    config: readKernelConfig(prefix, kernelRelease),
    xen: readXenInfo(prefix),
    debugfs: findDebugfs(prefix),
  };
  const checks = [...xenChecks(ctx), ...dmabufChecks(ctx), ...fenceChecks(ctx), ...(await drmChecks(ctx))];
  const availableCount = checks.filter((c) => c.available).length;
  return {
    schema: REPORT_SCHEMA,
    generatedAt: new Date().toISOString(),
    host: {
      kernelRelease,
      arch,
      archNotes: archNotes(arch, ctx.xen, readXenFeatures(prefix)),
      uid: process.getuid?.() ?? -1,
      kernelConfig: ctx.config.source,
      debugfs: ctx.debugfs,
      xen: ctx.xen,
    },
    checks,
    summary: { available: availableCount, unavailable: checks.length - availableCount, total: checks.length },
  };
}
