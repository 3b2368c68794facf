// VM, Xen mode (scripts/vm/run.mjs --mode xen: the guest kernel as dom0): the Xen checks against the real
// hypervisor. Skipped on a guest that is not a Xen domain (bare mode runs doctor.vm.test.ts instead).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Check, doctor, type Report } from '../src/index.js';
import { procFdCount } from './proc.js';
import { assertReportSchema } from './schema.js';
import { onXen, xenFacts } from './xen-facts.js';

const get = (r: Report, id: string): Check => r.checks.find((c) => c.id === id)!;

describe.runIf(onXen)('zcopy doctor in a Xen domain', () => {
  it('reports the domain as /sys/hypervisor and /proc/xen describe it', async () => {
    const r = await doctor();
    assertReportSchema(JSON.parse(JSON.stringify(r)));
    expect(r.host.xen).toEqual({ domain: true, ...xenFacts() });
  });

  it('gntdev, gntalloc, evtchn, xenbus and the balloon open (and are closed again)', async () => {
    const before = procFdCount();
    const r = await doctor();
    expect(procFdCount()).toBe(before);
    for (const id of ['gntdev', 'gntalloc', 'evtchn', 'xenbus', 'balloon'])
      expect(get(r, id), id).toMatchObject({ available: true, reason: null });
    const target = Number(readFileSync('/sys/devices/system/xen_memory/xen_memory0/target_kb', 'utf8'));
    expect(get(r, 'balloon').details).toMatchObject({ targetKb: target });
  });

  it('what differs on this architecture: arm64 dom0 auto-translated and direct-mapped, x86 dom0 PV', async () => {
    const r = await doctor();
    const { autoTranslated, guestType } = xenFacts();
    const features = Number.parseInt(readFileSync('/sys/hypervisor/properties/features', 'utf8'), 16);
    console.log(
      `arch ${r.host.arch}, guest_type ${guestType}, features ${features.toString(16)}:`,
      r.host.archNotes,
    );
    // The rig's dom0s: arm64 (Xen on Arm's one guest kind, direct-mapped), x86 (PV).
    if (process.arch === 'arm64') {
      expect({ guestType, autoTranslated, directMapped: (features & (1 << 17)) !== 0 }).toEqual({
        guestType: 'HVM',
        autoTranslated: true,
        directMapped: true,
      });
      expect(r.host.archNotes.map((n) => n.id)).toEqual([
        'xen-one-guest-kind',
        'xen-dom0-exports',
        'xen-direct-mapped',
      ]);
    } else {
      expect({ guestType, autoTranslated }).toEqual({ guestType: 'PV', autoTranslated: false });
      expect(r.host.archNotes.map((n) => n.id)).toEqual(['xen-pv-dom0']);
    }
  });

  it('gntdev dma-buf export: available only in an auto-translated domain', async () => {
    const r = await doctor();
    const { autoTranslated, guestType } = xenFacts();
    const c = get(r, 'gntdev-dmabuf');
    if (autoTranslated === false) {
      expect(c.reason).toMatchObject({ code: 'xen-domain-type', config: [], errno: null });
      expect(c.reason!.message).toContain(`${guestType} domain`);
    } else expect(c).toMatchObject({ available: true, reason: null });
  });
});
