// Host: `zcopy pv-display`'s arguments (the backend itself needs Xen: packages/pv-display's Xen tests).
import { describe, expect, it } from 'vitest';
import { parsePvDisplayArgs } from '../src/pv-display.js';
import { runCli } from './run-cli.js';

describe('zcopy pv-display arguments', () => {
  it('defaults, each option, and the usage errors', () => {
    expect(parsePvDisplayArgs([])).toEqual({ path: 'copy', everyS: 5, json: false });
    expect(parsePvDisplayArgs(['--path', 'be-alloc', '--seconds', '30', '--every', '1', '--json'])).toEqual({
      path: 'be-alloc',
      seconds: 30,
      everyS: 1,
      json: true,
    });
    expect(parsePvDisplayArgs(['--path', 'export'])).toMatchObject({ path: 'export' });
    expect(parsePvDisplayArgs(['--path', 'mmap'])).toMatch(/--path must be/);
    expect(parsePvDisplayArgs(['--seconds', '-1'])).toMatch(/positive/);
    expect(parsePvDisplayArgs(['--every'])).toMatch(/positive/);
    expect(parsePvDisplayArgs(['--frobnicate'])).toMatch(/unknown option/);
  });

  it('through the CLI: --help is 0, a bad option is 2 with the usage', async () => {
    expect(await runCli(['pv-display', '--help'])).toMatchObject({
      code: 0,
      out: expect.stringContaining('usage: zcopy pv-display'),
    });
    expect(await runCli(['pv-display', '--path', 'x'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--path must be copy, be-alloc or export'),
    });
    expect(await runCli(['--help'])).toMatchObject({ out: expect.stringContaining('pv-display [--path') });
  });
});
