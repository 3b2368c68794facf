// A cpio "newc" archive (the format the kernel unpacks as an initramfs), written in JS: exec is expensive in a
// PV dom0 under TCG (0.1-1 s per fork+exec), so no `find | cpio`. Layout per entry: the 110-byte ASCII header
// ("070701" and 13 fields of 8 hex digits), the name with its NUL padded to 4 bytes, the data padded to 4;
// the archive ends with an entry named TRAILER!!!. See the kernel's Documentation/driver-api/early-userspace.
import { lstatSync, readdirSync, readFileSync, readlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Writes newc entries to an open fd (appending after whatever is there, e.g. the base ramdisk). */
export class CpioWriter {
  readonly #fd: number;
  #ino = 1;
  #offset: number;
  readonly #dirs = new Set<string>();

  /** `offset`: bytes already in the file (entries are 4-byte aligned relative to the archive's start). */
  constructor(fd: number, offset = 0) {
    this.#fd = fd;
    this.#offset = offset;
  }

  #write(buf: Uint8Array): void {
    let done = 0;
    while (done < buf.length) done += writeSync(this.#fd, buf, done, buf.length - done);
    this.#offset += buf.length;
  }

  #entry(name: string, mode: number, data: Uint8Array, mtime: number, nlink: number): void {
    const nameBytes = Buffer.from(`${name}\0`);
    const fields = [this.#ino++, mode, 0, 0, nlink, mtime, data.length, 0, 0, 0, 0, nameBytes.length, 0];
    const header = `070701${fields.map((f) => (f >>> 0).toString(16).padStart(8, '0')).join('')}`;
    this.#write(Buffer.from(header, 'ascii'));
    this.#write(nameBytes);
    this.#write(Buffer.alloc(pad4(110 + nameBytes.length)));
    if (data.length > 0) {
      this.#write(data);
      this.#write(Buffer.alloc(pad4(data.length)));
    }
  }

  /** A directory and, first, every parent of it not yet written ('a/b/c' writes a, a/b, a/b/c). */
  dir(name: string, mode = 0o755, mtime = 0): void {
    const clean = name.replace(/^\/+|\/+$/g, '');
    if (clean === '' || clean === '.' || this.#dirs.has(clean)) return;
    const parent = dirname(clean);
    if (parent !== '.') this.dir(parent);
    this.#dirs.add(clean);
    this.#entry(clean, S_IFDIR | (mode & 0o7777), new Uint8Array(0), mtime, 2);
  }

  /** A regular file (its parent directories are written first). */
  file(name: string, data: Uint8Array, mode = 0o644, mtime = 0): void {
    const clean = name.replace(/^\/+/, '');
    const parent = dirname(clean);
    if (parent !== '.') this.dir(parent);
    this.#entry(clean, S_IFREG | (mode & 0o7777), data, mtime, 1);
  }

  /** A symbolic link to `target`, kept as it is (a relative pnpm link stays relative). */
  symlink(name: string, target: string, mtime = 0): void {
    const clean = name.replace(/^\/+/, '');
    const parent = dirname(clean);
    if (parent !== '.') this.dir(parent);
    this.#entry(clean, S_IFLNK | 0o777, Buffer.from(target), mtime, 1);
  }

  /**
   * A directory tree of this machine at the same path in the archive, as `cp -a` copies it: files with their
   * modes, symlinks as links, other kinds (sockets, devices) left out.
   */
  tree(path: string): void {
    const st = lstatSync(path);
    const name = path.replace(/^\/+/, '');
    const mtime = Math.floor(st.mtimeMs / 1000);
    if (st.isSymbolicLink()) this.symlink(name, readlinkSync(path), mtime);
    else if (st.isFile()) this.file(name, readFileSync(path), st.mode, mtime);
    else if (st.isDirectory()) {
      this.dir(name, st.mode, mtime);
      for (const child of readdirSync(path).sort()) this.tree(`${path === '/' ? '' : path}/${child}`);
    }
  }

  /** The trailer; nothing may be written after it. */
  end(): void {
    this.#entry('TRAILER!!!', 0, new Uint8Array(0), 0, 1);
    this.#write(Buffer.alloc(pad4(this.#offset)));
  }
}
