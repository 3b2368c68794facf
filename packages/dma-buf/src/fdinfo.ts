// /proc/self/fdinfo/<fd> of a dma-buf: the generic lines (pos, flags, mnt_id, ino) and the ones
// dma_buf_show_fdinfo adds (size, count, exp_name, and name once one was set).
import { readFileSync } from 'node:fs';
import { KernelError, ZcopyError } from '@zcopy/core';

export interface DmaBufInfo {
  /** Bytes, as the kernel reports them. */
  size: number;
  /** References to the dma-buf's file: every fd (in any process) and every live mapping of it. */
  count: number;
  /** The exporter's name (exp_name): e.g. 'system' or a CMA heap's name for dma-heap, 'udmabuf'. */
  exporter: string;
  /** The name set with DMA_BUF_SET_NAME, or undefined when none was set. */
  name: string | undefined;
  /** The dma-buf's inode: equal for every fd of the same buffer. */
  inode: number;
  /** The fd's open flags (O_ACCMODE, O_CLOEXEC, ...). */
  flags: number;
}

/** Parses fdinfo text into key → raw value; each line is `key:\tvalue`. */
export function parseFdinfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const sep = line.indexOf(':\t');
    if (sep > 0) out.set(line.slice(0, sep), line.slice(sep + 2));
  }
  return out;
}

function int(fields: Map<string, string>, key: string, radix = 10): number {
  const raw = fields.get(key);
  const n = raw === undefined ? Number.NaN : Number.parseInt(raw, radix);
  if (!Number.isSafeInteger(n))
    throw new ZcopyError('ERR_ZCOPY_FDINFO', `fdinfo has no usable '${key}' line (got ${raw})`);
  return n;
}

/** Converts parsed fdinfo into DmaBufInfo; throws if the lines a dma-buf always has are missing. */
export function toDmaBufInfo(fields: Map<string, string>): DmaBufInfo {
  const exporter = fields.get('exp_name');
  if (exporter === undefined) throw new TypeError("this fdinfo is not a dma-buf's (no exp_name line)");
  return {
    size: int(fields, 'size'),
    count: int(fields, 'count'),
    exporter,
    name: fields.get('name'),
    inode: int(fields, 'ino'),
    flags: int(fields, 'flags', 8),
  };
}

export function readDmaBufInfo(fd: number): DmaBufInfo {
  let text: string;
  try {
    text = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (typeof err.errno === 'number')
      throw new KernelError({ errno: Math.abs(err.errno), syscall: 'open', path: `/proc/self/fdinfo/${fd}` });
    throw e;
  }
  return toDmaBufInfo(parseFdinfo(text));
}
