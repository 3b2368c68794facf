// `zcopy pv-display`: runs the PV display backend of @zcopy/pv-display in this domain until interrupted (or for
// --seconds), printing each device's connection and, every --every seconds, its requests, flips and the bytes
// its buffer path copied per frame.
/** Where output goes (the CLI's Io). */
interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

export type PvDisplayPath = 'copy' | 'be-alloc' | 'export';

export interface PvDisplayOptions {
  path: PvDisplayPath;
  seconds?: number;
  everyS: number;
  json: boolean;
}

export const PV_DISPLAY_USAGE = `usage: zcopy pv-display [--path copy|be-alloc|export] [--seconds N] [--every S] [--json]

Serves every vdispl device the toolstack gives this domain (start it before \`xl create\`), showing the guest
on this domain's vkms:
  --path copy       map the guest's buffers, copy each frame into a display buffer (default; dom0)
  --path be-alloc   allocate display buffers and grant them to the guest (vdispl be-alloc=1; zero copy)
  --path export     EXP_FROM_REFS + PRIME import of the guest's buffers (a PVH driver domain; zero copy)
  --seconds N       stop after N seconds (default: on SIGINT/SIGTERM)
  --every S         print statistics every S seconds (default 5)
  --json            one JSON object per line instead of text
`;

/** Parses the command's arguments; a string is a usage error. */
export function parsePvDisplayArgs(args: readonly string[]): PvDisplayOptions | string {
  const o: PvDisplayOptions = { path: 'copy', everyS: 5, json: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => args[++i];
    if (a === '--json') o.json = true;
    else if (a === '--path') {
      const v = value();
      if (v !== 'copy' && v !== 'be-alloc' && v !== 'export')
        return `--path must be copy, be-alloc or export`;
      o.path = v;
    } else if (a === '--seconds' || a === '--every') {
      const v = Number(value());
      if (!Number.isFinite(v) || v <= 0) return `${a} needs a positive number`;
      if (a === '--seconds') o.seconds = v;
      else o.everyS = v;
    } else return `unknown option '${a}'`;
  }
  return o;
}

export async function pvDisplayCommand(args: readonly string[], io: Io): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    io.stdout(PV_DISPLAY_USAGE);
    return 0;
  }
  const o = parsePvDisplayArgs(args);
  if (typeof o === 'string') {
    io.stderr(`zcopy pv-display: ${o}\n\n${PV_DISPLAY_USAGE}`);
    return 2;
  }
  let pd: typeof import('@zcopy/pv-display');
  try {
    pd = await import('@zcopy/pv-display');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      io.stderr(
        'zcopy pv-display: @zcopy/pv-display is not installed (an optional peer of @zcopy/cli): npm i @zcopy/pv-display\n',
      );
      return 1;
    }
    throw e;
  }
  const out = (obj: Record<string, unknown>, text: string) =>
    io.stdout(o.json ? `${JSON.stringify(obj)}\n` : `${text}\n`);
  const opts = {
    log: (line: string) => out({ event: 'log', line }, line),
    onChange: (d: import('@zcopy/pv-display').DeviceInfo) =>
      out(
        { event: 'device', ...d },
        `device ${d.frontendDomid}/${d.devid}: ${d.state}` +
          (d.connectors.length ? ` (${d.connectors.map((c) => `${c.width}x${c.height}`).join(', ')})` : ''),
      ),
  };
  const started =
    o.path === 'copy'
      ? await pd.startCopyBackend(opts)
      : o.path === 'be-alloc'
        ? await pd.startBackendAllocBackend(opts)
        : await pd.startExportBackend(opts);
  const backend = started.backend as import('@zcopy/pv-display').PvDisplayBackend;
  out(
    { event: 'started', path: o.path, root: backend.root },
    `zcopy pv-display: ${o.path} path, watching ${backend.root}`,
  );
  const last = new Map<string, number>();
  const tick = setInterval(() => {
    for (const d of backend.devices) {
      const s = backend.stats(d.frontendDomid, d.devid);
      if (!s) continue;
      const key = `${d.frontendDomid}/${d.devid}`;
      const flips = s.flips - (last.get(key) ?? 0);
      last.set(key, s.flips);
      const perFrame = s.flips > 0 ? Math.round(s.bytesCopied / s.flips) : 0;
      out(
        {
          event: 'stats',
          device: key,
          path: o.path,
          ...s,
          flipsPerSecond: flips / o.everyS,
          bytesCopiedPerFrame: perFrame,
        },
        `${key} ${d.state}: ${s.flips} flips (${(flips / o.everyS).toFixed(1)}/s), ${s.events} events, ` +
          `${s.errors} errors, ${o.path === 'copy' ? `${perFrame} bytes copied per frame` : '0 bytes copied'}` +
          (s.lateResponses > 0 ? `, ${s.lateResponses} answered after the frontend's 3 s` : '') +
          (s.lateFlips > 0 ? `, ${s.lateFlips} flips ended after the frontend's wait (no event)` : ''),
      );
    }
  }, o.everyS * 1000);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (o.seconds !== undefined) setTimeout(stop, o.seconds * 1000);
  });
  clearInterval(tick);
  await started.close();
  out({ event: 'stopped' }, 'zcopy pv-display: stopped');
  return 0;
}
