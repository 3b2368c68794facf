// What each errno means for the ioctls of this package: KernelError messages say the rule.
import { type HintInput, registerHints } from '@zcopy/core/internal';

registerHints('SYNC_IOC_MERGE', {
  ENOENT: 'the fd to merge with is not a sync_file (merge takes two sync_file fds)',
  EINVAL: 'merge flags and padding must be zero',
});
registerHints('SYNC_IOC_FILE_INFO', {
  ENOTTY: 'the fd is not a sync_file',
  EINVAL: 'the fence info buffer is smaller than the sync_file has fences',
});
registerHints('SW_SYNC_IOC_CREATE_FENCE', {
  ENOTTY: 'the fd is not a sw_sync timeline (debugfs sync/sw_sync)',
});
registerHints('SW_SYNC_IOC_INC', { ENOTTY: 'the fd is not a sw_sync timeline (debugfs sync/sw_sync)' });
registerHints('DMA_BUF_IOCTL_EXPORT_SYNC_FILE', {
  EINVAL: 'flags must be DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE or both, and nothing else',
  ENOTTY: 'the fd is not a dma-buf, or the kernel predates 6.0 (no sync_file export)',
});
registerHints('DMA_BUF_IOCTL_IMPORT_SYNC_FILE', {
  EINVAL:
    'the fence fd must be a sync_file, and flags DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE or both, and nothing else',
  ENOTTY: 'the fd is not a dma-buf, or the kernel predates 6.0 (no sync_file import)',
});

/** Shown when sw_sync cannot be opened. */
export const SW_SYNC_MISSING =
  'sw_sync lives in debugfs: mount it (mount -t debugfs none /sys/kernel/debug) on a kernel built with ' +
  'CONFIG_SW_SYNC, and open it as root';

// Opening sw_sync (SwSyncTimeline.open runs with { swSync: true } as its context).
const swSyncOpen = ({ context }: HintInput) => (context?.swSync ? SW_SYNC_MISSING : undefined);
registerHints('open', { ENOENT: swSyncOpen, EACCES: swSyncOpen, EPERM: swSyncOpen });
