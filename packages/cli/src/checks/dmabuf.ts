// dma-buf exporters: udmabuf (memfd → dma-buf) and the dma-buf heaps (one check per heap node).
import { constants, readdirSync } from 'node:fs';
import { absenceReason, openFailure } from '../reasons.js';
import type { Check } from '../report.js';
import type { Context } from '../system.js';
import { checkNode, unavailable } from './node.js';

const HEAPS_DIR = '/dev/dma_heap';
const HEAPS = 'CONFIG_DMABUF_HEAPS';

export function dmabufChecks(ctx: Context): Check[] {
  return [
    checkNode(ctx, {
      id: 'udmabuf',
      group: 'dma-buf',
      title: 'udmabuf (memfd → dma-buf)',
      path: '/dev/udmabuf',
      config: ['CONFIG_DMA_SHARED_BUFFER', 'CONFIG_UDMABUF'],
      flags: constants.O_RDWR,
    }),
    ...heapChecks(ctx),
  ];
}

function heapChecks(ctx: Context): Check[] {
  let names: string[] = [];
  try {
    names = readdirSync(ctx.root + HEAPS_DIR).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    if (code !== 'ENOENT')
      return [
        unavailable(
          { id: 'dma-heap', group: 'dma-buf', title: 'dma-buf heaps', path: HEAPS_DIR, config: [HEAPS] },
          openFailure(HEAPS_DIR, code),
        ),
      ];
  }
  const heap = (name: string, config: string[]) =>
    checkNode(ctx, {
      id: `dma-heap:${name}`,
      group: 'dma-buf',
      title: `dma-buf heap '${name}'`,
      path: `${HEAPS_DIR}/${name}`,
      config,
      flags: constants.O_RDONLY,
    });
  const out = names.map((n) => heap(n, n === 'system' ? [HEAPS, 'CONFIG_DMABUF_HEAPS_SYSTEM'] : [HEAPS]));
  // The two upstream heaps are reported even when absent, so the reason is visible.
  if (!names.includes('system')) out.unshift(heap('system', [HEAPS, 'CONFIG_DMABUF_HEAPS_SYSTEM']));
  if (!names.some((n) => n !== 'system')) out.push(cmaHeap(ctx));
  return out;
}

// The CMA heap is named after the default CMA area ('reserved' for cma=…, or a device-tree name).
function cmaHeap(ctx: Context): Check {
  const config = [HEAPS, 'CONFIG_DMABUF_HEAPS_CMA'];
  const base = {
    id: 'dma-heap:cma',
    group: 'dma-buf' as const,
    title: 'dma-buf heap (CMA)',
    path: HEAPS_DIR,
    config,
  };
  const why = absenceReason(ctx, { path: `${HEAPS_DIR}/<cma area>`, config });
  if (why.code === 'node-absent' && ctx.config.source)
    why.message = `no CMA heap in ${HEAPS_DIR}: the kernel has no default CMA area (boot with cma=<size>, or set CONFIG_CMA_SIZE_MBYTES)`;
  return unavailable(base, why);
}
