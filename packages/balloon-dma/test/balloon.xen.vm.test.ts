// VM (Xen dom0): the balloon's sysfs state and the kernel's DMA-backing support, read from the real kernel.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BALLOON_SYSFS, balloonState, dmaBackingSupport } from '../src/index.js';

describe('balloon-dma in dom0', () => {
  it('reads the balloon state the kernel shows', () => {
    const s = balloonState();
    expect(s).toBeDefined();
    // Against the files themselves, and against /proc/meminfo's total (which excludes kernel-reserved memory).
    expect(s!.currentKb).toBe(Number(readFileSync(`${BALLOON_SYSFS}/info/current_kb`, 'utf8')));
    expect(s!.targetKb).toBe(Number(readFileSync(`${BALLOON_SYSFS}/target_kb`, 'utf8')));
    const memTotalKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    expect(s!.currentKb).toBeGreaterThanOrEqual(memTotalKb);
    expect(s!.maxRetryCount).toBeTypeOf('number');
  });

  it('says this kernel has XEN_GRANT_DMA_ALLOC and XEN_GNTDEV_DMABUF (images/kernel/xen.config)', () => {
    expect(dmaBackingSupport()).toEqual({ dmaAlloc: 'y', gntdevDmabuf: 'y', source: '/proc/config.gz' });
  });
});
