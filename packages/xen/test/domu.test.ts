// Host: the parts of the domU launcher that need no Xen: the cpio newc writer (read back with cpio(1)), the job
// script (run by sh), the xl config and its environment hooks, the console protocol, the package closure.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CpioWriter,
  checkDomUType,
  defaultDomUType,
  jobScript,
  packageClosure,
  parseConsole,
  START_MARKER,
  xlConfig,
} from '../src/domu/index.js';
import { testDir } from './tmp.js';

const { dir } = testDir('zcopy-domu-');
const saved = { ...process.env };
afterEach(() => {
  for (const k of ['ZCOPY_DOMU_EXTRA', 'ZCOPY_DOMU_CFG']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('CpioWriter', () => {
  it('writes a newc archive of a tree (files, modes, symlinks, parents) after a base, which cpio reads back', () => {
    const src = join(dir, 'src', 'pkg');
    mkdirSync(join(src, 'node_modules', '@zcopy'), { recursive: true });
    writeFileSync(join(src, 'index.js'), 'export const x = 1;\n');
    writeFileSync(join(src, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(src, 'odd'), Buffer.alloc(5, 7)); // a size that needs padding
    symlinkSync('../../../other', join(src, 'node_modules', '@zcopy', 'other'));
    const archive = join(dir, 'ramdisk.cpio');
    writeFileSync(archive, Buffer.alloc(512)); // stands in for the base ramdisk (padded to 512 bytes)
    const fd = openSync(archive, 'a');
    const w = new CpioWriter(fd, 512);
    w.tree(src);
    w.file('job.sh', Buffer.from('echo hi\n'));
    w.end();
    closeSync(fd);
    const ours = readFileSync(archive).subarray(512);
    expect(ours.length % 4).toBe(0);
    const out = join(dir, 'out');
    mkdirSync(out);
    execFileSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames'], { cwd: out, input: ours });
    const back = join(out, src.replace(/^\//, ''));
    expect(readFileSync(join(back, 'index.js'), 'utf8')).toBe('export const x = 1;\n');
    expect(readFileSync(join(back, 'odd'))).toEqual(Buffer.alloc(5, 7));
    expect(execFileSync('stat', ['-c', '%a', join(back, 'run.sh')], { encoding: 'utf8' }).trim()).toBe('755');
    expect(readlinkSync(join(back, 'node_modules', '@zcopy', 'other'))).toBe('../../../other');
    expect(readFileSync(join(out, 'job.sh'), 'utf8')).toBe('echo hi\n');
    const listing = execFileSync('cpio', ['-it', '--quiet'], { input: ours, encoding: 'utf8' }).split('\n');
    // Every parent directory comes before what is in it, once.
    const parents = src.replace(/^\//, '').split('/');
    for (let i = 1; i <= parents.length; i++)
      expect(listing.filter((l) => l === parents.slice(0, i).join('/'))).toHaveLength(1);
  });
});

describe('job script', () => {
  it('exports, changes directory and execs the command, every word quoted for sh', () => {
    const script = jobScript({
      env: { GREETING: 'it\'s "here" $HOME' },
      cwd: dir,
      command: ['sh', '-c', 'printf "%s|%s|%s" "$GREETING" "$(pwd)" "$0"', "a b'c"],
    });
    const f = join(dir, 'job.sh');
    writeFileSync(f, script);
    expect(execFileSync('sh', [f], { encoding: 'utf8' })).toBe(`it's "here" $HOME|${dir}|a b'c`);
    expect(() => jobScript({ env: { 'BAD NAME': 'x' }, command: ['true'] })).toThrow(TypeError);
    writeFileSync(f, jobScript({ cwd: join(dir, 'missing'), command: ['true'] }));
    expect(() => execFileSync('sh', [f], { stdio: 'ignore' })).toThrow(
      expect.objectContaining({ status: 126 }),
    );
  });
});

describe('domU types per arch', () => {
  it('pv by default on x86, pvh on arm64; pv refused on arm64, anything else refused everywhere', () => {
    expect(defaultDomUType('x64')).toBe('pv');
    expect(defaultDomUType('arm64')).toBe('pvh');
    expect(defaultDomUType()).toBe(process.arch === 'arm64' ? 'pvh' : 'pv');
    expect(() => checkDomUType('pv', 'x64')).not.toThrow();
    expect(() => checkDomUType('pvh', 'x64')).not.toThrow();
    expect(() => checkDomUType('pvh', 'arm64')).not.toThrow();
    expect(() => checkDomUType('pv', 'arm64')).toThrow(/'pv' does not exist on arm64/);
    expect(() => checkDomUType('hvm', 'x64')).toThrow(TypeError);
  });
});

describe('xl config', () => {
  it('is the script’s, with ZCOPY_DOMU_EXTRA kernel arguments and ZCOPY_DOMU_CFG lines', () => {
    const o = { name: 'd1', type: 'pvh' as const, kernel: '/k', ramdisk: '/r', memMiB: 256, vcpus: 2 };
    delete process.env.ZCOPY_DOMU_EXTRA;
    delete process.env.ZCOPY_DOMU_CFG;
    const plain = xlConfig(o);
    expect(plain).toContain('name = "d1"\ntype = "pvh"\nkernel = "/k"\nramdisk = "/r"\n');
    expect(plain).toContain('extra = "console=hvc0 quiet panic=-1 rdinit=/init initramfs_async=0"\n');
    expect(plain).toContain(
      'memory = 256\nvcpus = 2\non_poweroff = "destroy"\non_reboot = "destroy"\non_crash = "destroy"\n',
    );
    process.env.ZCOPY_DOMU_EXTRA = 'loglevel=8';
    process.env.ZCOPY_DOMU_CFG = 'tsc_mode="native"';
    const tuned = xlConfig(o);
    expect(tuned).toContain('initramfs_async=0 loglevel=8"');
    expect(tuned.trimEnd().endsWith('tsc_mode="native"')).toBe(true);
    const vdispl = "vdispl = [ 'backend=0,be-alloc=0,connectors=id0:1024x768' ]";
    const withDevice = xlConfig({ ...o, extra: [vdispl] });
    expect(withDevice.trimEnd().endsWith(`tsc_mode="native"\n${vdispl}`)).toBe(true);
    delete process.env.ZCOPY_DOMU_EXTRA;
    delete process.env.ZCOPY_DOMU_CFG;
  });
});

describe('console protocol', () => {
  it('output between the markers, the status once reported, carriage returns dropped', () => {
    const boot = 'Linux version ...\r\nsome boot line\r\n';
    expect(parseConsole(boot)).toEqual({ started: false, status: undefined, output: '' });
    const running = `${boot}${START_MARKER}\r\nline 1\r\nline 2\r\n`;
    expect(parseConsole(running)).toMatchObject({ started: true, status: undefined });
    const done = `${running}@@zcopy-domu-exit 3@@\r\n[ power off ]\r\n`;
    expect(parseConsole(done)).toEqual({ started: true, status: 3, output: 'line 1\nline 2\n' });
  });
});

describe('packageClosure', () => {
  it('a package and its dependencies (not devDependencies), as real directories', () => {
    const packages = resolve(import.meta.dirname, '..', '..');
    const closure = packageClosure([join(packages, 'grant-table')]);
    expect(closure[0]).toBe(join(packages, 'grant-table'));
    // core's loader, node-gyp-build, comes along from the workspace's node_modules (a real directory too)
    const loader = realpathSync(join(packages, 'core', 'node_modules', 'node-gyp-build'));
    expect(new Set(closure)).toEqual(
      new Set([...['grant-table', 'core', 'xen'].map((p) => join(packages, p)), loader]),
    );
    // the demo's closure: cli and its optional peers named explicitly (peers are not followed on their own)
    const demo = ['@zcopy/drm-kms', '@zcopy/gntdev-dmabuf', '@zcopy/grant-table', '@zcopy/xenstore'];
    const cli = packageClosure([join(packages, 'cli'), ...demo], join(packages, 'cli')).map((d) =>
      d.slice(packages.length + 1),
    );
    expect(packageClosure([join(packages, 'cli')]).map((d) => d.slice(packages.length + 1))).not.toContain(
      'drm-kms',
    );
    expect(cli).toEqual(
      expect.arrayContaining([
        'cli',
        'core',
        'drm-kms',
        'drm-prime',
        'gntdev-dmabuf',
        'balloon-dma',
        'xenstore',
        'xen',
      ]),
    );
    expect(cli).not.toContain('udmabuf'); // a devDependency of gntdev-dmabuf only
    // By name, found from a package that has it in its node_modules.
    expect(packageClosure(['@zcopy/grant-table'], join(packages, 'gntdev-dmabuf'))[0]).toBe(
      join(packages, 'grant-table'),
    );
    expect(() => packageClosure(['@zcopy/nope'], packages)).toThrow(/cannot find the package @zcopy\/nope/);
  });
});
