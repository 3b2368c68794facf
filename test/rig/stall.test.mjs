// How a stall report names where each vCPU was (scripts/vm/stall.mjs), on QEMU `info registers -a` text and a
// System.map written here. (That a real silent guest is looked into, with SysRq answers, is bare.test.mjs.)
import assert from 'node:assert/strict';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cpuPositions, diagnoseStall, heartbeatVerdict, symbolizer } from '../../scripts/vm/stall.mjs';

const dir = mkdtempSync(join(tmpdir(), 'zcopy-stall-'));
const map = join(dir, 'System.map');
writeFileSync(
  map,
  [
    'ffffffff81000000 T _text',
    'ffffffff81530190 T native_safe_halt',
    'ffffffff815301c0 t vkms_vblank_simulate',
    'ffffffff82000000 D some_data', // data symbols never name code
    'ffffffff815301e0 T _etext',
  ].join('\n'),
);

test('a RIP inside a function is that function + offset; data symbols and far addresses are not used', () => {
  const name = symbolizer(map);
  assert.equal(name(0xffffffff815301a3n), 'native_safe_halt+0x13');
  assert.equal(name(0xffffffff815301c0n), 'vkms_vblank_simulate+0x0');
  assert.equal(name(0xffffffff80000000n), undefined); // below the first symbol
  assert.equal(name(0xffff82d0402f9c06n), undefined); // Xen's text: not in Linux's map
  assert.equal(symbolizer(join(dir, 'missing')), undefined);
});

test('each CPU of an `info registers -a` dump, in order: 64-bit RIP, a parked CPU EIP, arm64 PC', () => {
  const dump = [
    'CPU#0',
    'RAX=0000000000000000 RBX=ffffffff82a0f940',
    'RIP=ffffffff815301a3 RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1',
    'CPU#1',
    'EAX=00000000 EBX=00000000',
    'EIP=0000fff0 EFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0',
  ].join('\n');
  assert.deepEqual(cpuPositions(dump, symbolizer(map)), [
    'ffffffff815301a3 native_safe_halt+0x13',
    '0000fff0',
  ]);
  assert.deepEqual(cpuPositions('CPU#0\n PC=ffff800008012345 X00=0000000000000000'), ['ffff800008012345']);
});

// The heartbeat verdict, with no QEMU behind the socket (QMP's failure is reported, not thrown).
async function look(beatsWhileLooking, staleS = 0) {
  const heartbeat = join(dir, `heartbeat-${beatsWhileLooking}-${staleS}`);
  writeFileSync(heartbeat, '100.00\n');
  if (staleS) {
    const t = (Date.now() - staleS * 1000) / 1000;
    utimesSync(heartbeat, t, t);
  }
  let up = 100;
  const timer = beatsWhileLooking
    ? setInterval(() => {
        up += 5;
        writeFileSync(heartbeat, `${up.toFixed(2)}\n`);
      }, 500)
    : undefined;
  try {
    return await diagnoseStall({
      qmpPath: join(dir, 'no-qemu.sock'),
      stdin: undefined,
      mode: 'bare',
      arch: 'x64',
      consoleText: () => '',
      heartbeat,
      answerMs: 4000,
    });
  } finally {
    clearInterval(timer);
  }
}

test('new beats while the runner looks: the guest runs and its console is what stopped', async () => {
  const report = await look(true);
  assert.match(report, /^QMP: /m);
  assert.match(
    report,
    /heartbeat: last beat \ds ago, guest uptime 1\d\d\.00 s \(at the stall: 100\.00 s.*the guest still runs/,
  );
});

test('beats overdue at the stall that come back while the runner pokes: timers stood still, not a quiet job', async () => {
  assert.match(
    await look(true, 180),
    /heartbeat: last beat \ds ago, guest uptime 1\d\d\.00 s \(at the stall: 100\.00 s, 18\ds before\) -> the beats had stopped \(the last 18\ds before the stall\) and came back only once the runner poked/,
  );
  assert.match(heartbeatVerdict(true, 4), /the guest still runs/);
  assert.match(heartbeatVerdict(true, 16), /the beats had stopped \(the last 16s/);
  assert.match(heartbeatVerdict(false, 100), /no beat while the runner looked/);
});

test('no beat while the runner looks: the guest stopped too; no heartbeat file at all is said so', async () => {
  assert.match(
    await look(false),
    /heartbeat: last beat \d+s ago, guest uptime 100\.00 s .*no beat while the runner looked/,
  );
  const none = await diagnoseStall({
    qmpPath: join(dir, 'no-qemu.sock'),
    mode: 'bare',
    arch: 'x64',
    consoleText: () => '',
    heartbeat: join(dir, 'never-written'),
    answerMs: 1000,
  });
  assert.match(none, /heartbeat: none written/);
});
