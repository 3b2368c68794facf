// dom0's handle on a domU running domu-agent.mjs: start it with xen-domu.sh, call its ops over xenstore
// (rpc.mjs), stop or destroy it. One boot serves a whole test file.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { XenStore } from '@zcopy/xenstore';
// @ts-expect-error: plain JS shared with the domU agent
import { getJson, putJson, removeJson } from './rpc.mjs';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const packages = resolve(here, '..', '..', '..');
const repo = resolve(packages, '..');
const domuScript = join(repo, 'scripts', 'vm', 'xen-domu.sh');

/** The packages the agent imports, as built JS (dist/) plus their addons. */
const included = ['core', 'grant-table', 'xen-evtchn', 'xenstore'].map((p) => join(packages, p));

/** Throws unless every package's dist/ is newer than its src/: the domU runs dist, not the TS sources. */
export function checkBuilt(): void {
  for (const dir of included) {
    const dist = join(dir, 'dist', 'index.js');
    if (!existsSync(dist))
      throw new Error(`${dist} is missing: run \`pnpm build\` before the two-domain tests`);
    const built = statSync(dist).mtimeMs;
    for (const f of readdirSync(join(dir, 'src')))
      if (statSync(join(dir, 'src', f)).mtimeMs > built)
        throw new Error(
          `${dir}/src/${f} is newer than its dist/: run \`pnpm build\` before the two-domain tests`,
        );
  }
}

export interface AgentError {
  name: string;
  code?: string;
  message: string;
}

export class AgentCallError extends Error {
  override name = 'AgentCallError';
  constructor(
    readonly op: string,
    readonly remote: AgentError,
  ) {
    super(`domU ${op}: ${remote.name}${remote.code ? ` ${remote.code}` : ''}: ${remote.message}`);
  }
}

export class Domu {
  #next = 1;
  private constructor(
    readonly xs: XenStore,
    readonly name: string,
    readonly domid: number,
    readonly type: 'pv' | 'pvh',
    readonly base: string,
    readonly bootMs: number,
  ) {}

  /** Boots a domU running the agent and waits until it says it is ready. */
  static async start(xs: XenStore, type: 'pv' | 'pvh', timeoutMs = 180_000): Promise<Domu> {
    checkBuilt();
    const t0 = Date.now();
    const agent = join(here, 'domu-agent.mjs');
    const args = ['start', '--type', type, '--mem', '512'];
    for (const d of included) args.push('--include', d);
    args.push('--', process.execPath, agent);
    const { stdout } = await run(domuScript, args, { env: process.env });
    const name = stdout.trim().split('\n').pop()!;
    const domid = Number((await run('xl', ['domid', name])).stdout.trim());
    const base = `/local/domain/${domid}/data/zcopy`;
    const w = await xs.watch(`${base}/ready`);
    try {
      const deadline = Date.now() + timeoutMs;
      while ((await xs.tryRead(`${base}/ready`)) === undefined) {
        // Wake every 2 s to notice a guest that died booting (its console then says why).
        const alive = await run('xl', ['domid', name]).then(
          () => true,
          () => false,
        );
        if (!alive || Date.now() > deadline) {
          const log = await run('tail', ['-n', '40', `/var/log/xen/console/guest-${name}.log`]).catch(() => ({
            stdout: '(no console log)',
          }));
          throw new Error(
            `domU ${name} ${alive ? `not ready after ${timeoutMs} ms` : 'died before it was ready'}; its console:\n${log.stdout}`,
          );
        }
        await w.next({ timeoutMs: 2000 }).catch(() => {});
      }
    } finally {
      await w.close();
    }
    return new Domu(xs, name, domid, type, base, Date.now() - t0);
  }

  /** Runs one agent op; rejects with AgentCallError when it failed in the domU. */
  async call<T = Record<string, unknown>>(
    op: string,
    args: Record<string, unknown> = {},
    timeoutMs = 60_000,
  ): Promise<T> {
    const id = this.#next++;
    const rsp = `${this.base}/rsp/${id}`;
    const w = await this.xs.watch(rsp);
    try {
      await putJson(this.xs, `${this.base}/req/${id}`, { op, args });
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const reply = await getJson(this.xs, rsp);
        if (reply !== undefined) {
          // Clean up: a guest's xenstore node quota is small (1,000 by default).
          await removeJson(this.xs, `${this.base}/req/${id}`);
          await removeJson(this.xs, rsp);
          if (!reply.ok) throw new AgentCallError(op, reply.error);
          return reply.result as T;
        }
        await w.next({ timeoutMs: Math.max(1, deadline - Date.now()) }).catch(async (e) => {
          // No reply: show what the guest's console says (the agent logs failed requests there).
          const log = await run('tail', ['-n', '30', `/var/log/xen/console/guest-${this.name}.log`]).catch(
            () => ({
              stdout: '(no console log)',
            }),
          );
          const alive = await run('xl', ['domid', this.name]).then(
            () => 'running',
            () => 'gone',
          );
          throw new Error(
            `domU ${op} #${id}: no reply (${e.message}); the domain is ${alive}; its console:\n${log.stdout}`,
          );
        });
      }
    } finally {
      await w.close();
    }
  }

  /** Asks the agent to exit and waits for the domain to be gone; returns the agent's console output. */
  async stop(timeoutS = 60): Promise<string> {
    await this.call('exit').catch(() => {});
    const r = await run(domuScript, ['wait', this.name, '--timeout', String(timeoutS)]).catch((e) => e);
    return `${r.stdout ?? ''}${r.stderr ?? ''}`;
  }

  /** xl destroy: the domain dies at once, whatever it holds. */
  async destroy(): Promise<void> {
    await run('xl', ['destroy', this.name]);
  }
}

/** Domain ids xl lists (a dying domain still mapped by someone stays listed until released). */
export async function listedDomids(): Promise<number[]> {
  const { stdout } = await run('xl', ['list']);
  return stdout
    .split('\n')
    .slice(1)
    .map((l) => Number(l.trim().split(/\s+/)[1]))
    .filter((n) => Number.isInteger(n));
}
