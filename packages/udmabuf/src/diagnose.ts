// udmabuf answers EINVAL for half a dozen different rules. Given the request that failed, say which one.
// The checks follow the order of udmabuf_create() in drivers/dma-buf/udmabuf.c (Linux 6.1).
import { fstatSync } from 'node:fs';
import { native } from '@zcopy/core/internal';
import { PAGE_SIZE } from '@zcopy/dma-buf';
import { udmabufLimits } from './limits.js';
import { binding } from './native.js';

export interface ResolvedRange {
  memfd: number;
  offset: number;
  size: number;
}

const MiB = 1024 * 1024;

function sealsOf(fd: number): number | undefined {
  try {
    return native.getSeals(fd);
  } catch {
    return undefined;
  }
}

function sizeOf(fd: number): number | undefined {
  try {
    return fstatSync(fd).size;
  } catch {
    return undefined;
  }
}

// A hugetlb memfd: its page size (st_blksize) and the bytes of huge pages it holds now (st_blocks).
function hugetlbOf(fd: number): { pageSize: number; allocated: number } | undefined {
  try {
    const st = fstatSync(fd);
    return st.blksize > PAGE_SIZE ? { pageSize: st.blksize, allocated: st.blocks * 512 } : undefined;
  } catch {
    return undefined;
  }
}

/** The rule an EINVAL from UDMABUF_CREATE(_LIST) broke, in words; undefined if none of the known ones. */
export function explainEinval(ranges: readonly ResolvedRange[], limitsDir?: string): string | undefined {
  const { sizeLimit, listLimit } = udmabufLimits(limitsDir);
  const label = (i: number) => (ranges.length === 1 ? '' : `range ${i}: `);
  if (listLimit !== undefined && ranges.length > listLimit)
    return `a list holds at most ${listLimit} ranges (module parameter list_limit), got ${ranges.length}`;
  let total = 0;
  for (const [i, r] of ranges.entries()) {
    if (r.offset % PAGE_SIZE !== 0)
      return `${label(i)}offset ${r.offset} is not a multiple of the page size (${PAGE_SIZE}): udmabuf maps whole pages`;
    if (r.size % PAGE_SIZE !== 0)
      return `${label(i)}size ${r.size} is not a multiple of the page size (${PAGE_SIZE}): udmabuf maps whole pages`;
    total += r.size;
  }
  if (sizeLimit !== undefined && total > sizeLimit)
    return (
      `${total} bytes exceed the udmabuf size limit of ${sizeLimit / MiB} MiB ` +
      '(module parameter size_limit_mb in /sys/module/udmabuf/parameters)'
    );
  if (total === 0) return 'the size must be greater than 0';
  const { F_SEAL_SHRINK, F_SEAL_WRITE } = native.constants;
  for (const [i, r] of ranges.entries()) {
    const seals = sealsOf(r.memfd);
    if (seals === undefined) continue; // not a memfd: the kernel says EBADFD for that
    if (!(seals & F_SEAL_SHRINK))
      return (
        `${label(i)}the memfd needs F_SEAL_SHRINK so its pages cannot vanish under the dma-buf ` +
        "(create it with sealing allowed and add the 'shrink' seal, or use createSealedMemfd())"
      );
    if (seals & (F_SEAL_WRITE | binding.constants.F_SEAL_FUTURE_WRITE))
      return `${label(i)}the memfd must not carry F_SEAL_WRITE or F_SEAL_FUTURE_WRITE: the dma-buf is writable`;
    const size = sizeOf(r.memfd);
    if (size !== undefined && r.offset + r.size > size)
      return `${label(i)}offset + size (${r.offset} + ${r.size}) runs past the end of the ${size}-byte memfd`;
    // Linux 6.1 takes a hugetlb memfd's huge pages only if they are in the file already (it does not fault them).
    const huge = hugetlbOf(r.memfd);
    if (huge && size !== undefined && huge.allocated < size)
      return (
        `${label(i)}udmabuf takes a hugetlb memfd's huge pages only once they exist: ${huge.allocated} of its ` +
        `${size} bytes are allocated. Allocate them first (memfd.allocate(), or write through a mapping)`
      );
  }
  return undefined;
}
