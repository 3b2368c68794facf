// Host: the CLI in-process — `doctor --json` matches the documented schema, the table, usage errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { assertReportSchema } from './schema.js';

const run = runCli;

describe('zcopy doctor', () => {
  it('--json prints one report in the zcopy-doctor/1 schema', async () => {
    const { code, out, err } = await run(['doctor', '--json']);
    expect(code).toBe(0);
    expect(err).toBe('');
    assertReportSchema(JSON.parse(out));
  });

  it('the table lists every check with its status and the summary line', async () => {
    const [{ out }, { out: json }] = await Promise.all([run(['doctor']), run(['doctor', '--json'])]);
    const report = JSON.parse(json) as {
      checks: { id: string; available: boolean }[];
      summary: { available: number; total: number };
    };
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^zcopy doctor: Linux \S+ \S+, uid \d+$/);
    expect(lines).toContainEqual(expect.stringMatching(/^INTERFACE +STATUS +PATH +DETAILS \/ WHY NOT$/));
    for (const c of report.checks) {
      const row = lines.find((l) => l.startsWith(`${c.id} `));
      expect(row, c.id).toBeDefined();
      expect(row!.split(/ +/)[1], c.id).toBe(c.available ? 'ok' : 'missing');
    }
    expect(out).toContain(`${report.summary.available} of ${report.summary.total} interfaces available.`);
  });

  it('usage: no command is an error, --help and --version are not', async () => {
    expect(await run([])).toMatchObject({ code: 2, out: '', err: expect.stringContaining('usage: zcopy') });
    expect(await run(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('doctor [--json]') });
    expect(await run(['doctor', '--help'])).toMatchObject({ code: 0 });
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(await run(['--version'])).toMatchObject({ code: 0, out: `${pkg.version}\n` });
  });

  it('unknown commands and options: exit 2 naming them', async () => {
    expect(await run(['frobnicate'])).toMatchObject({
      code: 2,
      err: expect.stringContaining("unknown command 'frobnicate'"),
    });
    expect(await run(['doctor', '--jsn'])).toMatchObject({
      code: 2,
      err: expect.stringContaining("unknown option '--jsn'"),
    });
  });
});
