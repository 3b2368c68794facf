// A fake machine for the doctor: a temp directory with the files a check reads (/proc, /sys, /dev, /boot).
// Its "device nodes" are regular files (they open like any file) or real char devices made with mknod.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export class FakeRoot {
  readonly dir = mkdtempSync(join(tmpdir(), 'zcopy-doctor-'));

  file(path: string, content = ''): this {
    mkdirSync(dirname(join(this.dir, path)), { recursive: true });
    writeFileSync(join(this.dir, path), content);
    return this;
  }

  mkdir(path: string): this {
    mkdirSync(join(this.dir, path), { recursive: true });
    return this;
  }

  /** A real char device node (root only). */
  chardev(path: string, major: number, minor: number): this {
    mkdirSync(dirname(join(this.dir, path)), { recursive: true });
    execFileSync('mknod', [join(this.dir, path), 'c', String(major), String(minor)]);
    return this;
  }

  /** Kernel config lines ('CONFIG_X=y', '# CONFIG_Y is not set') as /proc/config.gz. */
  procConfig(lines: string[]): this {
    mkdirSync(join(this.dir, 'proc'), { recursive: true });
    writeFileSync(join(this.dir, 'proc/config.gz'), gzipSync(`${lines.join('\n')}\n`));
    return this;
  }

  mounts(lines: string[]): this {
    return this.file('/proc/mounts', `${lines.join('\n')}\n`);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A char major no driver has registered (open of such a node is ENXIO). */
export function unusedCharMajor(): number {
  const text = readFileSync('/proc/devices', 'utf8');
  const chars = text.slice(0, text.indexOf('Block devices:'));
  const used = new Set([...chars.matchAll(/^\s*(\d+) /gm)].map((m) => Number(m[1])));
  // The ranges Documentation/admin-guide/devices.txt reserves for local/experimental use.
  const free = [60, 61, 62, 63, 120, 121, 122, 123, 124, 125, 126, 127].find((m) => !used.has(m));
  if (free === undefined) throw new Error('no unused experimental char major');
  return free;
}
