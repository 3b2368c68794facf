// Shared by the VM tests of dma-buf, udmabuf and dma-heap: what the kernel says this process holds.
import { readdirSync, readFileSync } from 'node:fs';
import { liveMappings, openFdCount } from '@zcopy/core';

/** Open fds of this process, as the kernel counts them. */
export function procFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Mappings of dma-buf files in this process (/proc/self/maps names them "/dmabuf:<name>"). */
export function dmaBufMapCount(): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => / \/dmabuf:/.test(l)).length;
}

export interface Holdings {
  procFds: number;
  trackedFds: number;
  coreMappings: number;
  dmaBufMaps: number;
}

export function holdings(): Holdings {
  return {
    procFds: procFdCount(),
    trackedFds: openFdCount(),
    coreMappings: liveMappings(),
    dmaBufMaps: dmaBufMapCount(),
  };
}

/** Index of the first non-zero byte, or -1. */
export function firstNonZero(buf: Uint8Array): number {
  // Compare in 64 KiB blocks against a zero block: fast enough for 8 MiB under TCG.
  const block = 65536;
  const zero = Buffer.alloc(block);
  for (let off = 0; off < buf.length; off += block) {
    const part = Buffer.from(buf.buffer, buf.byteOffset + off, Math.min(block, buf.length - off));
    if (!part.equals(zero.subarray(0, part.length))) return off + part.findIndex((b) => b !== 0);
  }
  return -1;
}
