// QEMU command lines for the two guest modes on the two arches. KVM is not usable on our machines, so always TCG.
import { makeXenDtb, moduleLayout } from './arm64-dtb.mjs';

/** Escapes a value for a QEMU -option list (commas are doubled). */
const q = (s) => String(s).replaceAll(',', ',,');

/**
 * The 9p shares every guest gets: the host root read-only, outDir writable (see images/init), and optional
 * extra read-only layers laid over the host root (tags lower0..N). Those are separate shares because overlayfs
 * refuses a lower layer that lies inside another one (the cache is under the host root).
 */
function shares(outDir, lowers = []) {
  return [
    ...lowers.flatMap((dir, i) => [
      '-fsdev',
      `local,id=lower${i},path=${q(dir)},security_model=none,readonly=on,multidevs=remap`,
      '-device',
      `virtio-9p-pci,fsdev=lower${i},mount_tag=lower${i}`,
    ]),
    '-fsdev',
    `local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap`,
    '-device',
    'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
    '-fsdev',
    `local,id=outdir,path=${q(outDir)},security_model=none`,
    '-device',
    'virtio-9p-pci,fsdev=outdir,mount_tag=outdir',
  ];
}

// Bare guests use single-threaded TCG: with one host thread per vCPU (MTTCG) a vCPU can run a stale
// translation of code the kernel is patching with int3 (static keys) and oops ("int3: 0000 [#1]"): 2 of ~60
// boots. Round-robin vCPUs do not race; single-threaded jobs measured no slower. Xen guests keep MTTCG: under
// thread=single, PVH domUs crash (page fault on %gs in the HVM callback entry), 2 of 2; with MTTCG they boot.
const common = (memMiB, accel) => [
  ...(process.env.ZCOPY_QEMU_DATA ? ['-L', process.env.ZCOPY_QEMU_DATA] : []), // firmware of another QEMU
  '-accel',
  process.env.ZCOPY_VM_ACCEL ?? accel, // (override for experiments only)
  '-smp',
  '2',
  '-m',
  String(memMiB),
  '-nodefaults',
  '-no-user-config',
  '-display',
  'none',
  '-serial',
  'stdio', // console on our stdout: the host parses it line by line
  '-monitor',
  'none',
  '-no-reboot', // with panic=-1 a guest panic ends QEMU at once
  '-device',
  'virtio-gpu-pci', // the DRM tests want a virtio-gpu node besides vgem/vkms
];

// Kernel arguments the guest init reads (zcopy.*) plus a quiet, panic-exits console.
// hugePages: 2 MiB huge pages the bare guest reserves at boot (hugetlb memfds, udmabuf over huge pages); Xen's
// PV dom0 cannot use huge pages, so it gets none.
// timerCheck false: no_timer_check, for the x86 bare guest. Its kernel counts PIT ticks over a TSC-timed delay
// before it trusts the IO-APIC timer route; under TCG on a loaded host (the CI's first minutes: host tests,
// packaging, a Xen guest beside it) the single vCPU thread misses those ticks. The check then fails (8 of 8 boots
// under 8 busy loops on 2 cores) and now and then every fallback fails too: "IO-APIC + timer doesn't work!", a
// panic before the job (1 of 8 there; CI of stop 25 twice in a row). QEMU's PIT and IO-APIC are wired right; only
// the measurement is unfit for an emulated CPU: the kernel sets no_timer_check itself in KVM, VMware and Hyper-V
// guests (a TCG guest has no signature to be recognised by). images/README.md.
function guestArgs({ outDir, lowers = 0, console, hugePages = 0, timerCheck = true }) {
  const a = [
    ...(timerCheck ? [] : ['no_timer_check']),
    `console=${console}`,
    'panic=-1',
    'oops=panic',
    'quiet',
    'loglevel=4',
    'cma=64M',
    `zcopy.out=${outDir}`,
  ];
  if (hugePages) a.push(`hugepagesz=2M`, `hugepages=${hugePages}`);
  if (lowers) a.push(`zcopy.lowers=${lowers}`);
  return a.join(' ');
}

/** The QEMU system emulator of an arch (ZCOPY_QEMU / ZCOPY_QEMU_ARM64 override them for experiments). */
export function qemuBinary(arch = 'x64') {
  return arch === 'arm64'
    ? (process.env.ZCOPY_QEMU_ARM64 ?? 'qemu-system-aarch64')
    : (process.env.ZCOPY_QEMU ?? 'qemu-system-x86_64');
}

export function bareArgs({
  arch = 'x64',
  kernel,
  initramfs,
  outDir,
  lowers = [],
  memMiB = 2048,
  extra = [],
}) {
  if (arch === 'arm64') return bareArm64Args({ kernel, initramfs, outDir, lowers, memMiB, extra });
  return [
    ...common(memMiB, 'tcg,thread=single'),
    '-cpu',
    'max',
    '-kernel',
    kernel,
    '-initrd',
    initramfs,
    '-append',
    guestArgs({ outDir, console: 'ttyS0', hugePages: 16, timerCheck: false }),
    ...shares(outDir),
    ...extra,
  ];
}

/**
 * Xen (multiboot from QEMU) with dom0 on the same 9p root plus the extracted Xen tools as an upper lower
 * layer. -cpu max crashes a PV dom0 under TCG; PVH guests need 1G/2M HAP pages off (TCG's nested NPT).
 */
export function xenArgs({
  arch = 'x64',
  lowers = [],
  kernel,
  initramfs,
  xenHypervisor,
  xenRoot,
  outDir,
  memMiB = 3072,
  dom0MiB = 1024,
  extra = [],
}) {
  if (arch === 'arm64')
    return xenArm64Args({ kernel, initramfs, xenHypervisor, outDir, lowers, memMiB, dom0MiB, extra });
  const xenCmdline = [
    `dom0_mem=${dom0MiB}M,max:${dom0MiB}M`,
    'dom0_max_vcpus=2',
    // One physical CPU for Xen: with both, PVH domUs died now and then (QEMU's nested SVM under MTTCG with two
    // vCPU threads); with one, none died in 50 boots under load (images/README.md). ZCOPY_XEN_MAXCPUS=2 for
    // experiments. (QEMU keeps -smp 2: Xen leaves the second CPU parked, and it costs the host nothing.)
    `maxcpus=${process.env.ZCOPY_XEN_MAXCPUS ?? 1}`,
    'console=com1',
    'com1=115200,8n1',
    'loglvl=warning',
    'guest_loglvl=warning',
    'hap_1gb=0',
    'hap_2mb=0',
    'bootscrub=0', // scrubbing GiBs of RAM under TCG costs seconds for nothing
    ...(process.env.ZCOPY_XEN_CMDLINE ? [process.env.ZCOPY_XEN_CMDLINE] : []), // (experiments only)
  ].join(' ');
  return [
    ...common(memMiB, 'tcg,thread=multi'),
    '-cpu',
    process.env.ZCOPY_XEN_CPU ?? 'qemu64,+svm,+npt', // (+nrip-save: TCG cannot provide it anyway)
    '-kernel',
    xenHypervisor,
    '-append',
    xenCmdline,
    // multiboot modules: dom0 kernel (with its command line), then its initramfs
    '-initrd',
    `${q(`${kernel} ${guestArgs({ outDir, lowers: 1, console: 'hvc0' })}`)},${q(initramfs)}`,
    ...shares(outDir, [xenRoot]),
    ...extra,
  ];
}

/**
 * arm64 (QEMU `virt`: GICv3, PL011 console ttyAMA0, generic PCI) under TCG, emulating a Cortex-A57 (`max` would
 * emulate pointer authentication, slow under TCG). MTTCG: the x86 reason for a single thread (int3 patching
 * of static keys) does not exist on arm64. `lowers` (the arm64 userland, build-arm64-root.sh) lie over the host
 * root; init binds the addons of build/linux-arm64 (scripts/vm/arm64-up.sh does, as the job's first setup).
 */
function bareArm64Args({ kernel, initramfs, outDir, lowers, memMiB, extra }) {
  return [
    ...common(memMiB, 'tcg,thread=multi'),
    '-machine',
    'virt,gic-version=3',
    '-cpu',
    process.env.ZCOPY_ARM64_CPU ?? 'cortex-a57',
    '-kernel',
    kernel,
    '-initrd',
    initramfs,
    '-append',
    guestArgs({ outDir, console: 'ttyAMA0', hugePages: 16, lowers: lowers.length }),
    ...shares(outDir, lowers),
    ...extra,
  ];
}

/**
 * Xen 4.17 arm64 (Debian's, an arm64 Image) entered at EL2 (`virtualization=on`), no U-Boot: QEMU loads Xen
 * with -kernel, the device tree with -dtb (made for this run: scripts/vm/arm64-dtb.mjs) and dom0's kernel and
 * initramfs raw at the addresses /chosen names. dom0 gets the same 9p root and layers as a bare arm64 guest
 * (the arm64 userland holds the Xen tools). Two Xen CPUs: the x86 one-CPU rule is about QEMU's nested SVM.
 */
function xenArm64Args({ kernel, initramfs, xenHypervisor, outDir, lowers, memMiB, dom0MiB, extra }) {
  const machineArgs = [
    '-machine',
    'virt,virtualization=on,gic-version=3',
    '-cpu',
    process.env.ZCOPY_ARM64_CPU ?? 'cortex-a57',
    '-m',
    String(memMiB),
    '-smp',
    '2',
  ];
  const xenCmdline = [
    'console=dtuart',
    'dtuart=/pl011@9000000',
    `dom0_mem=${dom0MiB}M`,
    'dom0_max_vcpus=2',
    'loglvl=warning',
    'guest_loglvl=warning',
    'bootscrub=0',
    ...(process.env.ZCOPY_XEN_CMDLINE ? [process.env.ZCOPY_XEN_CMDLINE] : []),
  ].join(' ');
  const dom0Cmdline = `earlycon=xen rdinit=/init ${guestArgs({ outDir, lowers: lowers.length, console: 'hvc0' })}`;
  const layout = moduleLayout(kernel, initramfs);
  const dtb = makeXenDtb({ qemu: qemuBinary('arm64'), machineArgs, outDir, xenCmdline, dom0Cmdline, layout });
  return [
    ...common(memMiB, 'tcg,thread=multi'), // the same -m and -smp as machineArgs: the DTB describes them
    ...machineArgs.slice(0, 4), // -machine, -cpu
    '-kernel',
    xenHypervisor,
    '-dtb',
    dtb,
    '-device',
    `loader,file=${q(kernel)},addr=0x${layout.kernelAt.toString(16)},force-raw=on`,
    '-device',
    `loader,file=${q(initramfs)},addr=0x${layout.initrdAt.toString(16)},force-raw=on`,
    ...shares(outDir, lowers),
    ...extra,
  ];
}
