// Makes sure the guest images exist by running the images/ recipes (each is cached by a hash of its recipe
// and prints the path of what it built on its last stdout line). Their progress goes to our stderr.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crossBuildAddons } from '../cross-addons.mjs';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const imagesDir = join(repoRoot, 'images');

const memo = new Map();

/** Runs images/<script> once per process and resolves to the last line it printed on stdout. */
export function imagePath(script, args = []) {
  const key = [script, ...args].join(' ');
  if (!memo.has(key)) {
    const p = runRecipe(script, args);
    p.catch(() => memo.delete(key)); // a failed build may be retried
    memo.set(key, p);
  }
  return memo.get(key);
}

function runRecipe(script, args) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(imagesDir, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('/')) resolve(last);
      else
        reject(
          new Error(`images/${script} failed (exit ${code})${out ? `: ${out.trim().slice(-500)}` : ''}`),
        );
    });
  });
}

/**
 * Paths of everything a guest of this mode and arch boots from. arm64 (cross-built kernel, arm64 busybox
 * initramfs) also gets `lowers`: its own userland laid over the host root (build-arm64-root.sh), and the
 * repository's addons cross-built for arm64 (build/linux-arm64, bound over build/Release in the guest).
 */
export async function ensureImages(mode, arch = 'x64') {
  if (arch === 'arm64') return ensureArm64Images(mode);
  if (arch !== 'x64') throw new Error(`unknown VM arch ${arch} (x64 or arm64)`);
  // Sequential on purpose: the kernel build takes both cores.
  const kernel = await imagePath('build-kernel.sh');
  if (mode !== 'xen') return { kernel, initramfs: await imagePath('build-initramfs.sh') };
  const xenRoot = await imagePath('fetch-xen.sh');
  // dom0's initramfs carries the domU base ramdisk; init binds it at /run/zcopy-extra in the guest root.
  const initramfs = await imagePath('build-xen-initramfs.sh');
  const domuBase = '/run/zcopy-extra/domu-base.cpio';
  return { kernel, initramfs, xenRoot, xenHypervisor: join(xenRoot, 'boot', 'xen'), domuBase };
}

async function ensureArm64Images(mode) {
  const kernel = await imagePath('build-kernel.sh', ['arm64']);
  const initramfs = await imagePath('build-arm64-initramfs.sh');
  const arm64Root = await imagePath('build-arm64-root.sh');
  await crossBuildAddons('arm64', { repo: repoRoot }).catch((e) => {
    throw new Error(`cross-building the arm64 addons for the guest failed: ${e.message}`);
  });
  if (mode !== 'xen') return { kernel, initramfs, lowers: [arm64Root] };
  // Xen's arm64 tools are in the arm64 layer already (fetch-arm64-debs.sh); dom0's initramfs carries the arm64
  // domU base as on x86; the hypervisor is Debian's arm64 Image.
  const debs = await imagePath('fetch-arm64-debs.sh');
  return {
    kernel,
    initramfs: await imagePath('build-xen-initramfs.sh', ['arm64']),
    lowers: [arm64Root],
    xenHypervisor: join(debs, 'boot', 'xen-4.17-arm64'),
    domuBase: '/run/zcopy-extra/domu-base.cpio',
  };
}
