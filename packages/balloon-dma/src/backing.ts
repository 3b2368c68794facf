// The memory behind a dma-buf that gntdev exports from grant refs: plain pages from the balloon, or memory from
// dma_alloc_wc / dma_alloc_coherent (GNTDEV_DMA_FLAG_WC / _COHERENT) for devices that need DMA-able buffers.

/** 'pages': ordinary ballooned pages (flags 0). 'wc' / 'coherent': DMA memory, write-combined or coherent. */
export type DmaBacking = 'pages' | 'wc' | 'coherent';

export const DMA_BACKINGS: readonly DmaBacking[] = ['pages', 'wc', 'coherent'];

/** The flag values of the gntdev UAPI, passed in by the package that owns the ioctl (read from its header). */
export interface DmaFlagValues {
  GNTDEV_DMA_FLAG_WC: number;
  GNTDEV_DMA_FLAG_COHERENT: number;
}

/**
 * Checks a backing choice and returns the ioctl flags. An array lets a caller ask for several at once, which
 * the kernel only refuses at ioctl time: 'wc' with 'coherent' is a RangeError here, before any syscall.
 */
export function dmaBackingFlags(backing: unknown, values: DmaFlagValues): number {
  const list: unknown[] = Array.isArray(backing) ? backing : [backing ?? 'pages'];
  let flags = 0;
  for (const b of list) {
    if (b === 'pages') continue;
    if (b === 'wc') flags |= values.GNTDEV_DMA_FLAG_WC;
    else if (b === 'coherent') flags |= values.GNTDEV_DMA_FLAG_COHERENT;
    else
      throw new TypeError(
        `backing must be one of ${DMA_BACKINGS.map((x) => `'${x}'`).join(', ')}, got ${String(b)}`,
      );
  }
  const both = values.GNTDEV_DMA_FLAG_WC | values.GNTDEV_DMA_FLAG_COHERENT;
  if ((flags & both) === both)
    throw new RangeError(`backing 'wc' and 'coherent' exclude each other: a buffer is one or the other`);
  return flags;
}
