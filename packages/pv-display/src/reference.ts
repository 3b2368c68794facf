// What a stock guest's frame is checked against, for tests and demos: the same libdrm `modetest` command the
// guest runs, on this domain's own display, captured by writeback. Shared by this package's Xen tests and
// `zcopy demo` (stock-guest), so both compare with the very same reference.
import { spawn } from 'node:child_process';
import { KmsDevice } from '@zcopy/drm-kms';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 100 ms until it returns a truthy value (resolved with it), or throws after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  fn: () => T | undefined | false,
  timeoutMs: number,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export interface ModetestReferenceOptions {
  /** The DRM driver whose display is used (default 'vkms'; it must have writeback). */
  driver?: string;
  /** The mode modetest sets (default '1024x768'). */
  mode?: string;
}

/**
 * Runs `modetest -M <driver> -d -s <connector>:<mode>` (-d: it drops DRM master after its mode set) on this
 * domain's display, waits 1.5 s after it reports the mode set, captures the display by writeback and returns the
 * bytes. Run it while no backend holds the display; needs `modetest` and `stdbuf` on the PATH.
 */
export async function modetestReference(options: ModetestReferenceOptions = {}): Promise<Buffer> {
  const { driver = 'vkms', mode = '1024x768' } = options;
  const probe = KmsDevice.openDriver(driver);
  const { connector } = probe.pick();
  probe.close();
  // stdbuf: modetest's stdout is a pipe here, which libc would buffer until exit.
  const child = spawn(
    'stdbuf',
    ['-oL', '-eL', 'modetest', '-M', driver, '-d', '-s', `${connector.id}:${mode}`],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  // Listened for from the start ('close': its output is all read by then): a modetest (or stdbuf) that ends
  // before the mode set fails this at once, and its end cannot be missed by a listener added after it (such a
  // wait never ended: a modetest gone early hung the caller until its test's timeout).
  let ended: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('close', (code, signal) => {
      ended = signal ? `signal ${signal}` : `status ${code}`;
      resolve();
    });
    child.once('error', (e) => {
      ended = `spawn error ${e.message}`;
      resolve();
    });
  });
  child.stdin.on('error', () => {}); // EPIPE once it is gone: its end is reported above
  try {
    await pollUntil(
      `modetest to set the mode on dom0 ${driver}`,
      () => {
        if (/setting mode/.test(out)) return true;
        if (ended) throw new Error(`modetest ended (${ended}) before it set the mode`);
        return false;
      },
      30_000,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}; modetest said:\n${out}`);
    });
    await sleep(1500);
    using kms = KmsDevice.openDriver(driver);
    const frame = await kms.capture(kms.pick().crtc, { timeoutMs: 20_000 });
    return Buffer.from(frame.data);
  } finally {
    if (!ended) child.stdin.end('\n');
    // It quits on that newline; one that does not within 10 s is killed, so this never waits forever.
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(kill);
  }
}
