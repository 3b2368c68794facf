// JSON messages through xenstore between domains: a value bigger than one xenstore entry is split into parts
// (<key>-0, <key>-1, … : node names allow only letters, digits and -/_@) written first, then announced by
// {"parts": n} at <key> itself, so a reader that sees <key> can read everything it needs.
import { TimeoutError, ZcopyError } from '@zcopy/core';
import { abortReason, checkWaitOptions } from '@zcopy/core/internal';
import type { XenStore } from './xenstore.js';

/** Bytes per entry: xenstored limits a guest's values to 2048 bytes by default (quota entry-size). */
export const JSON_PART_BYTES = 1800;

function isPartsHeader(v: unknown): v is { parts: number } {
  return v !== null && typeof v === 'object' && 'parts' in v && Object.keys(v).length === 1;
}

/** Writes `value` (anything JSON.stringify takes) at `key`, in parts if it is large; `key` is written last. */
export async function writeJson(xs: XenStore, key: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('value is not representable as JSON');
  if (text.length <= JSON_PART_BYTES) return xs.write(key, text);
  const n = Math.ceil(text.length / JSON_PART_BYTES);
  for (let i = 0; i < n; i++)
    await xs.write(`${key}-${i}`, text.slice(i * JSON_PART_BYTES, (i + 1) * JSON_PART_BYTES));
  await xs.write(key, JSON.stringify({ parts: n }));
}

/** Reads what writeJson wrote; undefined if `key` does not exist (yet). */
export async function readJson<T = unknown>(xs: XenStore, key: string): Promise<T | undefined> {
  const head = await xs.tryRead(key);
  if (head === undefined) return undefined;
  const v: unknown = JSON.parse(head);
  if (!isPartsHeader(v)) return v as T;
  let text = '';
  for (let i = 0; i < v.parts; i++) text += await xs.read(`${key}-${i}`);
  return JSON.parse(text) as T;
}

/** Removes what writeJson wrote at `key` (the value and its parts); a missing key is fine. */
export async function removeJson(xs: XenStore, key: string): Promise<void> {
  const head = await xs.tryRead(key);
  if (head === undefined) return;
  const v: unknown = JSON.parse(head);
  if (isPartsHeader(v)) for (let i = 0; i < v.parts; i++) await xs.remove(`${key}-${i}`).catch(() => {});
  await xs.remove(key).catch(() => {});
}

export interface WaitJsonOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** How often to look (ms, default 100): polling works whatever the permissions of a peer's directory. */
  intervalMs?: number;
}

/** Resolves with the message at `key` once a peer has written it; TimeoutError/abort otherwise. */
export async function waitJson<T = unknown>(
  xs: XenStore,
  key: string,
  options: WaitJsonOptions = {},
): Promise<T> {
  checkWaitOptions(options);
  const { timeoutMs, signal, intervalMs = 100 } = options;
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw abortReason(signal);
    const v = await readJson<T>(xs, key);
    if (v !== undefined) return v;
    if (Date.now() >= deadline) throw new TimeoutError(`a message at ${key}`, timeoutMs!);
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}

/** Numbered children of a directory written by writeJson (parts excluded), ascending: a queue of requests. */
export async function jsonMessageIds(xs: XenStore, dir: string): Promise<number[]> {
  const names = await xs.directory(dir).catch(() => [] as string[]);
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** A step's outcome as a peer sends it back: the result, or the error (name, code, message) it failed with. */
export interface JsonReply<T> {
  ok: boolean;
  result?: T;
  error?: { name: string; code?: string; message: string };
}

/**
 * A control channel between two domains: JSON messages under one xenstore directory that both may write (a
 * domU's /local/domain/<domid>/data/..., which the guest may write and dom0 anyway). Each message is written
 * once, under its own key; a step's outcome travels as a JsonReply.
 */
export class JsonChannel {
  /** Who is at the other end, in error messages (default: the directory). */
  readonly peer: string;

  constructor(
    readonly xs: XenStore,
    /** The directory, e.g. /local/domain/5/data/zcopy-demo. */
    readonly base: string,
    peer?: string,
  ) {
    this.peer = peer ?? base;
  }

  send(key: string, value: unknown): Promise<void> {
    return writeJson(this.xs, `${this.base}/${key}`, value);
  }

  /** The message at `key`, or undefined if it is not there yet. */
  peek<T>(key: string): Promise<T | undefined> {
    return readJson<T>(this.xs, `${this.base}/${key}`);
  }

  receive<T>(key: string, timeoutMs?: number, signal?: AbortSignal): Promise<T> {
    return waitJson<T>(this.xs, `${this.base}/${key}`, { timeoutMs, signal });
  }

  /** Waits for a peer's reply to a step and unwraps it (a failed step becomes an Error naming the peer). */
  async result<T>(key: string, timeoutMs?: number): Promise<T> {
    const r = await this.receive<JsonReply<T>>(key, timeoutMs);
    if (!r.ok) {
      const e = r.error;
      throw new ZcopyError(
        'ERR_ZCOPY_PEER_FAILED',
        `${this.peer} failed '${key}': ${e?.name ?? 'Error'}${e?.code ? ` ${e.code}` : ''}: ${e?.message}`,
      );
    }
    return r.result as T;
  }

  /** Runs a step here and sends its outcome as the reply a peer's result() reads. */
  async reply<T>(key: string, fn: () => Promise<T> | T): Promise<void> {
    await this.send(key, await outcome(fn));
  }
}

/** Runs `fn` and says how it went, as a JsonReply (never throws for fn's failure). */
export async function outcome<T>(fn: () => Promise<T> | T): Promise<JsonReply<T>> {
  try {
    return { ok: true, result: await fn() };
  } catch (e) {
    const err = e as { name?: string; code?: string; message?: string };
    return {
      ok: false,
      error: { name: err?.name ?? 'Error', code: err?.code, message: String(err?.message ?? e) },
    };
  }
}
