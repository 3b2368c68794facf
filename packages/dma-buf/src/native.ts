// Typed view of the dma-buf addon (raw calls: numbers in, numbers out; no policy here).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '@zcopy/core/internal';

export interface DmaBufBinding {
  /** lseek(fd, 0, SEEK_END). */
  size(fd: number): number;
  /** lseek(fd, offset, whence), raw: the new position. */
  lseek(fd: number, offset: number, whence: number): number;
  seekWhence: Record<'SET' | 'CUR' | 'END', number>;
  /** DMA_BUF_IOCTL_SYNC. */
  sync(fd: number, flags: number): void;
  /** DMA_BUF_SET_NAME. */
  setName(fd: number, name: string): void;
  /** fstatfs(fd).f_type === DMA_BUF_MAGIC. */
  isDmaBuf(fd: number): boolean;
  pageSize: number;
  constants: Record<
    | 'DMA_BUF_SYNC_READ'
    | 'DMA_BUF_SYNC_WRITE'
    | 'DMA_BUF_SYNC_RW'
    | 'DMA_BUF_SYNC_START'
    | 'DMA_BUF_SYNC_END'
    | 'DMA_BUF_NAME_LEN',
    number
  >;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binding: DmaBufBinding = loadBinding<DmaBufBinding>(packageDir, 'zcopy_dma_buf');
