// The device tree Xen arm64 boots from (QEMU `-kernel xen -dtb`, no U-Boot): QEMU's own tree for exactly the
// machine options of the run (dumped with dumpdtb: memory, CPUs and GIC must match what QEMU then emulates),
// with /chosen replaced by Xen's command line, dom0's, and the two boot modules (dom0's kernel and initramfs)
// that QEMU loads raw at fixed addresses (`-device loader`). Made per run, in outDir: dom0's command line holds
// the run's outDir, and the modules' sizes change with the images. Needs dtc (device-tree-compiler).
import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MiB = 1024 * 1024;
const align = (n, a) => Math.ceil(n / a) * a;
const hex = (n) => `0x${n.toString(16)}`;
/** A DTS string literal. */
const dtsString = (s) => `"${String(s).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/**
 * Where the modules go: above the DTB QEMU places 128 MiB into RAM (virt's RAM starts at 1 GiB), each 2 MiB
 * aligned. Returns their addresses and sizes.
 */
export function moduleLayout(kernel, initramfs) {
  const kernelAt = 0x40000000 + 256 * MiB;
  const kernelSize = statSync(kernel).size;
  const initrdAt = align(kernelAt + kernelSize, 2 * MiB);
  return { kernelAt, kernelSize, initrdAt, initrdSize: statSync(initramfs).size };
}

/** Writes outDir/xen.dtb for `machineArgs` (QEMU's -machine/-cpu/-m/-smp options); returns its path. */
export function makeXenDtb({ qemu, machineArgs, outDir, xenCmdline, dom0Cmdline, layout }) {
  const dumped = join(outDir, 'virt.dtb');
  const machineAt = machineArgs.indexOf('-machine');
  const args = [...machineArgs];
  args[machineAt + 1] = `${args[machineAt + 1]},dumpdtb=${dumped}`;
  execFileSync(qemu, [...args, '-nodefaults', '-display', 'none'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const dts = execFileSync('dtc', ['-q', '-I', 'dtb', '-O', 'dts', dumped], { encoding: 'utf8' });
  // Drop QEMU's /chosen (a top-level node: one tab deep) and add ours.
  const start = dts.indexOf('\n\tchosen {');
  if (start < 0) throw new Error('arm64-dtb: no /chosen in the dumped device tree');
  const end = dts.indexOf('\n\t};', start);
  const { kernelAt, kernelSize, initrdAt, initrdSize } = layout;
  const chosen = [
    '\tchosen {',
    '\t\t#address-cells = <0x02>;',
    '\t\t#size-cells = <0x02>;',
    '\t\tstdout-path = "/pl011@9000000";',
    `\t\txen,xen-bootargs = ${dtsString(xenCmdline)};`,
    `\t\txen,dom0-bootargs = ${dtsString(dom0Cmdline)};`,
    `\t\tmodule@${kernelAt.toString(16)} {`,
    '\t\t\tcompatible = "multiboot,kernel", "multiboot,module";',
    `\t\t\treg = <0x00 ${hex(kernelAt)} 0x00 ${hex(kernelSize)}>;`,
    '\t\t};',
    `\t\tmodule@${initrdAt.toString(16)} {`,
    '\t\t\tcompatible = "multiboot,ramdisk", "multiboot,module";',
    `\t\t\treg = <0x00 ${hex(initrdAt)} 0x00 ${hex(initrdSize)}>;`,
    '\t\t};',
    '\t};',
  ].join('\n');
  const ours = `${dts.slice(0, start)}\n${dts.slice(end + 4).replace(/\n};\s*$/, `\n\n${chosen}\n};\n`)}`;
  writeFileSync(join(outDir, 'xen.dts'), ours);
  const dtb = join(outDir, 'xen.dtb');
  execFileSync('dtc', ['-q', '-I', 'dts', '-O', 'dtb', '-o', dtb, join(outDir, 'xen.dts')]);
  return dtb;
}
