import { constants } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ClosedError, EventFd, Fd, Memfd, openFdCount } from '../src/index.js';
import { collectGarbage, procFdCount, procFdTargets } from './helpers.js';

describe('fd lifecycle', () => {
  it('close is idempotent and fd throws after close', () => {
    const e = EventFd.create();
    const fd = e.fd;
    expect(fd).toBeGreaterThan(2);
    e.close();
    e.close();
    expect(e.closed).toBe(true);
    expect(() => e.fd).toThrow(ClosedError);
    expect(() => e.write(1)).toThrow(expect.objectContaining({ code: 'ERR_ZCOPY_CLOSED' }));
  });

  it('`using` closes at the end of the scope', () => {
    const before = procFdCount();
    let kept: EventFd;
    {
      using e = EventFd.create();
      kept = e;
      expect(procFdCount()).toBe(before + 1);
    }
    expect(kept.closed).toBe(true);
    expect(procFdCount()).toBe(before);
  });

  it('a borrowed fd is never closed by its borrower', () => {
    using owner = Fd.open('/dev/null', constants.O_RDONLY);
    const borrowed = Fd.borrow(owner.fd);
    expect(borrowed.owned).toBe(false);
    borrowed.close();
    expect(Fd.dup(owner.fd).close()).toBeUndefined(); // owner's fd still valid
  });

  it('adopt takes ownership; detachFd gives it back', () => {
    const m = Memfd.create('adopt');
    const raw = m.detachFd();
    expect(m.closed).toBe(true);
    const adopted = Fd.adopt(raw);
    expect(adopted.fd).toBe(raw);
    adopted.close();
    expect(() => Fd.adopt(raw)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'fcntl' }));
  });

  it('no fd growth over 10,000 create/close cycles of memfds and eventfds', () => {
    const before = procFdCount();
    const tracked = openFdCount();
    for (let i = 0; i < 5000; i++) {
      Memfd.create('cycle', { size: 4096 }).close();
      using e = EventFd.create(i + 1);
      expect(e.read()).toBe(BigInt(i + 1));
    }
    expect(procFdCount()).toBe(before);
    expect(openFdCount()).toBe(tracked);
  }, 60_000);

  it('a leaked owner is closed after GC, with a warning naming its type', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const before = procFdCount();
      let leakedFd = -1;
      (() => {
        leakedFd = EventFd.create().fd; // never closed
      })();
      expect(procFdCount()).toBe(before + 1);
      await collectGarbage();
      expect(procFdCount()).toBe(before);
      const w = warnings.find((x) => (x as NodeJS.ErrnoException).code === 'ZCOPY_FD_LEAK');
      expect(w?.name).toBe('ZcopyLeakWarning');
      expect(w?.message).toContain(`a EventFd (fd ${leakedFd}) was garbage-collected without close()`);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('environment cleanup hook', () => {
  it('a worker thread that exits with fds and mappings open has them released', async () => {
    const addon = new URL('../build/Release/zcopy_core.node', import.meta.url).pathname;
    const eventfds = () => procFdTargets().filter((t) => t === 'anon_inode:[eventfd]').length;
    const memfds = () => procFdTargets().filter((t) => t.startsWith('/memfd:zcopy-worker-cleanup')).length;
    const epolls = () => procFdTargets().filter((t) => t === 'anon_inode:[eventpoll]').length;
    const before = eventfds();
    const epollsBefore = epolls();
    const code = `
      const { parentPort } = require('node:worker_threads');
      const core = require(${JSON.stringify(addon)});
      const fds = [];
      for (let i = 0; i < 20; i++) fds.push(core.eventfd(0, 0));
      const m = core.memfdCreate('zcopy-worker-cleanup', 0); fds.push(m);
      require('node:fs').ftruncateSync(m, 4096);
      core.mmap(m, 4096, core.constants.PROT_READ, core.constants.MAP_SHARED, 0);
      core.waitCallback(() => {}); core.arm(fds[0], core.constants.POLLIN, 1);
      parentPort.postMessage(fds.length);
    `;
    const w = new Worker(code, { eval: true });
    const opened = await new Promise<number>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(opened).toBe(21);
    expect(eventfds()).toBeGreaterThanOrEqual(before + 20); // + the worker loop's own eventfd
    expect(memfds()).toBe(1);
    // The armed wait keeps the worker's loop alive: terminate it, as an application would.
    await w.terminate();
    expect(eventfds()).toBe(before);
    expect(epolls()).toBe(epollsBefore); // the worker's loop and the core's wait set
    expect(memfds()).toBe(0);
  });
});
