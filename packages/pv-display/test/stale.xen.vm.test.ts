// VM (Xen dom0, no domU): devices the backend must not serve. A backend that starts while the toolstack is
// removing a device (libxl writes `online`=0 in the backend directory, then waits for Closed and removes it: a
// guest that ended, `xl vdispl-detach`), or whose frontend domain xenstored does not know, would otherwise write
// InitWait into it and list it as a frontend waiting to connect: seen in arm64 runs, where a test's new backend
// found the previous test's domain. Such a device is logged and left alone; once it is online (and its domain
// known) it is served like any other.
import { XenStore } from '@zcopy/xenstore';
import { afterAll, describe, expect, it } from 'vitest';
import { startCopyBackend } from '../src/index.js';
import { sleep, until } from './helpers.js';

describe('devices the backend does not serve', () => {
  const xs = XenStore.open();
  let backend: Awaited<ReturnType<typeof startCopyBackend>> | undefined;
  const gone = 4000; // no such domain
  const paths: string[] = [];
  afterAll(async () => {
    await backend?.close();
    for (const p of paths) await xs.remove(p).catch(() => {});
    xs.close();
  });

  /** A vdispl device as libxl writes it: frontend side under data/ (no kernel driver sees it), backend side. */
  async function device(fe: number, online: '0' | '1'): Promise<string> {
    const fp = `/local/domain/${fe}/data/zcopy-stale-vdispl/0`;
    const bp = `/local/domain/0/backend/vdispl/${fe}/0`;
    paths.push(fp, `/local/domain/0/backend/vdispl/${fe}`);
    await xs.transaction(async (tx) => {
      await tx.write(`${fp}/backend`, bp);
      await tx.write(`${fp}/backend-id`, '0');
      await tx.write(`${fp}/state`, '1');
      await tx.write(`${fp}/0/resolution`, '1024x768');
      await tx.write(`${bp}/frontend`, fp);
      await tx.write(`${bp}/frontend-id`, String(fe));
      await tx.write(`${bp}/online`, online);
      await tx.write(`${bp}/state`, online === '0' ? '5' : '1');
    });
    return bp;
  }

  it('a device being removed (online=0) is answered Closed, one of a domain that does not exist is left alone; neither is listed; online again: served', async () => {
    expect(await xs.isDomainIntroduced(0)).toBe(true);
    expect(await xs.isDomainIntroduced(gone)).toBe(false);
    const log: string[] = [];
    backend = await startCopyBackend({ log: (l) => log.push(l) });
    const b = backend.backend;
    const removing = await device(0, '0');
    const orphan = await device(gone, '1');
    await until(
      'both refusals in the log',
      () => log.filter((l) => /not served/.test(l)).length >= 2,
      30_000,
    );
    await sleep(1000);
    expect(b.devices.map((d) => d.frontendDomid)).toEqual([]);
    expect(log.join('\n')).toMatch(
      /device 0\/0: being removed by the toolstack \(online=0\): answered Closed, not served/,
    );
    expect(log.join('\n')).toMatch(
      new RegExp(`device ${gone}/0: frontend domain ${gone} does not exist: not served`),
    );
    // The one being removed is answered Closed (what libxl waits for), the orphan left as it was; neither got
    // InitWait or the versions a served device gets.
    expect(await xs.read(`${removing}/state`)).toBe('6');
    expect(await xs.read(`${orphan}/state`)).toBe('1');
    expect(await xs.tryRead(`${removing}/versions`)).toBeUndefined();
    expect(await xs.tryRead(`${orphan}/versions`)).toBeUndefined();

    // The same device put back online (its domain, dom0, exists): served, InitWait written.
    await xs.write(`${removing}/online`, '1');
    const d = await until(
      'the device to be served',
      () => b.devices.find((x) => x.frontendDomid === 0),
      30_000,
    );
    expect(d).toMatchObject({ devid: 0, state: 'waiting' });
    let state: string | undefined;
    for (let t = 0; t < 300 && state !== '2'; t++) {
      state = await xs.tryRead(`${removing}/state`);
      if (state !== '2') await sleep(100);
    }
    expect(state, 'InitWait written').toBe('2');
    expect(b.devices.map((x) => x.frontendDomid)).toEqual([0]);
    await backend.close();
    backend = undefined;
    // Closed on the way out (the device it served), nothing mapped or bound.
    expect(await xs.read(`${removing}/state`)).toBe('6');
  });
});
