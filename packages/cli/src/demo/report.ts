// The demo's step log: each step prints as it ends (with its time), failures keep the step's name, and the
// summary at the end lists every step, the frame bytes copied per direction and the pictures written.
export interface StepRecord {
  direction: string;
  name: string;
  ms: number;
  ok: boolean;
  detail?: string;
}

export class DemoReport {
  readonly steps: StepRecord[] = [];
  readonly pictures: string[] = [];
  readonly copied = new Map<string, number>();
  /** domUs that died under the demo (xl's reason), noted by the directions before they destroy them. */
  readonly deaths: string[] = [];
  #direction = '';
  /** The step running now, if any (named in the report if the demo ends inside it). */
  #running: { name: string; t0: number } | undefined;

  constructor(private readonly print: (line: string) => void) {}

  section(direction: string, about: string): void {
    this.#direction = direction;
    this.print('');
    this.print(`== ${direction}: ${about}`);
  }

  /** Runs one step; its detail (the function's string result) follows its name. */
  async step<T>(name: string, fn: () => Promise<T> | T, detail?: (v: T) => string | undefined): Promise<T> {
    const t0 = performance.now();
    this.#running = { name, t0 };
    // A long step says it is still waiting (a PVH domU's boot took 39-61 s alone on a slower machine, more
    // under load): the output shows the demo alive, and the VM runner's silence watchdog only fires when dom0
    // itself stops, not while a quiet step waits within its own limit.
    const tick = setInterval(() => {
      this.print(`  ...  ${name}: still waiting (${Math.round((performance.now() - t0) / 1000)} s)`);
    }, 60_000);
    tick.unref?.();
    try {
      const v = await fn();
      const ms = performance.now() - t0;
      const d = detail?.(v);
      this.steps.push({ direction: this.#direction, name, ms, ok: true, detail: d });
      this.print(`  ok   ${name.padEnd(58)} ${fmtMs(ms).padStart(9)}${d ? `  ${d}` : ''}`);
      return v;
    } catch (e) {
      const ms = performance.now() - t0;
      this.steps.push({ direction: this.#direction, name, ms, ok: false, detail: String(e) });
      this.print(`  FAIL ${name.padEnd(58)} ${fmtMs(ms).padStart(9)}`);
      throw e;
    } finally {
      clearInterval(tick);
      this.#running = undefined;
    }
  }

  /** Records the running step as failed with `why` (the demo is ending inside it); false if none runs. */
  abandon(why: string): boolean {
    const r = this.#running;
    if (!r) return false;
    this.#running = undefined;
    const ms = performance.now() - r.t0;
    this.steps.push({ direction: this.#direction, name: r.name, ms, ok: false, detail: why });
    this.print(`  FAIL ${r.name.padEnd(58)} ${fmtMs(ms).padStart(9)}  ${why}`);
    return true;
  }

  /** Forgets what a direction recorded from step `steps` and picture `pictures` on (before it runs again). */
  rewind(steps: number, pictures: number): void {
    this.steps.splice(steps);
    this.pictures.splice(pictures);
  }

  toJSON(): object {
    return { steps: this.steps, pictures: this.pictures, bytesCopied: Object.fromEntries(this.copied) };
  }
}

export function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}
