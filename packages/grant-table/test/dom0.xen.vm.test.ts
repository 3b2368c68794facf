// VM (Xen dom0): grant tables within one domain. Xen lets a domain map its own grants, so dom0 shares pages
// with itself (gntalloc, domid 0) and maps them back (gntdev). Cross-domain: two-domain.xen.vm.test.ts.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ClosedError, KernelError, liveMappings, Mapping } from '@zcopy/core';
import { type FdSnapshot, fdSnapshot } from '@zcopy/test-harness';
import { EventChannel } from '@zcopy/xen-evtchn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GNTALLOC_LIMIT_PATH, GrantMapper, GrantSharer, pageCopySegments } from '../src/index.js';
import { binding } from '../src/native.js';
import { coreAddon, fixture, grantAddon, runChild, withLimit, xenMappingCount } from './helpers.js';

const PAGE = 4096;

describe('grant tables in dom0 (self-grants)', () => {
  let sharer: GrantSharer;
  let mapper: GrantMapper;
  let fds: FdSnapshot;
  let maps: number;
  beforeEach(() => {
    fds = fdSnapshot();
    maps = liveMappings();
    sharer = GrantSharer.open();
    mapper = GrantMapper.open();
  });
  afterEach(async () => {
    sharer.close();
    mapper.close();
    expect(await fds.leaked()).toEqual([]);
    expect(liveMappings()).toBe(maps);
    expect(xenMappingCount()).toBe(0);
  });

  it('shared pages map back with the same bytes, and writes are seen both ways', () => {
    const s = sharer.share(0, 4);
    expect(s.refs.length).toBe(4);
    expect(new Set(s.refs).size).toBe(4);
    expect(s.buffer.every((b) => b === 0)).toBe(true); // gntalloc pages start zeroed
    for (let p = 0; p < 4; p++) s.buffer.write(`page ${p} from the sharer`, p * PAGE);
    const m = mapper.map(0, s.refs);
    expect(m.length).toBe(4 * PAGE);
    for (let p = 0; p < 4; p++)
      expect(m.buffer.toString('utf8', p * PAGE, p * PAGE + 22)).toBe(`page ${p} from the sharer`);
    m.buffer.write('written by the mapper', 3 * PAGE + 100);
    expect(s.buffer.toString('utf8', 3 * PAGE + 100, 3 * PAGE + 121)).toBe('written by the mapper');
    // The offset the kernel reports for the mapped address is the batch's index.
    expect(binding.offsetForAddress(mapper.fd, m.arrayBuffer)).toEqual({ offset: m.index, count: 4 });
    const view = m.buffer;
    m.unmap();
    expect(view.length).toBe(0); // views detach with the mapping
    expect(() => m.buffer).toThrow(ClosedError);
    expect(mapper.mappings.size).toBe(0);
    // Per-ref domids: the same refs, each with its own domid entry.
    using again = mapper.map([0, 0, 0, 0], s.refs, { access: 'read' });
    expect(again.buffer.toString('utf8', 0, 22)).toBe('page 0 from the sharer');
  });

  it('read-only grants: a writable map is refused with the rule, a read map works, a write faults', async () => {
    const s = sharer.share(0, 2, { writable: false });
    s.buffer.write('read-only data');
    let err: unknown;
    try {
      mapper.map(0, s.refs);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelError);
    expect(err).toMatchObject({ code: 'EINVAL', syscall: 'mmap' });
    expect((err as Error).message).toMatch(/read-only grant mapped for writing/);
    expect(mapper.mappings.size).toBe(0);
    using m = mapper.map(0, s.refs, { access: 'read' });
    expect(m.buffer.toString('utf8', 0, 14)).toBe('read-only data');
    // The kernel refuses the write itself: a process that tries dies of SIGSEGV and the page is unchanged.
    const child = await runChild('write-readonly.cjs', [
      coreAddon,
      grantAddon,
      '0',
      ...Array.from(s.refs, String),
    ]);
    expect(child.stdout).toBe(`read ${'r'.charCodeAt(0)}\n`);
    expect(child.signal).toBe('SIGSEGV');
    expect(s.buffer.toString('utf8', 0, 14)).toBe('read-only data');
  });

  it('gntdev refuses a private writable mmap (MAP_SHARED at the returned index is the rule)', () => {
    const s = sharer.share(0, 1);
    const index = binding.mapGrantRefs(mapper.fd, Uint32Array.of(0), s.refs);
    try {
      expect(() => Mapping.map(mapper.fd, PAGE, { offset: index, shared: false })).toThrow(
        expect.objectContaining({ code: 'EINVAL', syscall: 'mmap' }),
      );
      // A shared mmap at a different offset than the one returned finds no batch.
      expect(() => Mapping.map(mapper.fd, PAGE, { offset: index + 64 * PAGE })).toThrow(
        expect.objectContaining({ code: 'EINVAL' }),
      );
    } finally {
      binding.unmapGrantRef(mapper.fd, index, 1);
    }
    // Unmapping twice: the batch is gone.
    expect(() => binding.unmapGrantRef(mapper.fd, index, 1)).toThrow(
      expect.objectContaining({ code: 'ENOENT', request: 'IOCTL_GNTDEV_UNMAP_GRANT_REF' }),
    );
  });

  it('a batch of 1,100 refs maps in one call, every page in its place', async () => {
    await withLimit('gntalloc', 4096, () => {
      const n = 1100;
      const s = sharer.share(0, n);
      for (let p = 0; p < n; p++) s.buffer.writeUInt32LE(p ^ 0x5a5a5a5a, p * PAGE + 8);
      const m = mapper.map(0, s.refs);
      for (let p = 0; p < n; p++) expect(m.buffer.readUInt32LE(p * PAGE + 8)).toBe((p ^ 0x5a5a5a5a) >>> 0);
      m.unmap();
      s.unshare();
    });
  });

  it('refs never granted, or granted to another domain, fail with an error and leave the mapper usable', () => {
    const s = sharer.share(0, 1);
    const other = sharer.share(1, 1); // granted to domain 1, not to us
    const unused = 0x7ffff; // far beyond any grant table in use
    for (const refs of [[unused], [s.refs[0]!, unused], [other.refs[0]!]]) {
      let err: unknown;
      try {
        mapper.map(0, refs);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'EINVAL', syscall: 'mmap' });
      expect((err as Error).message).toMatch(/never granted, granted to another domain/);
      expect(mapper.mappings.size).toBe(0);
    }
    // Grants of a domain that does not exist at all.
    expect(() => mapper.map(0x7000, [s.refs[0]!])).toThrow(KernelError);
    // Still works, and the failed batches were released (the 1-page batch lands at index 0 again).
    using m = mapper.map(0, s.refs);
    expect(m.index).toBe(0);
  });

  it('map count checks: 0 is a RangeError, over the module limit the kernel says EINVAL naming the limit', async () => {
    expect(() => mapper.map(0, [])).toThrow(RangeError);
    const s = sharer.share(0, 5);
    await withLimit('gntdev', 4, () => {
      expect(() => mapper.map(0, s.refs)).toThrow(
        expect.objectContaining({
          code: 'EINVAL',
          request: 'IOCTL_GNTDEV_MAP_GRANT_REF',
          message: expect.stringMatching(/xen_gntdev\/parameters\/limit/),
        }),
      );
      expect(GrantMapper.maxGrantsPerMap).toBe(4);
    });
    expect(mapper.setMaxGrants(64)).toBe(false); // the kernel has no per-fd limit any more (ENOTTY)
  });

  it('gntalloc over its limit: ENOSPC whose message names the limit file and value', async () => {
    await withLimit('gntalloc', 8, () => {
      using first = sharer.share(0, 6);
      expect(first.count).toBe(6);
      let err: unknown;
      try {
        sharer.share(0, 3);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'ENOSPC', request: 'IOCTL_GNTALLOC_ALLOC_GREF' });
      expect((err as Error).message).toContain(GNTALLOC_LIMIT_PATH);
      expect((err as Error).message).toContain('limit of 8 grants');
      expect(GrantSharer.limit).toBe(8);
      using second = sharer.share(0, 2); // exactly up to the limit is fine
      expect(second.count).toBe(2);
    });
  });

  it("gntdev unmap-notify: unmap clears the byte in the sharer's page and fires the event channel", async () => {
    using a = EventChannel.open();
    using b = EventChannel.open();
    const pa = a.bindUnboundPort(0);
    const pb = b.bindInterdomain(0, pa);
    const s = sharer.share(0, 2);
    s.buffer.fill(0xab);
    const m = mapper.map(0, s.refs);
    m.setUnmapNotify({ clearByte: PAGE + 17, port: pb });
    const fired = a.wait(pa, { timeoutMs: 10_000 });
    expect(s.buffer[PAGE + 17]).toBe(0xab);
    m.unmap();
    await expect(fired).resolves.toBe(pa);
    expect(s.buffer[PAGE + 17]).toBe(0);
    expect(s.buffer[PAGE + 16]).toBe(0xab);
    expect(() => m.setUnmapNotify({ port: pb })).toThrow(RangeError);
    // Bad notify requests: unbound port → EINVAL; byte to clear in a read-only mapping → EINVAL.
    using ro = mapper.map(0, s.refs, { access: 'read' });
    expect(() => ro.setUnmapNotify({ clearByte: 0 })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => ro.setUnmapNotify({ port: 0xfffff })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => ro.setUnmapNotify({})).toThrow(TypeError);
    expect(() => ro.setUnmapNotify({ clearByte: 2 * PAGE })).toThrow(RangeError);
  });

  it('gntdev unmap-notify fires when the mapping process dies', async () => {
    using a = EventChannel.open();
    using b = EventChannel.open();
    const pa = a.bindUnboundPort(0);
    const pb = b.bindInterdomain(0, pa);
    const s = sharer.share(0, 1);
    s.buffer.write('alive');
    const child = spawn(
      process.execPath,
      [
        fixture('notify-child.cjs'),
        coreAddon,
        grantAddon,
        '0',
        String(pb),
        '3',
        ...Array.from(s.refs, String),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout! }).once('line', resolve),
    );
    expect(line).toBe('ready alive');
    const fired = a.wait(pa, { timeoutMs: 10_000 });
    const exited = new Promise((resolve) => child.on('close', resolve));
    child.kill('SIGKILL');
    await expect(fired).resolves.toBe(pa);
    await exited;
    expect(s.buffer.toString('latin1', 0, 5)).toBe('ali\0e');
  });

  it('gntalloc unmap-notify: unsharing clears the byte the mapper still sees and fires the event', async () => {
    using a = EventChannel.open();
    using b = EventChannel.open();
    const pa = a.bindUnboundPort(0);
    const pb = b.bindInterdomain(0, pa);
    const s = sharer.share(0, 1);
    s.buffer.fill(1, 0, 64);
    using m = mapper.map(0, s.refs, { access: 'read' });
    s.setUnmapNotify({ clearByte: 5, port: pb });
    const fired = a.wait(pa, { timeoutMs: 10_000 });
    s.unshare();
    await expect(fired).resolves.toBe(pa);
    expect(m.buffer[5]).toBe(0);
    expect(m.buffer[4]).toBe(1);
  });

  it('grant copy: whole pages both ways, and per-segment statuses by name', async () => {
    const s = sharer.share(0, 3);
    for (let p = 0; p < 3; p++) s.buffer.fill(p + 1, p * PAGE, (p + 1) * PAGE);
    const local = Buffer.alloc(3 * PAGE);
    const st = mapper.copy(
      pageCopySegments({ domid: 0, refs: s.refs, buffer: local, direction: 'from-grants' }),
    );
    expect(st).toEqual(['okay', 'okay', 'okay']);
    expect(local.equals(s.buffer)).toBe(true);
    local.fill(9);
    await expect(
      mapper.copyAsync(pageCopySegments({ domid: 0, refs: s.refs, buffer: local, direction: 'to-grants' })),
    ).resolves.toEqual(['okay', 'okay', 'okay']);
    expect(s.buffer.every((b) => b === 9)).toBe(true);
    // A prepared plan copies the same way, again and again.
    const plan = mapper.prepareCopy(
      pageCopySegments({ domid: 0, refs: s.refs, buffer: local, direction: 'from-grants' }),
    );
    for (let round = 0; round < 3; round++) {
      s.buffer.fill(round + 20);
      local.fill(0);
      expect(round % 2 ? await plan.runAsync() : plan.run()).toEqual(['okay', 'okay', 'okay']);
      expect(local.every((b) => b === round + 20)).toBe(true);
    }
    // A bad ref fails its own segment only; partial-page copies land at their offsets.
    const small = Buffer.alloc(16);
    const mixed = mapper.copy([
      { source: { ref: 0x7ffff, domid: 0 }, dest: { buffer: small }, length: 8 },
      {
        source: { buffer: Buffer.from('12345678') },
        dest: { ref: s.refs[1]!, domid: 0, offset: 4000 },
        length: 8,
      },
      { source: { ref: s.refs[1]!, domid: 0, offset: 4000 }, dest: { buffer: small, offset: 8 }, length: 8 },
    ]);
    expect(mixed).toEqual(['bad_gntref', 'okay', 'okay']);
    expect(small.toString('utf8', 8)).toBe('12345678');
    const ro = sharer.share(0, 1, { writable: false });
    expect(
      mapper.copy([{ source: { buffer: small }, dest: { ref: ro.refs[0]!, domid: 0 }, length: 8 }])[0],
    ).toMatch(/permission_denied|general_error/);
  });

  it('a copy plan run by several calls at once: each run gets its own statuses, and every copy lands', async () => {
    // One run at a time uses the plan's segments in place; a run that overlaps it works on a copy (the kernel
    // writes each segment's status into the array it is given).
    const s = sharer.share(0, 16);
    for (let p = 0; p < 16; p++) s.buffer.fill(p + 1, p * PAGE, (p + 1) * PAGE);
    const local = Buffer.alloc(16 * PAGE);
    const small = Buffer.alloc(8);
    const plan = mapper.prepareCopy([
      ...pageCopySegments({ domid: 0, refs: s.refs, buffer: local, direction: 'from-grants' }),
      { source: { ref: 0x7ffff, domid: 0 }, dest: { buffer: small }, length: 8 },
    ]);
    const expected = [...Array(16).fill('okay'), 'bad_gntref'];
    for (let round = 0; round < 3; round++) {
      local.fill(0);
      const runs = Array.from({ length: 8 }, (_, i) =>
        i === 3 ? Promise.resolve(plan.run()) : plan.runAsync(),
      );
      for (const st of await Promise.all(runs)) expect(st).toEqual(expected);
      expect(local.equals(s.buffer)).toBe(true);
    }
    expect(plan.run()).toEqual(expected);
  });

  it('close() of the mapper and the sharer detaches every view and releases everything', () => {
    const s = sharer.share(0, 2);
    const m1 = mapper.map(0, s.refs);
    const m2 = mapper.map(0, [s.refs[0]!], { access: 'read' });
    const views = [m1.buffer, m2.buffer, s.buffer];
    mapper.close();
    sharer.close();
    expect(views.map((v) => v.length)).toEqual([0, 0, 0]);
    expect(m1.mapped || m2.mapped || s.shared).toBe(false);
    expect(() => mapper.map(0, s.refs)).toThrow(ClosedError);
  });

  it('10,000 share/map/unmap cycles: no fd, mapping or grant growth', async () => {
    await withLimit('gntalloc', 64, async () => {
      const t0 = performance.now();
      const before = { fds: fdSnapshot(), maps: liveMappings() };
      for (let i = 0; i < 10_000; i++) {
        if (i % 250 === 0) await new Promise((r) => setImmediate(r)); // let vitest's RPC breathe
        const s = sharer.share(0, 2);
        s.buffer.writeUInt32LE(i, 0);
        const m = mapper.map(0, s.refs);
        if (m.buffer.readUInt32LE(0) !== i) throw new Error(`cycle ${i}: mapped page holds the wrong data`);
        m.unmap();
        s.unshare();
      }
      expect(await before.fds.leaked()).toEqual([]);
      expect(liveMappings()).toBe(before.maps);
      expect(xenMappingCount()).toBe(0);
      // gntalloc's count went back to zero: the whole limit is available again.
      using all = sharer.share(0, 64);
      expect(all.count).toBe(64);
      console.log(`10,000 share/map/unmap cycles: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    });
  }, 600_000);
});
