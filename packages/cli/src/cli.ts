// The `zcopy` command: argument parsing and output; the work is doctor().
import { readFileSync } from 'node:fs';
import { doctor } from './doctor.js';
import { formatReport } from './format.js';

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

const USAGE = `usage: zcopy <command> [options]

commands:
  doctor [--json]   which Linux zero-copy interfaces this machine offers, and why the missing ones are missing
                    (--json: the machine-readable report, schema 'zcopy-doctor/1'; see the @zcopy/cli README)

options:
  -h, --help        this text
  -v, --version     the version of @zcopy/cli
`;

function version(): string {
  // src/ and dist/ both sit one level below the package root.
  return (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
}

/** Runs the CLI; returns the exit code (0: report printed, 1: the doctor failed, 2: usage error). */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout)(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '-v' || command === '--version') {
    io.stdout(`${version()}\n`);
    return 0;
  }
  if (command !== 'doctor') {
    io.stderr(`zcopy: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  let json = false;
  for (const a of rest) {
    if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') {
      io.stdout(USAGE);
      return 0;
    } else {
      io.stderr(`zcopy doctor: unknown option '${a}'\n\n${USAGE}`);
      return 2;
    }
  }
  try {
    const report = await doctor();
    io.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return 0;
  } catch (e) {
    io.stderr(`zcopy doctor: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
