// A stat of a socket in zcopy must not change where Node's module loader finds later imports: see
// fixtures/import-after-stat.mjs (nodejs/node#51142). Seen as a second @zcopy/core loaded through pnpm's
// unresolved symlink path after XenStore.open() on xenstored's socket.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/import-after-stat.mjs', import.meta.url));
const run = (op: string) =>
  JSON.parse(execFileSync(process.execPath, [fixture, op], { encoding: 'utf8' })) as {
    url: string;
    real: string;
  };

describe('module resolution after zcopy looked at a socket', () => {
  it("Node's own bug, for reference: a plain statSync of a socket leaves the next import's symlink unresolved", () => {
    const r = run('plain');
    expect(
      r.url,
      'Node resolves it now: the bigint stats in core/xenstore/cli are no longer needed',
    ).not.toBe(r.real);
    const none = run('none');
    expect(none.url).toBe(none.real);
  });

  it('XenStore.open() on a unix socket: the import resolves to the real path', () => {
    const r = run('xenstore');
    expect(r.url).toBe(r.real);
  });

  it("core's charDeviceOf on a socket fd: the import resolves to the real path", () => {
    const r = run('core');
    expect(r.url).toBe(r.real);
  });
});
