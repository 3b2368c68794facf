import { execFile } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fdSnapshot, openFds } from '../src/fds.js';

describe('fdSnapshot', () => {
  it('reports an fd opened after the snapshot and still open, by what it is', async () => {
    const snap = fdSnapshot();
    const fd = openSync('/dev/null', 'r');
    try {
      expect(await snap.leaked(200)).toEqual([`fd ${fd} -> /dev/null`]);
    } finally {
      closeSync(fd);
    }
    expect(await snap.leaked()).toEqual([]);
  });

  it('an fd number reused by another object counts as a leak', async () => {
    const a = openSync('/dev/null', 'r');
    const snap = fdSnapshot();
    closeSync(a);
    const b = openSync('/dev/zero', 'r');
    try {
      expect(b).toBe(a);
      expect(await snap.leaked(0)).toEqual([`fd ${b} -> /dev/zero`]);
    } finally {
      closeSync(b);
    }
  });

  it("waits for Node to close a finished child's stdio; an fd closed meanwhile is no leak", async () => {
    const child = promisify(execFile)('sleep', ['0.2']);
    await new Promise((r) => setTimeout(r, 50));
    const running = openFds();
    const snapWithChild = fdSnapshot(); // taken while the child's stdio is open: those fds then close
    const snap = fdSnapshot();
    const late = promisify(execFile)('sleep', ['0.3']); // opened after the snapshot, closed after it exits
    await new Promise((r) => setTimeout(r, 50));
    expect(openFds().size).toBeGreaterThan(running.size);
    expect(await snap.leaked(0)).not.toEqual([]);
    expect(await snap.leaked(3000)).toEqual([]);
    expect(await snapWithChild.leaked(0)).toEqual([]);
    await Promise.all([child, late]);
  });
});
