// The `zcopy` command: argument parsing and output; the work is doctor() and runDemo().
import { readFileSync } from 'node:fs';
import { guestType, isDom0 } from '@zcopy/xen';
import { DEMO_PACKAGES } from './demo-packages.js';
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
  demo --out DIR [--only backend|frontend|stock-guest]
                    in Xen dom0 of the zcopy image: a frame shared zero-copy between two domains in both
                    directions, then a stock guest's modetest shown by the TS PV display backend
                    (stock-guest), each on vkms and captured as PNGs in DIR (from the repo: \`npm run demo\`)
  pv-display [--path copy|be-alloc|export] [--seconds N] [--every S] [--json]
                    a Xen PV display backend for the guests' stock xen-drm-front, shown on this domain's
                    vkms (see \`zcopy pv-display --help\` and the @zcopy/pv-display README)

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
  if (command === 'demo') return demoCommand(rest, io);
  if (command === 'pv-display') {
    // Loaded here: it needs the Xen packages' addons, doctor must work without them.
    const { pvDisplayCommand } = await import('./pv-display.js');
    return pvDisplayCommand(rest, io);
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

async function demoCommand(args: readonly string[], io: Io): Promise<number> {
  let outDir: string | undefined;
  let only: 'backend' | 'frontend' | 'stock-guest' | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--out') outDir = args[++i];
    else if (
      a === '--only' &&
      (args[i + 1] === 'backend' || args[i + 1] === 'frontend' || args[i + 1] === 'stock-guest')
    )
      only = args[++i] as typeof only;
    else {
      io.stderr(`zcopy demo: unknown option '${a}'\n\n${USAGE}`);
      return 2;
    }
  }
  if (!outDir) {
    io.stderr(`zcopy demo: --out DIR is required\n\n${USAGE}`);
    return 2;
  }
  const guest = guestType() ?? '';
  if (!isDom0()) {
    io.stderr(
      `zcopy demo: this is not Xen dom0${guest ? ` (guest type ${guest})` : ''}. The demo starts domUs and needs ` +
        'the zcopy image; from a clone of the repo, `npm run demo` builds it, boots it under QEMU and runs this.\n',
    );
    return 1;
  }
  let runDemo: typeof import('./demo/dom0.js').runDemo;
  try {
    // Loaded here: the demo needs the Xen packages' addons, doctor must work without them. They are optional
    // peer dependencies of @zcopy/cli, so that `npm i @zcopy/cli` for the doctor stays small.
    ({ runDemo } = await import('./demo/dom0.js'));
  } catch (e) {
    const missing = /Cannot find (?:package|module) '(@zcopy\/[a-z-]+)/.exec((e as Error).message)?.[1];
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && missing) {
      io.stderr(
        `zcopy demo: ${missing} is not installed. The demo needs @zcopy/cli's optional peers: ` +
          `npm i ${DEMO_PACKAGES.join(' ')}\n`,
      );
      return 1;
    }
    io.stderr(`zcopy demo: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
  try {
    await runDemo({ outDir, only, print: (l) => io.stdout(`${l}\n`) });
    return 0;
  } catch (e) {
    io.stderr(`zcopy demo: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
