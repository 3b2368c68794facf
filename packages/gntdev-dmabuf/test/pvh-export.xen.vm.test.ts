// VM (Xen): the export direction across two domains. dom0 (frontend, PV) grants frames with gntalloc; a PVH domU
// (backend, auto-translated) runs test/pvh/backend.mjs: it exports them as a dma-buf, imports that into gntdev
// (a holder of the buffer), then runs the release handshake.
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GrantSharer } from '@zcopy/grant-table';
import { XenStore } from '@zcopy/xenstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JS of the grant-table harness (JSON messages over xenstore)
import { getJson, putJson } from '../../grant-table/test/harness/rpc.mjs';
import { PAGE_SIZE } from '../src/index.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const packages = resolve(here, '..', '..');
const domuScript = join(packages, '..', 'scripts', 'vm', 'xen-domu.sh');
const included = ['core', 'dma-buf', 'balloon-dma', 'gntdev-dmabuf', 'xenstore', 'grant-table', 'drm-prime'];

interface Reply<T> {
  ok: boolean;
  result: T;
  error?: { name: string; code?: string; message: string };
}

// The PVH domU boots only intermittently under TCG (2 of 4 runs here never reported ready, console empty), so this
// file runs on request: `... run.mjs --mode xen -- env ZCOPY_PVH=1 node node_modules/vitest/vitest.mjs run ...`.
describe.skipIf(process.env.ZCOPY_PVH !== '1')('export from refs in a PVH backend', () => {
  let xs: XenStore;
  let name: string;
  let base: string;
  let domid: number;
  let sharer: GrantSharer;

  async function next<T>(key: string, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await getJson(xs, `${base}/${key}`);
      if (v !== undefined) return v as T;
      if (Date.now() > deadline) {
        const log = await run('tail', ['-n', '30', `/var/log/xen/console/guest-${name}.log`]).catch(() => ({
          stdout: '',
        }));
        throw new Error(`no '${key}' from the domU within ${timeoutMs} ms; console:\n${log.stdout}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  async function reply<T>(key: string): Promise<T> {
    const r = await next<Reply<T>>(key);
    if (!r.ok) throw new Error(`domU ${key}: ${r.error?.name} ${r.error?.code ?? ''}: ${r.error?.message}`);
    return r.result;
  }

  beforeAll(async () => {
    xs = XenStore.open();
    sharer = GrantSharer.open();
    const args = ['start', '--type', 'pvh', '--mem', '512'];
    for (const p of included) args.push('--include', join(packages, p));
    args.push('--', process.execPath, join(here, 'pvh', 'backend.mjs'));
    const { stdout } = await run(domuScript, args);
    name = stdout.trim().split('\n').pop()!;
    domid = Number((await run('xl', ['domid', name])).stdout.trim());
    base = `/local/domain/${domid}/data/zcopy-dmabuf`;
    const ready = await next<{ guestType: string }>('ready', 180_000);
    expect(ready.guestType).toBe('PVH');
  });
  afterAll(async () => {
    if (name) await run('xl', ['destroy', name]).catch(() => {});
    sharer?.close();
    xs?.close();
  });

  it('the frontend’s grants export as a dma-buf: size, no mmap, sync, backings, release handshake', async () => {
    const pages = 4;
    const frames = sharer.share(domid, pages);
    for (let p = 0; p < pages; p++) frames.buffer.write(`frame 1 page ${p}`, p * PAGE_SIZE);
    await putJson(xs, `${base}/frames`, { refs: Array.from(frames.refs) });

    const exp = await reply<{ size: number; refs: number[]; mmap: unknown; sync: string }>('exported');
    expect(exp.size).toBe(pages * PAGE_SIZE);
    // gntdev's exporter has no mmap: the buffer is reached through a device (here gntdev's own import).
    expect(exp.mmap).toMatchObject({ name: 'KernelError', code: 'EINVAL' });
    // The backend's import of its own export (an attachment through gntdev's exporter) holds the buffer below.
    // (dom0 cannot map those refs: Xen refuses grants of pages the backend itself maps from a grant.)
    expect(exp.refs).toHaveLength(pages);
    expect(exp.sync).toBe('ok');

    expect(await reply('vgem')).toEqual({ imported: true });
    const balloon = await reply<Record<string, { currentKb: number } | undefined>>('balloon');
    expect(balloon.before?.currentKb).toBeGreaterThan(0);
    console.log('balloon around a coherent export of', pages, 'pages:', JSON.stringify(balloon));

    const backings = await reply<Record<string, unknown>>('backings');
    expect(backings).toEqual({ wc: pages * PAGE_SIZE, coherent: pages * PAGE_SIZE, both: 'EINVAL' });

    await putJson(xs, `${base}/unmapped`, {});
    const rel = await reply<Record<string, unknown>>('released');
    expect(rel).toEqual({ whileHeld: 'TimeoutError', afterClose: 'released', again: 'already-released' });
    frames.unshare();
  });
});
