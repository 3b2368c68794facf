// Run in a project that installed the packed tarballs (node smoke.mjs, or an arm64 Node under qemu-user):
// imports every published package and makes one real host syscall through each native addon. Devices this
// host lacks are stood in for by fds of the wrong kind (an eventfd, /dev/null): the addon's ioctl then reaches
// the kernel and comes back as a KernelError with its errno and ioctl name, which proves the addon loaded,
// ran and mapped the error. Prints one JSON line per package: {pkg, ok, detail}.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const results = [];
// Under qemu-user (ZCOPY_SMOKE_QEMU=1) the emulator answers ioctls it does not know itself, with ENOSYS: the
// addon's call still went out as a syscall, but the kernel never saw it.
const qemu = process.env.ZCOPY_SMOKE_QEMU === '1';
const expectKernelError = (fn, errno) => {
  try {
    fn();
  } catch (e) {
    if (e?.name === 'KernelError' && (e.code === errno || (qemu && e.code === 'ENOSYS')))
      return `${e.code} from ${e.request ?? e.syscall}`;
    throw e;
  }
  throw new Error(`expected a KernelError ${errno}, got none`);
};
async function check(pkg, fn) {
  try {
    const mod = await import(pkg);
    results.push({ pkg, ok: true, detail: String(await fn(mod)) });
  } catch (e) {
    results.push({
      pkg,
      ok: false,
      detail: String(e?.stack ?? e)
        .split('\n')
        .slice(0, 4)
        .join(' | '),
    });
  }
}

const { EventFd, Fd, Memfd } = await import('@zcopy/core').catch(() => ({}));
const efd = () => EventFd.create(0);

await check('@zcopy/core', (m) => {
  const e = m.EventFd.create(5);
  const v = e.read();
  e.close();
  if (Number(v) !== 5) throw new Error(`eventfd read ${v}`);
  return `eventfd read ${v}`;
});
await check('@zcopy/dma-buf', (m) => {
  const mfd = Memfd.create('zcopy-smoke', { size: 4096 });
  try {
    m.DmaBuf.borrow(mfd.fd);
  } catch (e) {
    if (e instanceof TypeError && /not a dma-buf/.test(e.message)) return 'fstatfs: a memfd is not a dma-buf';
    throw e;
  } finally {
    mfd.close();
  }
  throw new Error('a memfd was taken for a dma-buf');
});
await check('@zcopy/dma-fence', (m) => {
  const e = efd();
  try {
    return expectKernelError(() => m.fenceStatus(e.fd), 'ENOTTY');
  } finally {
    e.close();
  }
});
await check('@zcopy/dma-heap', (m) => {
  const h = m.DmaHeap.open('null', '/dev');
  try {
    return expectKernelError(() => h.allocate(4096), 'ENOTTY');
  } finally {
    h.close();
  }
});
await check('@zcopy/drm-prime', (m) => {
  const e = efd();
  try {
    return expectKernelError(() => m.DrmDevice.borrow(e.fd), 'ENOTTY');
  } finally {
    e.close();
  }
});
await check('@zcopy/drm-kms', async (m) => {
  // A FIFO (opened read-write: one fd, both ends) carries one DRM_EVENT_FLIP_COMPLETE (struct drm_event_vblank,
  // 32 bytes); FlipEvents polls the fd and the addon read()s and parses the event.
  const fifo = join(tmpdir(), `zcopy-smoke-${process.pid}.fifo`);
  execFileSync('mkfifo', [fifo]);
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  unlinkSync(fifo);
  const ev = Buffer.alloc(32);
  ev.writeUInt32LE(0x02, 0); // DRM_EVENT_FLIP_COMPLETE
  ev.writeUInt32LE(32, 4);
  ev.writeBigUInt64LE(7n, 8); // user_data
  ev.writeUInt32LE(1, 16); // tv_sec
  ev.writeUInt32LE(2, 20); // tv_usec
  ev.writeUInt32LE(3, 24); // sequence
  ev.writeUInt32LE(42, 28); // crtc_id
  const dev = Fd.borrow(fd);
  try {
    const events = new m.FlipEvents(dev);
    const wait = events.expect(7, [42], { timeoutMs: 10_000 });
    writeSync(fd, ev);
    const [e] = await wait;
    if (e?.crtcId !== 42 || e.sequence !== 3) throw new Error(`parsed ${JSON.stringify(e)}`);
    return `read() and parsed a flip event: crtc ${e.crtcId}, sequence ${e.sequence}`;
  } finally {
    closeSync(fd);
  }
});
await check('@zcopy/udmabuf', (m) => {
  const d = m.UdmabufDevice.open('/dev/null');
  const mfd = m.createSealedMemfd(4096);
  try {
    return expectKernelError(() => d.create(mfd), 'ENOTTY');
  } finally {
    mfd.close();
    d.close();
  }
});
await check('@zcopy/grant-table', (m) => {
  const e = efd();
  try {
    return expectKernelError(() => m.GrantSharer.borrow(e.fd).share(1, 1), 'ENOTTY');
  } finally {
    e.close();
  }
});
await check('@zcopy/gntdev-dmabuf', (m) => {
  const e = efd();
  try {
    return expectKernelError(() => m.GntdevDmabuf.borrow(e.fd).exportFromRefs(1, [1]), 'ENOTTY');
  } finally {
    e.close();
  }
});
await check('@zcopy/xen-evtchn', (m) => {
  const ch = m.EventChannel.open({ path: '/dev/null' });
  try {
    return expectKernelError(() => ch.bindUnboundPort(0), 'ENOTTY');
  } finally {
    ch.close();
  }
});
await check('@zcopy/xenstore', async (m) => {
  const path = join(tmpdir(), `zcopy-smoke-${process.pid}.sock`);
  const server = createServer((s) => s.end());
  await new Promise((r) => server.listen(path, r));
  try {
    const xs = m.XenStore.open({ path });
    xs.close();
    return 'connect() to a unix socket';
  } finally {
    server.close();
  }
});
await check('@zcopy/balloon-dma', (m) => Object.keys(m).length > 0 && 'imported (no addon)');
await check('@zcopy/xen', (m) => `imported (no addon); dom0: ${m.isDom0()}`);
await check('@zcopy/cli', (m) => typeof m.doctor === 'function' && 'imported (no addon)');

for (const r of results) console.log(JSON.stringify({ ...r, arch: process.arch }));
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
