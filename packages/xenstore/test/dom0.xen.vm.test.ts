// VM (Xen dom0): the client against the real xenstored, over its socket and over /dev/xen/xenbus.
// Between two domains (watches both ways, a frontend/backend handshake): grant-table's two-domain test.
import { activePollers, ClosedError } from '@zcopy/core';
import { fdSnapshot } from '@zcopy/test-harness';
import { afterEach, describe, expect, it } from 'vitest';
import { XENBUS_DEVICE, XENSTORED_SOCKET, XenStore, XenStoreError } from '../src/index.js';

describe.each([
  ['socket', XENSTORED_SOCKET],
  ['device', XENBUS_DEVICE],
])('xenstore in dom0 over the %s', (transport, path) => {
  const base = `/zcopy-test/${transport}`;
  afterEach(() => {
    expect(activePollers()).toBe(0);
  });

  it('read, write, directory, mkdir, remove and the dom0 nodes the toolstack made', async () => {
    using xs = XenStore.open({ path });
    expect(xs.transport).toBe(transport);
    await expect(xs.read('/local/domain/0/name')).resolves.toBe('Domain-0');
    await expect(xs.getDomainPath(0)).resolves.toBe('/local/domain/0');
    await expect(xs.isDomainIntroduced(0)).resolves.toBe(true);
    await xs.write(`${base}/a`, 'one');
    await xs.write(`${base}/b/c`, Buffer.from([0, 1, 2, 255]));
    await xs.mkdir(`${base}/d`);
    await expect(xs.read(`${base}/a`)).resolves.toBe('one');
    await expect(xs.readBuffer(`${base}/b/c`)).resolves.toEqual(Buffer.from([0, 1, 2, 255]));
    await expect(xs.read(`${base}/d`)).resolves.toBe('');
    expect((await xs.directory(base)).sort()).toEqual(['a', 'b', 'd']);
    await xs.remove(`${base}/b`);
    expect((await xs.directory(base)).sort()).toEqual(['a', 'd']);
    const e = await xs.read(`${base}/b/c`).catch((err) => err);
    expect(e).toBeInstanceOf(XenStoreError);
    expect(e).toMatchObject({ code: 'ENOENT', request: 'XS_READ', node: `${base}/b/c` });
    await expect(xs.tryRead(`${base}/b`)).resolves.toBeUndefined();
    await xs.remove(base);
  });

  it('permissions round-trip; many concurrent requests each get their own reply', async () => {
    using xs = XenStore.open({ path });
    await xs.write(`${base}/p`, 'x');
    const perms = [
      { domid: 0, access: 'none' as const },
      { domid: 3, access: 'read' as const },
      { domid: 4, access: 'both' as const },
    ];
    await xs.setPermissions(`${base}/p`, perms);
    await expect(xs.getPermissions(`${base}/p`)).resolves.toEqual(perms);
    await Promise.all(Array.from({ length: 50 }, (_, i) => xs.write(`${base}/many/${i}`, `v${i}`)));
    const vals = await Promise.all(Array.from({ length: 50 }, (_, i) => xs.read(`${base}/many/${i}`)));
    expect(vals).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`));
    await xs.remove(base);
  });

  it('watches: the registration event, then every change below the path, from another connection', async () => {
    using watcher = XenStore.open({ path });
    using writer = XenStore.open({ path });
    await writer.write(`${base}/w/x`, '0');
    const w = await watcher.watch(`${base}/w`);
    await expect(w.next({ timeoutMs: 5000 })).resolves.toMatchObject({ path: `${base}/w` });
    await writer.write(`${base}/w/x`, '1');
    await writer.write(`${base}/elsewhere`, '1');
    await writer.write(`${base}/w/y/z`, '2');
    await writer.remove(`${base}/w/x`);
    const paths: string[] = [];
    for await (const ev of w) {
      paths.push(ev.path);
      if (paths.length === 3) break;
    }
    expect(paths).toEqual([`${base}/w/x`, `${base}/w/y/z`, `${base}/w/x`]);
    await w.close();
    await writer.write(`${base}/w/x`, '3');
    await expect(w.next()).rejects.toBeInstanceOf(ClosedError);
    await writer.remove(base);
  });

  it('transactions: commit, abort, and a conflicting writer makes commit report false', async () => {
    using xs = XenStore.open({ path });
    using other = XenStore.open({ path });
    await xs.write(`${base}/t/n`, '1');
    await xs.transaction(async (tx) => {
      const n = Number(await tx.read(`${base}/t/n`));
      await tx.write(`${base}/t/n`, String(n + 1));
    });
    await expect(xs.read(`${base}/t/n`)).resolves.toBe('2');
    const aborted = await xs.startTransaction();
    await aborted.write(`${base}/t/n`, 'never');
    await aborted.abort();
    await expect(xs.read(`${base}/t/n`)).resolves.toBe('2');
    const tx = await xs.startTransaction();
    await tx.read(`${base}/t/n`);
    await tx.write(`${base}/t/n`, 'from tx');
    await other.write(`${base}/t/n`, 'from other');
    await expect(tx.commit()).resolves.toBe(false);
    await expect(xs.read(`${base}/t/n`)).resolves.toBe('from other');
    await expect(tx.read(`${base}/t/n`)).rejects.toBeInstanceOf(ClosedError);
    // transaction() retries: the first run conflicts, the second commits.
    let runs = 0;
    await xs.transaction(async (t) => {
      runs++;
      const v = await t.read(`${base}/t/n`);
      if (runs === 1) await other.write(`${base}/t/n`, 'interference');
      await t.write(`${base}/t/n`, `${v}+`);
    });
    expect(runs).toBe(2);
    await expect(xs.read(`${base}/t/n`)).resolves.toBe('interference+');
    await xs.remove(base);
  });

  it('1,000 request and watch cycles leave no fd behind', async () => {
    const fds = fdSnapshot();
    for (let i = 0; i < 100; i++) {
      using xs = XenStore.open({ path });
      const w = await xs.watch(`${base}/leak`);
      await w.next({ timeoutMs: 5000 });
      for (let j = 0; j < 9; j++) await xs.write(`${base}/leak/k`, String(j));
      await w.close();
    }
    expect(await fds.leaked()).toEqual([]);
  });
});
