// VM: a sync_file is a file: passed to another process (fd inheritance), it still waits and reports correctly.
import { describe, expect, it } from 'vitest';
import { SwSyncTimeline } from '../src/index.js';
import { spawnPeer } from './helpers/peer.js';

describe('fences in another process', () => {
  it('a child waits on a fence the parent signals, after the parent closed its own copy', async () => {
    using tl = SwSyncTimeline.open();
    const f = tl.createFence(3);
    const child = spawnPeer(f);
    try {
      expect(await child.ask('status')).toBe('0');
      f.close(); // the child's fd keeps the fence alive
      let answered = false;
      const answer = child.ask('wait 10000').finally(() => {
        answered = true;
      });
      tl.inc(2);
      await new Promise((r) => setTimeout(r, 100));
      expect(answered).toBe(false); // value 2 < 3: the child is still waiting
      tl.inc(1);
      // revents POLLIN (1) and status signalled (1), seen from the child.
      expect(await answer).toBe('1 1');
    } finally {
      await child.stop();
    }
  });

  it('the parent waits (async) on a fence that a child signals through a timeline fd it was given', async () => {
    using tl = SwSyncTimeline.open();
    using f = tl.createFence(2);
    const child = spawnPeer(tl);
    try {
      expect(await child.ask('inc 1')).toBe('ok');
      expect(f.status.state).toBe('active');
      const waiting = f.wait({ timeoutMs: 5000 });
      expect(await child.ask('inc 1')).toBe('ok');
      await expect(waiting).resolves.toEqual({ state: 'signaled' });
    } finally {
      await child.stop();
    }
  });

  it('a child sees ENOENT on its fence once the timeline is closed everywhere', async () => {
    const tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    const child = spawnPeer(f);
    try {
      const answer = child.ask('wait 10000');
      tl.close();
      expect(await answer).toBe(`1 ${-2}`); // POLLIN, status -ENOENT
      expect(f.status).toMatchObject({ state: 'error', code: 'ENOENT' });
    } finally {
      await child.stop();
    }
  });

  it('a timeline whose fd lives on in a child is not closed by the parent closing its copy', async () => {
    const tl = SwSyncTimeline.open();
    using f = tl.createFence(1);
    const child = spawnPeer(tl);
    try {
      tl.close();
      expect(f.status.state).toBe('active'); // the child's fd still holds the timeline
      const waiting = f.wait({ timeoutMs: 5000 });
      expect(await child.ask('inc 1')).toBe('ok');
      await expect(waiting).resolves.toEqual({ state: 'signaled' });
    } finally {
      await child.stop();
    }
  });
});
