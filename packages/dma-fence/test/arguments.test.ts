// Host: argument checks happen before any syscall, and kernel refusals on fds every Linux has carry our hints.
import { EventFd, KernelError, WrongFdError } from '@zcopy/core';
import { describe, expect, it } from 'vitest';
import {
  exportSyncFile,
  fenceStatus,
  importSyncFile,
  SwSyncTimeline,
  SyncFile,
  waitAll,
  waitAny,
  waitIdle,
} from '../src/index.js';
import { checkFenceName } from '../src/sync-file.js';

describe('sync_file checks', () => {
  it('refuses an fd that is not a sync_file, saying so, and leaves it open', () => {
    using e = EventFd.create();
    const err = (() => {
      try {
        SyncFile.adopt(e.fd);
      } catch (x) {
        return x;
      }
    })();
    expect(err).toBeInstanceOf(WrongFdError);
    expect(err).toMatchObject({
      code: 'ERR_ZCOPY_WRONG_FD',
      expected: 'a sync_file',
      target: 'anon_inode:[eventfd]',
    });
    expect((err as Error).message).toBe(`fd ${e.fd} is anon_inode:[eventfd], not a sync_file`);
    // The kernel's answer to the probe is the cause.
    expect((err as Error).cause).toBeInstanceOf(KernelError);
    expect((err as Error).cause).toMatchObject({ code: 'ENOTTY', request: 'SYNC_IOC_FILE_INFO' });
    e.write(1); // still ours and open
    expect(e.read()).toBe(1n);
  });

  it('rejects non-fds with TypeError/RangeError', () => {
    expect(() => fenceStatus(-1)).toThrow(RangeError);
    expect(() => fenceStatus(1.5)).toThrow(TypeError);
    expect(() => fenceStatus('3' as never)).toThrow(TypeError);
    expect(() => SyncFile.borrow(Number.NaN)).toThrow(TypeError);
  });

  it('limits names to what the kernel stores', () => {
    expect(checkFenceName('x'.repeat(31))).toHaveLength(31);
    expect(() => checkFenceName('x'.repeat(32))).toThrow(RangeError);
    expect(() => checkFenceName('é'.repeat(16))).toThrow(RangeError); // 32 bytes of UTF-8
    expect(() => checkFenceName('a\0b')).toThrow(TypeError);
    expect(() => checkFenceName(7)).toThrow(TypeError);
  });
});

describe('waitAll / waitAny checks', () => {
  it('rejects bad fence lists and options before waiting', async () => {
    await expect(waitAll('nope' as never)).rejects.toThrow(TypeError);
    await expect(waitAny([])).rejects.toThrow(RangeError);
    await expect(waitAny([3, -2])).rejects.toThrow(/fences\[1\]/);
    await expect(waitAll([], { timeoutMs: -1 })).rejects.toThrow(RangeError);
    await expect(waitAll([], { signal: {} as AbortSignal })).rejects.toThrow(TypeError);
  });

  it('waitAll of nothing resolves at once; an aborted signal wins over an empty list', async () => {
    await expect(waitAll([])).resolves.toEqual([]);
    await expect(waitAll([], { signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow('stop');
  });

  it('a wait on an fd that is not a sync_file rejects with its KernelError', async () => {
    using e = EventFd.create();
    await expect(waitAll([e])).rejects.toMatchObject({ code: 'ENOTTY', request: 'SYNC_IOC_FILE_INFO' });
    await expect(waitAny([e])).rejects.toBeInstanceOf(KernelError);
  });
});

describe('implicit fence checks', () => {
  it('validates access before any syscall', async () => {
    using e = EventFd.create();
    expect(() => exportSyncFile(e, 'rw' as never)).toThrow(TypeError);
    expect(() => importSyncFile(e, e, '' as never)).toThrow(TypeError);
    await expect(waitIdle(e, 'all' as never)).rejects.toThrow(TypeError);
    expect(() => exportSyncFile({} as never, 'read')).toThrow(TypeError);
  });

  it('an fd that is not a dma-buf gets ENOTTY with the rule', () => {
    using e = EventFd.create();
    expect(() => exportSyncFile(e, 'read')).toThrow(/DMA_BUF_IOCTL_EXPORT_SYNC_FILE.*ENOTTY.*not a dma-buf/);
    expect(() => importSyncFile(e, e, 'write')).toThrow(
      /DMA_BUF_IOCTL_IMPORT_SYNC_FILE.*ENOTTY.*not a dma-buf/,
    );
  });
});

describe('SwSyncTimeline checks', () => {
  it('explains where sw_sync lives when it cannot be opened', () => {
    expect(() => SwSyncTimeline.open('/nonexistent/sync/sw_sync')).toThrow(/ENOENT.*debugfs.*CONFIG_SW_SYNC/);
    expect(() => SwSyncTimeline.open(5 as never)).toThrow(TypeError);
  });
});
