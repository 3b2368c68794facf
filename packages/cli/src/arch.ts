// What differs on this machine's architecture, for the zcopy interfaces: notes the doctor prints under the
// architecture line. Each note is derived from facts read here (the architecture, the Xen domain's type and the
// hypervisor's feature bits), never assumed from the architecture alone.
import type { ArchNote, XenInfo } from './report.js';

// xen/interface/features.h: the domain's guest-physical frames are its machine frames (Xen on Arm).
const XENFEAT_DIRECT_MAPPED = 17;

/**
 * The notes for `arch` (Node's process.arch) in the domain `xen` describes; `features` is the Xen feature
 * submap 0 (/sys/hypervisor/properties/features), null when unknown. [] when nothing differs that is known here.
 */
export function archNotes(arch: string, xen: XenInfo, features: number | null): ArchNote[] {
  const notes: ArchNote[] = [];
  if (!xen.domain) return notes;
  if (arch === 'arm64' && xen.autoTranslated === true)
    notes.push({
      id: 'xen-one-guest-kind',
      message:
        `Xen on Arm has one kind of guest, auto-translated (guest_type ${xen.guestType ?? 'unknown'}): ` +
        'there are no PV guests, so PV-only paths (a PV frontend, a PV dom0) do not exist here',
    });
  if (arch === 'arm64' && xen.dom0 && xen.autoTranslated === true)
    notes.push({
      id: 'xen-dom0-exports',
      message:
        "dom0 is auto-translated: gntdev's dma-buf export (EXP_FROM_REFS) works in dom0 itself, with no kernel " +
        "patch (on x86 dom0 is PV and cannot export); CPU access to an export (mmap) still needs the zcopy patches' " +
        'parameter (see gntdev-dmabuf)',
    });
  if (arch === 'arm64' && features !== null && (features & (1 << XENFEAT_DIRECT_MAPPED)) !== 0)
    notes.push({
      id: 'xen-direct-mapped',
      message: `this domain is direct-mapped (XENFEAT_direct_mapped): its guest-physical frames are machine frames`,
    });
  if ((arch === 'x64' || arch === 'ia32') && xen.dom0 && xen.autoTranslated === false)
    notes.push({
      id: 'xen-pv-dom0',
      message:
        "x86 dom0 is PV (not auto-translated): gntdev's dma-buf export needs a PVH or HVM domain, e.g. a PVH " +
        'backend domU',
    });
  return notes;
}

/** The architecture line of the human report: `arm64 (Xen HVM dom0)`, `x64`. */
export function archLine(arch: string, xen: XenInfo): string {
  if (!xen.domain) return arch;
  return `${arch} (Xen ${xen.guestType ?? 'domain'} ${xen.dom0 ? 'dom0' : 'domU'})`;
}
