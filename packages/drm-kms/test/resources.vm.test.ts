// VM: vkms's pipeline in Linux 6.1 (default module parameters: cursor and writeback on, overlay off).
import { describe, expect, it } from 'vitest';
import { Format, fourccName, preferredMode } from '../src/index.js';
import { openVkms } from './helpers.js';

describe('vkms resources', () => {
  it('one CRTC; a Virtual connector with modes and a preferred 1024x768; a writeback connector', () => {
    using kms = openVkms();
    expect(kms.drm.version.name).toBe('vkms');
    const r = kms.resources();
    expect(r.crtcs).toHaveLength(1);
    const crtc = r.crtcs[0]!;
    expect(crtc.index).toBe(0);

    const virtual = r.connectors.find((c) => c.typeName === 'Virtual');
    expect(virtual, JSON.stringify(r.connectors.map((c) => c.name))).toBeDefined();
    expect(virtual!.name).toMatch(/^Virtual-\d+$/);
    expect(virtual!.status).toBe('connected');
    expect(virtual!.writeback).toBe(false);
    expect(virtual!.modes.length).toBeGreaterThan(1);
    expect(virtual!.possibleCrtcs).toEqual([crtc.id]);
    expect(virtual!.encoders).toHaveLength(1);
    const mode = preferredMode(virtual!.modes)!;
    expect([mode.hdisplay, mode.vdisplay]).toEqual([1024, 768]); // vkms's XRES_DEF × YRES_DEF
    expect(mode.name).toBe('1024x768');
    expect(mode.clock).toBeGreaterThan(0);
    expect(mode.htotal).toBeGreaterThanOrEqual(mode.hsyncEnd);

    const wb = r.connectors.find((c) => c.writeback);
    expect(wb).toBeDefined();
    expect(wb!.typeName).toBe('Writeback');
    expect(wb!.possibleCrtcs).toEqual([crtc.id]);
    expect(r.encoders.length).toBe(2); // the Virtual connector's and the writeback connector's
    expect(r.encoders.every((e) => e.possibleCrtcs.includes(crtc.id))).toBe(true);
    // vkms in 6.1 sets no possible_clones: each encoder clones only itself (so writeback needs the CRTC alone)
    for (const e of r.encoders) expect(e.possibleClones).toEqual([e.id]);
    expect(r.minWidth).toBe(20);
    expect(r.maxWidth).toBe(8192);
    expect(r.fbs).toEqual([]);
  });

  it('planes: a primary and a cursor on the CRTC, typed by their "type" property, with their formats', () => {
    using kms = openVkms();
    const [crtc] = kms.crtcs();
    const planes = kms.planes();
    expect(planes.map((p) => p.type).sort()).toEqual(['cursor', 'primary']);
    for (const p of planes) expect(p.possibleCrtcs).toEqual([crtc!.id]);
    const primary = kms.primaryPlane(crtc!);
    expect(primary.type).toBe('primary');
    expect(primary.formats).toContain(Format.XRGB8888);
    expect(primary.formats.map(fourccName)).toContain('XR24');
    const type = kms.properties(primary).get('type')!;
    expect(type.kind).toBe('enum');
    expect(type.immutable).toBe(true);
    expect(type.enumName).toBe('Primary');
    expect(type.enums!.map((e) => e.name).sort()).toEqual(['Cursor', 'Overlay', 'Primary']);
  });

  it('atomic properties by name: plane, CRTC and connector; ranges and objects typed', () => {
    using kms = openVkms();
    const { crtc, plane, connector } = kms.pick();
    const pp = kms.properties(plane);
    for (const name of [
      'FB_ID',
      'CRTC_ID',
      'SRC_X',
      'SRC_Y',
      'SRC_W',
      'SRC_H',
      'CRTC_X',
      'CRTC_Y',
      'CRTC_W',
      'CRTC_H',
    ])
      expect(pp.has(name), name).toBe(true);
    expect(pp.get('FB_ID')!.kind).toBe('object');
    expect(pp.get('CRTC_X')!.kind).toBe('signed-range');
    expect(pp.get('CRTC_X')!.range!.min).toBeLessThan(0n);
    expect(pp.get('SRC_W')!.kind).toBe('range');
    const cp = kms.properties(crtc);
    expect(cp.get('ACTIVE')!.kind).toBe('range');
    expect(cp.get('MODE_ID')!.kind).toBe('blob');
    expect(cp.get('OUT_FENCE_PTR')).toBeDefined();
    expect(kms.properties(connector).get('CRTC_ID')!.kind).toBe('object');
    expect(() => kms.property(crtc, 'NO_SUCH_PROP')).toThrow(RangeError);
    expect(() => kms.property(crtc, 'NO_SUCH_PROP')).toThrow(/has: .*ACTIVE/);
  });

  it('the writeback connector: WRITEBACK_FB_ID, the out-fence pointer and its formats blob', () => {
    using kms = openVkms();
    const wb = kms.connectors().find((c) => c.writeback)!;
    const props = kms.properties(wb);
    expect(props.get('WRITEBACK_FB_ID')!.kind).toBe('object');
    expect(props.get('WRITEBACK_OUT_FENCE_PTR')).toBeDefined();
    const formats = props.get('WRITEBACK_PIXEL_FORMATS')!;
    expect(formats.kind).toBe('blob');
    expect(formats.immutable).toBe(true);
    expect(kms.blob(Number(formats.value)).length).toBe(4 * 4);
    // vkms_wb_formats in Linux 6.1, in its order
    expect(kms.writebackFormats(wb).map(fourccName)).toEqual(['XR24', 'XR48', 'AR48', 'RG16']);
  });

  it('pick(): the Virtual connector, its CRTC, the primary plane, the preferred mode', () => {
    using kms = openVkms();
    const out = kms.pick();
    expect(out.connector.typeName).toBe('Virtual');
    expect(out.plane.type).toBe('primary');
    expect(out.plane.possibleCrtcs).toContain(out.crtc.id);
    expect([out.mode.hdisplay, out.mode.vdisplay]).toEqual([1024, 768]);
    expect(kms.pick({ connector: out.connector.name }).connector.id).toBe(out.connector.id);
    expect(() => kms.pick({ connector: 'HDMI-A-9' })).toThrow(/no connector/);
  });
});
