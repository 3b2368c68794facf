// The human table of `zcopy doctor`.
import { archLine } from './arch.js';
import type { Check, DrmCheckDetails, Report } from './report.js';

function drmSummary(d: DrmCheckDetails): string {
  const prime = d.prime
    ? [d.prime.import && 'import', d.prime.export && 'export'].filter(Boolean).join('+') || 'none'
    : '?';
  const bus = d.bus
    ? ` on ${d.bus.subsystem} ${d.bus.pciSlot ?? d.bus.id}${d.bus.pciId ? ` [${d.bus.pciId}]` : ''}`
    : '';
  const dumb = d.dumbBuffer === null ? '' : `, dumb buffers ${d.dumbBuffer ? 'yes' : 'no'}`;
  return `${d.driver} ${d.version} (${d.desc})${bus}, PRIME ${prime}${dumb}`;
}

function detailOf(c: Check): string {
  if (!c.available) return c.reason?.message ?? '';
  if (c.group === 'drm' && c.details) return drmSummary(c.details as DrmCheckDetails);
  if (c.id === 'balloon' && c.details) return `target ${(c.details as { targetKb: number }).targetKb} KiB`;
  return c.note ?? '';
}

function xenLine(r: Report): string {
  const x = r.host.xen;
  if (!x.domain) return 'no';
  const at =
    x.autoTranslated === null ? '' : x.autoTranslated ? ', auto-translated' : ', not auto-translated';
  return `${x.guestType ?? 'domain'}${x.dom0 ? ' dom0' : ' domU'}${at}`;
}

export function formatReport(r: Report): string {
  const head = [
    `zcopy doctor: Linux ${r.host.kernelRelease} ${r.host.arch}, uid ${r.host.uid}`,
    `  kernel config: ${r.host.kernelConfig ?? 'not found (no /proc/config.gz or /boot/config-*)'}`,
    `  debugfs: ${r.host.debugfs ?? 'not mounted'}`,
    `  Xen: ${xenLine(r)}`,
    `  architecture: ${archLine(r.host.arch, r.host.xen)}${r.host.archNotes.length ? '' : ', nothing known differs'}`,
    ...r.host.archNotes.map((n) => `    - ${n.message}`),
    '',
  ];
  const rows = r.checks.map((c) => [c.id, c.available ? 'ok' : 'missing', c.path ?? '-', detailOf(c)]);
  const header = ['INTERFACE', 'STATUS', 'PATH', 'DETAILS / WHY NOT'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const s = r.summary;
  return [
    ...head,
    line(header),
    ...rows.map(line),
    '',
    `${s.available} of ${s.total} interfaces available.`,
    '',
  ].join('\n');
}
