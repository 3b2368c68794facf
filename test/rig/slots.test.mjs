// The VM slots' owner check (scripts/vm/slots.mjs), on the host: no guest. A slot left by a killed run must be
// taken over even when its pid has been given to another process since (after a reboot, with CI's cache kept).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

// slots.mjs reads ZCOPY_CACHE when it loads: a private cache, so this test never touches a real run's slots.
process.env.ZCOPY_CACHE = await mkdtemp(join(tmpdir(), 'zcopy-slots-'));
process.env.ZCOPY_VM_SLOTS = '1';
const { acquireSlot, ownerAlive, ownerRecord, tryTake } = await import('../../scripts/vm/slots.mjs');
const slot0 = join(process.env.ZCOPY_CACHE, 'vm-slots', 'slot-0');

test('an owner record names this process: pid, start time, boot id; it is alive', () => {
  const [pid, start, boot] = ownerRecord().split(' ');
  assert.equal(Number(pid), process.pid);
  assert.match(start, /^\d+$/);
  assert.equal(boot, readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  assert.equal(ownerAlive(ownerRecord()), true);
});

test('a live pid with another start time or boot is not the owner (pid reused)', () => {
  const [pid, start, boot] = ownerRecord().split(' ');
  assert.equal(ownerAlive(`${pid} ${Number(start) + 1} ${boot}`), false);
  assert.equal(ownerAlive(`${pid} ${start} 00000000-0000-0000-0000-000000000000`), false);
  assert.equal(ownerAlive(`${pid}`), true); // an older runner's bare pid: the pid check only
  assert.equal(ownerAlive('garbage'), false);
});

test('a dead owner is not alive', async () => {
  const child = spawn(process.execPath, ['-e', '0']);
  const record = await new Promise((resolve) => {
    child.on('spawn', () => resolve(ownerRecord(child.pid)));
  });
  await new Promise((resolve) => child.on('close', resolve));
  assert.equal(ownerAlive(record), false);
});

test('a slot held by a reused pid is taken over; one held by a live owner is not', () => {
  // Held by this very process under another start time: what a killed run's slot looks like after a reboot
  // gave its pid to someone else.
  mkdirSync(slot0, { recursive: true });
  const [pid, start, boot] = ownerRecord().split(' ');
  writeFileSync(join(slot0, 'pid'), `${pid} ${Number(start) + 7} ${boot}`);
  assert.equal(tryTake(slot0), true);
  assert.equal(readFileSync(join(slot0, 'pid'), 'utf8'), ownerRecord());
  // Now its owner is live (us): not taken.
  assert.equal(tryTake(slot0), false);
  rmSync(slot0, { recursive: true });
});

test('acquireSlot waits while the slot is held and gets it once released', { timeout: 20000 }, async () => {
  const release = await acquireSlot();
  let waited = '';
  const second = acquireSlot((msg) => {
    waited = msg;
  });
  await new Promise((r) => setTimeout(r, 1200));
  assert.match(waited, /waiting for a free VM slot \(1 in use/);
  release();
  assert.equal(existsSync(join(slot0, 'pid')), false);
  (await second)();
});
