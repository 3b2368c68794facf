// The zcopy side of bench/run.mjs: the sequences of prime_bench.c through @zcopy/drm-prime.
//   node prime-bench.mjs <vkms card path> <vgem render path> <seconds per case>
// Prints one JSON object per line: {"case": ..., "ops": N, "seconds": S}. Runs the built package (dist/).
import { timed as timedCase } from '../../../scripts/bench/harness.mjs';
import { DrmDevice } from '../dist/index.js';

const [kmsPath, vgemPath, secondsArg = '1'] = process.argv.slice(2);
const seconds = Number(secondsArg);

const timed = (name, op) => timedCase(name, op, seconds);

const kms = DrmDevice.open(kmsPath);
const vgem = DrmDevice.open(vgemPath);

timed('create-dumb+export+import+close', () => {
  const dumb = kms.createDumb({ width: 64, height: 64, bpp: 32 });
  const buf = dumb.exportDmaBuf();
  vgem.importDmaBuf(buf).close();
  buf.close();
  dumb.close();
});

timed('create-dumb+map+destroy', () => {
  const dumb = kms.createDumb({ width: 64, height: 64, bpp: 32 });
  const m = dumb.map();
  m.buffer[0] = 1;
  dumb.destroy(); // unmaps m, then closes the handle
});

// The import returns a second reference to the same handle: closing it leaves the buffer's own reference.
const fixed = kms.createDumb({ width: 64, height: 64, bpp: 32 });
timed('handle->fd->handle round trip', () => {
  const buf = fixed.exportDmaBuf();
  kms.importDmaBuf(buf).close();
  buf.close();
});
fixed.close();
vgem.close();
kms.close();
