// Leak checks on this process's fds that hold in a process which also runs child processes.
//
// Counting /proc/self/fd is not enough in the Xen tests: AgentDomU polls `xl domid` (execFile) while it waits for
// a domU, and Node closes a finished child's stdio (socketpairs) asynchronously, some time after the child exits.
// A count taken while such fds are open is off by up to three (seen in CI: 27 before, 24 after, no leak). So the
// check compares what each fd is (its /proc/self/fd link) against the snapshot, and a leak is an fd open now that
// was not open as the same object then and is still open after Node has had time to close its own (up to
// `settleMs`, polled): a transient child's stdio goes away, a leaked dma-buf, device or socket stays.
import { readdirSync, readlinkSync } from 'node:fs';

/** fd → its /proc/self/fd link ('/dev/xen/gntdev', 'anon_inode:sync_file', '/dmabuf:', 'socket:[123]', …). */
export function openFds(): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      out.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // the directory's own fd, closed by now
    }
  }
  return out;
}

export interface FdSnapshot {
  /**
   * The fds open now that were not open at the snapshot (or were another object then), each as 'fd N -> link',
   * after waiting up to `settleMs` for the list to empty (Node closing a finished child's stdio).
   */
  leaked(settleMs?: number): Promise<string[]>;
}

export function fdSnapshot(): FdSnapshot {
  const before = openFds();
  const opened = () => {
    const out: string[] = [];
    for (const [fd, link] of openFds()) if (before.get(fd) !== link) out.push(`fd ${fd} -> ${link}`);
    return out;
  };
  return {
    async leaked(settleMs = 3000) {
      const end = performance.now() + settleMs;
      for (;;) {
        const out = opened();
        if (out.length === 0 || performance.now() >= end) return out;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
