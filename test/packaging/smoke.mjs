// Run in a project that installed the packed tarballs (node smoke.mjs, or an arm64 Node under qemu-user):
// imports every published package and makes one real host syscall through each native addon. Devices this
// host lacks are stood in for by fds of the wrong kind (an eventfd): the addon's ioctl then reaches the kernel
// and comes back as a KernelError with its errno and ioctl name, which proves the addon loaded, ran and mapped
// the error. The safe API refuses a wrong fd at open (WrongFdError, by the device's sysfs class) before any
// ioctl, so for device nodes the smoke calls the package's raw binding (its dist/native.js, which the exports
// map does not publish: reached by path) — and checks that the safe API does refuse the stand-in.
// Prints one JSON line per package: {pkg, ok, detail}.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

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
// Each package is imported when its check runs, after the checks before it used the others: a dynamic import
// made after XenStore.open() on a socket once loaded a second @zcopy/core through pnpm's unresolved symlink
// path (Node's realpath after a stat of a socket, nodejs/node#51142; zcopy's stats are bigint now, and
// @zcopy/xenstore's module-resolution test holds that).
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
const require = createRequire(import.meta.url);
/** A package's raw addon binding (dist/native.js's `binding`), reached by path. */
const rawBinding = async (pkg) =>
  (
    await import(
      pathToFileURL(join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'native.js')).href
    )
  ).binding;
/** The safe API refuses the stand-in fd at open: a WrongFdError (a TypeError with code ERR_ZCOPY_WRONG_FD). */
const expectWrongFd = (fn) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof TypeError && e.code === 'ERR_ZCOPY_WRONG_FD') return 'refused at open';
    throw e;
  }
  throw new Error('the wrong fd was taken');
};
/** The raw ioctl on an eventfd: ENOTTY from the kernel; plus the safe API's refusal. */
async function rawIoctl(pkg, m, call, refuse) {
  const b = await rawBinding(pkg);
  const e = efd();
  try {
    const raw = expectKernelError(() => call(b, e.fd), 'ENOTTY');
    return `${raw}; safe API: ${expectWrongFd(() => refuse(m, e.fd))}`;
  } finally {
    e.close();
  }
}

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
await check('@zcopy/dma-heap', (m) =>
  rawIoctl(
    '@zcopy/dma-heap',
    m,
    (b, fd) => b.alloc(fd, 4096, constants.O_RDWR),
    (m, fd) => m.DmaHeap.borrow(fd),
  ),
);
await check('@zcopy/drm-prime', (m) => {
  // DrmDevice checks an fd with the addon's DRM_IOCTL_VERSION: the refusal carries the kernel's answer as cause.
  const e = efd();
  try {
    m.DrmDevice.borrow(e.fd);
  } catch (err) {
    if (err?.code === 'ERR_ZCOPY_WRONG_FD' && err.cause)
      return `refused at open; cause: ${expectKernelError(() => {
        throw err.cause;
      }, 'ENOTTY')}`;
    throw err;
  } finally {
    e.close();
  }
  throw new Error('an eventfd was taken for a DRM device');
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
  const mfd = m.createSealedMemfd(4096);
  return rawIoctl(
    '@zcopy/udmabuf',
    m,
    (b, fd) => b.create(fd, mfd.fd, 0, 4096),
    (m, fd) => m.UdmabufDevice.borrow(fd),
  ).finally(() => mfd.close());
});
await check('@zcopy/grant-table', (m) =>
  rawIoctl(
    '@zcopy/grant-table',
    m,
    (b, fd) => b.allocGrefs(fd, 1, true, 1),
    (m, fd) => m.GrantSharer.borrow(fd),
  ),
);
await check('@zcopy/gntdev-dmabuf', (m) =>
  rawIoctl(
    '@zcopy/gntdev-dmabuf',
    m,
    (b, fd) => b.expFromRefs(fd, 0, 1, Uint32Array.of(1)),
    (m, fd) => m.GntdevDmabuf.borrow(fd),
  ),
);
await check('@zcopy/xen-evtchn', (m) =>
  rawIoctl(
    '@zcopy/xen-evtchn',
    m,
    (b, fd) => b.bindUnboundPort(fd, 0),
    (m, fd) => m.EventChannel.borrow(fd),
  ),
);
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
await check('@zcopy/pv-display', (m) => {
  // The displif ring code on plain pages (no grants here): a request the addon's front helper pushes is the one
  // the backend side takes.
  const page = () => new Uint8Array(new ArrayBuffer(4096));
  const req = page();
  const evt = page();
  m.displifBinding.frontInit(req);
  m.displifBinding.frontInit(evt);
  m.displifBinding.frontPush(req, 0, { id: 7, operation: m.displif.OP_PG_FLIP, fbCookie: 5n });
  const rings = new m.ConnectorRings(req, evt, { notifyReq() {}, notifyEvt() {} });
  const { requests } = rings.take();
  if (requests.length !== 1 || requests[0].id !== 7) throw new Error(`took ${JSON.stringify(requests)}`);
  return 'a displif request through the ring code';
});
await check('@zcopy/balloon-dma', (m) => Object.keys(m).length > 0 && 'imported (no addon)');
await check('@zcopy/xen', (m) => `imported (no addon); dom0: ${m.isDom0()}`);
await check('@zcopy/cli', (m) => typeof m.doctor === 'function' && 'imported (no addon)');

for (const r of results) console.log(JSON.stringify({ ...r, arch: process.arch }));
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
