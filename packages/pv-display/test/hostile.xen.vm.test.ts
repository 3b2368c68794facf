// VM (Xen dom0): a hostile frontend of our own (test/fixtures/hostile-front.mjs in a PV domU: gntalloc, evtchn,
// xenstore and the displif structs) against the TS backend. Each malformed request gets its negative errno,
// a good session afterwards works (the flip's event arrives), a req_prod run ahead of the ring makes the backend
// drop that frontend (Closing) — and the backend maps and binds nothing afterwards.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootWithPackages } from '@zcopy/test-harness';
import { type DomU, defaultDomUType } from '@zcopy/xen/domu';
import { XenStore } from '@zcopy/xenstore';
import { afterAll, describe, expect, it } from 'vitest';
import { displif as C, startCopyBackend } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a hostile frontend', () => {
  let domu: DomU | undefined;
  let backend: Awaited<ReturnType<typeof startCopyBackend>> | undefined;
  const xs = XenStore.open();
  // The hand-made device's directories: removed however the test ends (a failed run once left its device for
  // the next file's backend to find).
  const made: string[] = [];
  afterAll(async () => {
    await domu?.destroy();
    await backend?.close();
    for (const p of made) await xs.remove(p).catch(() => {});
    xs.close();
  });

  it('gets an errno for each malformed request, then a good session works, then an overrun drops it', async () => {
    const log: string[] = [];
    backend = await startCopyBackend({ log: (l) => log.push(l) });
    const booted = await bootWithPackages({
      type: defaultDomUType(), // PV on x86, PVH on arm64 (Xen on Arm has no PV guests)
      packages: [pkg],
      script: join(pkg, 'test', 'fixtures', 'hostile-front.mjs'),
    });
    domu = booted.domu;
    const fe = booted.domid;
    const fp = `/local/domain/${fe}/data/vdispl/0`;
    const bp = `/local/domain/0/backend/vdispl/${fe}/0`;
    made.push(`/local/domain/0/backend/vdispl/${fe}`, fp);
    // What libxl writes for a vdispl device, in one transaction (the frontend side under data/, so the guest
    // kernel's own xen-drm-front never sees it).
    await xs.transaction(async (tx) => {
      await tx.write(`${fp}/backend`, bp);
      await tx.write(`${fp}/backend-id`, '0');
      await tx.write(`${fp}/state`, '1');
      await tx.write(`${fp}/be-alloc`, '0');
      await tx.write(`${fp}/0/resolution`, '1024x768');
      await tx.write(`${fp}/0/unique-id`, 'id0');
      await tx.write(`${bp}/frontend`, fp);
      await tx.write(`${bp}/frontend-id`, String(fe));
      await tx.write(`${bp}/online`, '1');
      await tx.write(`${bp}/state`, '1');
    });
    await xs.setPermissions(fp, [{ domid: fe, access: 'none' }]);
    for (const p of ['backend', 'backend-id', 'state', 'be-alloc', '0', '0/resolution', '0/unique-id'])
      await xs.setPermissions(`${fp}/${p}`, [{ domid: fe, access: 'none' }]);
    await xs.setPermissions(bp, [
      { domid: 0, access: 'none' },
      { domid: fe, access: 'read' },
    ]);
    for (const p of ['frontend', 'frontend-id', 'online', 'state'])
      await xs.setPermissions(`${bp}/${p}`, [
        { domid: 0, access: 'none' },
        { domid: fe, access: 'read' },
      ]);

    const result = await domu.wait({ timeoutMs: 240_000 });
    domu = undefined;
    const line = result.output.split('\n').find((l) => l.startsWith('{'));
    expect(line, `${result.output}\n${log.join('\n')}`).toBeDefined();
    const r = JSON.parse(line!) as {
      cases: Record<string, number | string>;
      good: Record<string, unknown>;
      overrun: number | string;
    };
    expect(r).toMatchObject({
      cases: {
        unknownOperation: -C.XEN_EOPNOTSUPP,
        rawGarbage: -C.XEN_EOPNOTSUPP,
        cookieZero: -C.XEN_EINVAL,
        sizeOverflow: -C.XEN_E2BIG,
        rowsPastBufferSize: -C.XEN_EINVAL,
        bufferTooBig: -C.XEN_E2BIG,
        dataOffsetPastEnd: -C.XEN_EINVAL,
        directoryLoops: -C.XEN_EINVAL,
        directoryNotGranted: -C.XEN_EINVAL,
        refsNotGranted: -C.XEN_EINVAL,
        backendAllocNotOffered: -C.XEN_EOPNOTSUPP,
        destroyUnknown: -C.XEN_ENOENT,
        attachUnknownDbuf: -C.XEN_ENOENT,
        flipWithoutConfig: -C.XEN_EINVAL,
        getEdidReadOnlyBuffer: -C.XEN_EINVAL,
        getEdidTooSmall: -C.XEN_EINVAL,
      },
      good: {
        edid: {
          status: 0,
          edidSize: 128,
          header: '00ffffffffffff00',
          checksumOk: true,
          name: 'zcopy',
          width: 1024,
          height: 768,
        },
        create: 0,
        formatVkmsLacks: -C.XEN_EOPNOTSUPP,
        attach: 0,
        attachAgain: -C.XEN_EEXIST,
        configOutside: -C.XEN_EINVAL,
        config: 0,
        flipUnknownFb: -C.XEN_ENOENT,
        flip: 0,
        event: [{ id: 0, type: C.EVT_PG_FLIP, fbCookie: String(0x200n) }],
        detach: 0,
        destroy: 0,
      },
      overrun: 5, // the backend went Closing
    });
    const b = backend.backend;
    for (let i = 0; i < 50 && b.liveMappings > 0; i++) await sleep(100);
    expect(b.liveMappings).toBe(0);
    expect(b.boundPorts).toBe(0);
    expect(log.join('\n')).toMatch(/runs more than a ring ahead/);
    await xs.remove(bp).catch(() => {});
  });
});
