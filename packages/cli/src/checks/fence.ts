// dma-fence userspace: sync_file (built-in API, no node) and sw_sync (software timelines in debugfs).
import { constants, readFileSync } from 'node:fs';
import { kernelConfigReason, reason } from '../reasons.js';
import type { Check } from '../report.js';
import type { Context } from '../system.js';
import { available, checkNode, unavailable } from './node.js';

export function fenceChecks(ctx: Context): Check[] {
  const swSync = checkNode(ctx, {
    id: 'sw_sync',
    group: 'fence',
    title: 'sw_sync timelines (debugfs)',
    path: `${ctx.debugfs ?? '/sys/kernel/debug'}/sync/sw_sync`,
    config: ['CONFIG_SYNC_FILE', 'CONFIG_DEBUG_FS', 'CONFIG_SW_SYNC'],
    debugfs: true,
    flags: constants.O_RDWR,
  });
  return [syncFile(ctx, swSync), swSync];
}

// No node to open: the config says it, else evidence: sw_sync works (it depends on SYNC_FILE), or the
// kernel's symbol table has sync_file_create.
function syncFile(ctx: Context, swSync: Check): Check {
  const base = {
    id: 'sync_file',
    group: 'fence' as const,
    title: 'sync_file (fences as fds)',
    path: null,
    config: ['CONFIG_SYNC_FILE'],
  };
  const state = ctx.config.state('CONFIG_SYNC_FILE');
  if (state === 'y' || state === 'm') return available(base);
  if (state === 'n') return unavailable(base, kernelConfigReason(ctx, ['CONFIG_SYNC_FILE']));
  if (swSync.available)
    return available(base, 'no kernel config to read: inferred from sw_sync, which needs it');
  let syms: string;
  try {
    syms = readFileSync(`${ctx.root}/proc/kallsyms`, 'latin1');
  } catch {
    syms = '';
  }
  if (!syms)
    return unavailable(
      base,
      reason(
        'unknown',
        'no kernel config (/proc/config.gz, /boot/config-<release>) and no /proc/kallsyms to tell',
      ),
    );
  if (/ sync_file_create$/m.test(syms))
    return available(base, 'no kernel config to read: found in /proc/kallsyms');
  return unavailable(
    base,
    reason(
      'kernel-config',
      'the running kernel has no sync_file_create (/proc/kallsyms): it lacks CONFIG_SYNC_FILE',
      ['CONFIG_SYNC_FILE'],
    ),
  );
}
