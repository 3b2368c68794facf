// Typed view of the dma-fence addon (raw bindings: numbers in, numbers out; no policy here).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '@zcopy/core/internal';
import './hints.js';

export interface RawFenceInfo {
  timeline: string;
  driver: string;
  /** 1 signalled, 0 active, -errno signalled with an error. */
  status: number;
  /** CLOCK_MONOTONIC ns of the signal; 0 while active. */
  timestampNs: bigint;
}

export interface RawSyncFileInfo {
  name: string;
  status: number;
  fences: RawFenceInfo[];
}

export interface DmaFenceBinding {
  status(fd: number): number;
  info(fd: number): RawSyncFileInfo;
  merge(fd: number, fd2: number, name: string): number;
  /** Blocking poll(2) of one fd: revents, 0 on timeout (timeoutMs -1: forever). */
  poll(fd: number, events: number, timeoutMs: number): number;
  swSyncCreateFence(timelineFd: number, value: number, name: string): number;
  swSyncInc(timelineFd: number, n: number): void;
  exportSyncFile(dmabufFd: number, flags: number): number;
  importSyncFile(dmabufFd: number, syncFileFd: number, flags: number): void;
  constants: Record<
    'POLLIN' | 'POLLOUT' | 'POLLERR' | 'POLLNVAL' | 'DMA_BUF_SYNC_READ' | 'DMA_BUF_SYNC_WRITE',
    number
  >;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binding = loadBinding<DmaFenceBinding>(packageDir, 'zcopy_dma_fence');
