// The demo's control channel between dom0 and a domU: JSON messages in the domU's xenstore data directory
// (the guest may write there, dom0 anywhere). Each message is written once, under its own key.
import { readJson, waitJson, writeJson, type XenStore } from '@zcopy/xenstore';

export interface Reply<T> {
  ok: boolean;
  result?: T;
  error?: { name: string; code?: string; message: string };
}

export class Channel {
  readonly base: string;
  constructor(
    readonly xs: XenStore,
    readonly domid: number,
  ) {
    this.base = `/local/domain/${domid}/data/zcopy-demo`;
  }

  send(key: string, value: unknown): Promise<void> {
    return writeJson(this.xs, `${this.base}/${key}`, value);
  }

  peek<T>(key: string): Promise<T | undefined> {
    return readJson<T>(this.xs, `${this.base}/${key}`);
  }

  receive<T>(key: string, timeoutMs?: number, signal?: AbortSignal): Promise<T> {
    return waitJson<T>(this.xs, `${this.base}/${key}`, { timeoutMs, signal });
  }

  /** Waits for a peer's reply to a step and unwraps it (a failed step becomes an Error naming the peer). */
  async result<T>(key: string, timeoutMs?: number): Promise<T> {
    const r = await this.receive<Reply<T>>(key, timeoutMs);
    if (!r.ok) {
      const e = r.error;
      throw new Error(
        `domain ${this.domid} failed '${key}': ${e?.name ?? 'Error'}${e?.code ? ` ${e.code}` : ''}: ${e?.message}`,
      );
    }
    return r.result as T;
  }

  /** Runs a step here and sends its outcome as the reply a peer's result() reads. */
  async reply<T>(key: string, fn: () => Promise<T> | T): Promise<void> {
    let r: Reply<T>;
    try {
      r = { ok: true, result: await fn() };
    } catch (e) {
      const err = e as { name?: string; code?: string; message?: string };
      r = {
        ok: false,
        error: { name: err?.name ?? 'Error', code: err?.code, message: String(err?.message ?? e) },
      };
    }
    await this.send(key, r);
  }
}
