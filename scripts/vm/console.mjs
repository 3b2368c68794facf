// Splits the guest's serial console into lines and tracks where the job's own output is
// (between the markers images/init prints) and whether the kernel or Xen panicked.

const START = '@@zcopy-job-start@@';
const EXIT = /^@@zcopy-job-exit (\d+)@@$/;
// Linux panics, and Xen's own panic or dom0-crash lines.
const PANIC = /Kernel panic - not syncing|^\(XEN\) Panic on CPU|Hardware Dom0 crashed/;

export class ConsoleParser {
  phase = 'boot';
  panicked = false;
  text = '';
  jobOutput = '';
  #partial = '';

  /** Feeds raw console bytes; returns the complete lines they finished. */
  push(chunk) {
    const s = this.#partial + chunk.toString('utf8').replaceAll('\r', '');
    const lines = s.split('\n');
    this.#partial = lines.pop();
    return lines.map((l) => this.#line(l));
  }

  /** The last, unterminated line (at QEMU exit). */
  flush() {
    if (!this.#partial) return [];
    const l = this.#partial;
    this.#partial = '';
    return [this.#line(l)];
  }

  #line(line) {
    this.text += `${line}\n`;
    if (PANIC.test(line)) this.panicked = true;
    let phase = this.phase;
    if (this.phase === 'boot' && line.trim() === START) {
      this.phase = 'job';
      phase = 'boot';
    } else if (this.phase === 'job' && EXIT.test(line.trim())) {
      this.phase = 'shutdown';
      phase = 'shutdown';
    } else if (phase === 'job') {
      this.jobOutput += `${line}\n`;
    }
    return { line, phase };
  }
}
