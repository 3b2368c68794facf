// Host: what the runner takes for Xen's answer to its nudge (scripts/vm/runner.mjs), which must not count as the
// guest speaking (else a nudged guest could never be found silent), and nothing else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNudgeEcho } from '../../scripts/vm/runner.mjs';

const toXen = "(XEN) *** Serial input to Xen (type 'CTRL-a' three times to switch input)\r\n";
const toDom0 = "(XEN) *** Serial input to DOM0 (type 'CTRL-a' three times to switch input)\r\n";

test("Xen's two switch lines, whole or in pieces, are the nudge's echo", () => {
  assert.equal(isNudgeEcho(Buffer.from(toXen + toDom0)), true);
  assert.equal(isNudgeEcho(Buffer.from(toDom0)), true);
  assert.equal(isNudgeEcho(Buffer.from('\r\n')), true); // a line's end, come on its own
  const both = toXen + toDom0;
  for (const cut of [1, 17, 40, toXen.length, toXen.length + 5])
    for (const piece of [both.slice(0, cut), both.slice(cut)])
      assert.equal(isNudgeEcho(Buffer.from(piece)), true, piece);
});

test('anything else is the guest: output, a redraw, Xen lines of another kind', () => {
  assert.equal(isNudgeEcho(Buffer.from(' Test Files 3 passed (5)\r\n')), false);
  assert.equal(isNudgeEcho(Buffer.from(`${toXen}quiet-end\r\n`)), false);
  assert.equal(isNudgeEcho(Buffer.alloc(0)), false);
  assert.equal(
    isNudgeEcho(Buffer.from('(XEN) Platform timer appears to have unexpectedly wrapped 4 times.\r\n')),
    false,
  );
  assert.equal(isNudgeEcho(Buffer.from('\x1b[?2026l')), false);
});
