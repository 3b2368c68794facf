// A minimal QMP client (QEMU Machine Protocol: JSON objects, one per line, over the unix socket QEMU was given
// with `-qmp unix:PATH,server=on,wait=off`). The runner uses it only to look inside a guest that went silent:
// its run state, where each vCPU is (HMP `info registers -a` through `human-monitor-command`), and a serial break
// for the kernel's SysRq. Protocol: QEMU greets with {"QMP": ...}; nothing but `qmp_capabilities` is accepted until
// that is sent; every command gets one {"return": ...} or {"error": ...}; {"event": ...} lines can come any time.
import { connect } from 'node:net';

export class Qmp {
  #sock;
  #buf = '';
  #waiters = []; // resolvers of replies, in command order (QMP answers in order)
  #greeted;
  #closed = false;

  /** Connects and leaves capabilities negotiation; rejects within `timeoutMs` if QEMU does not answer. */
  static async open(path, timeoutMs = 5000) {
    const q = new Qmp();
    await q.#connect(path, timeoutMs);
    await q.execute('qmp_capabilities');
    return q;
  }

  #connect(path, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.close();
        reject(new Error(`QMP: no greeting from ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#greeted = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#sock = connect(path);
      this.#sock.setEncoding('utf8');
      this.#sock.on('data', (d) => this.#data(d));
      this.#sock.on('error', (e) => {
        clearTimeout(timer);
        this.#fail(e);
        reject(e);
      });
      this.#sock.on('close', () => this.#fail(new Error('QMP: connection closed')));
    });
  }

  #data(d) {
    this.#buf += d;
    let nl = this.#buf.indexOf('\n');
    while (nl >= 0) {
      const line = this.#buf.slice(0, nl).trim();
      this.#buf = this.#buf.slice(nl + 1);
      nl = this.#buf.indexOf('\n');
      if (!line) continue;
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if (msg.QMP) this.#greeted?.();
      else if ('return' in msg || 'error' in msg) this.#waiters.shift()?.(msg);
    }
  }

  #fail(e) {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w({ error: { class: 'Disconnected', desc: e.message } });
  }

  /** Runs a QMP command; resolves to its return value, rejects with QEMU's error text or on a timeout. */
  execute(command, args, timeoutMs = 10000) {
    if (this.#closed) return Promise.reject(new Error('QMP: connection closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`QMP: ${command} got no reply in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.push((msg) => {
        clearTimeout(timer);
        if (msg.error) reject(new Error(`QMP ${command}: ${msg.error.desc}`));
        else resolve(msg.return);
      });
      this.#sock.write(
        `${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`,
      );
    });
  }

  /** An HMP command line (`info registers -a`, ...) through QMP; resolves to its text output. */
  hmp(commandLine, timeoutMs) {
    return this.execute('human-monitor-command', { 'command-line': commandLine }, timeoutMs);
  }

  close() {
    this.#closed = true;
    this.#sock?.destroy();
  }
}
