// dom0's handle on a domU running agent/grant-agent.mjs: boot it (bootWithPackages), call its ops over
// xenstore (numbered JSON requests and replies), stop or destroy it. One boot serves a whole test file.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DomU, DomUType } from '@zcopy/xen/domu';
import { readJson, removeJson, writeJson, type XenStore } from '@zcopy/xenstore';
import { bootWithPackages, domainAlive } from './boot.js';

const here = dirname(fileURLToPath(import.meta.url));
/** This package's directory (src/ or dist/ → ..): the agent and the packages it imports go into the guest. */
const packageDir = resolve(here, '..');

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

export class AgentDomU {
  #next = 1;
  private constructor(
    readonly xs: XenStore,
    readonly domu: DomU,
    readonly domid: number,
    readonly base: string,
    readonly bootMs: number,
  ) {}

  get name(): string {
    return this.domu.name;
  }

  get type(): DomUType {
    return this.domu.type;
  }

  /** Boots a domU running the agent and waits until it says it is ready. */
  static async start(xs: XenStore, type: DomUType, timeoutMs = 180_000): Promise<AgentDomU> {
    const t0 = Date.now();
    let base = '';
    const { domu, domid } = await bootWithPackages({
      type,
      packages: [packageDir],
      script: join(packageDir, 'agent', 'grant-agent.mjs'),
      ready: async (d, gone) => {
        base = `/local/domain/${await d.domid()}/data/zcopy`;
        const w = await xs.watch(`${base}/ready`);
        try {
          const deadline = Date.now() + timeoutMs;
          while ((await xs.tryRead(`${base}/ready`)) === undefined) {
            if (gone.aborted) return;
            if (Date.now() > deadline) {
              const e = new Error(`domU ${d.name} not ready after ${timeoutMs} ms`);
              e.name = 'TimeoutError';
              throw e;
            }
            await w.next({ timeoutMs: 2000 }).catch(() => {});
          }
        } finally {
          await w.close();
        }
      },
    });
    return new AgentDomU(xs, domu, domid, base, Date.now() - t0);
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
      await writeJson(this.xs, `${this.base}/req/${id}`, { op, args });
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const reply = await readJson<{ ok: boolean; result?: unknown; error: AgentError }>(this.xs, rsp);
        if (reply !== undefined) {
          // Clean up: a guest's xenstore node quota is small (1,000 by default).
          await removeJson(this.xs, `${this.base}/req/${id}`);
          await removeJson(this.xs, rsp);
          if (!reply.ok) throw new AgentCallError(op, reply.error);
          return reply.result as T;
        }
        await w.next({ timeoutMs: Math.max(1, deadline - Date.now()) }).catch(async (e) => {
          // No reply: show what the guest's console says (the agent logs failed requests there).
          const end = this.domu.end();
          const alive = (await domainAlive(this.name))
            ? 'running'
            : `gone${end ? ` (xl: ${end.reason === 'destroyed' ? 'destroyed' : `shut down, reason ${end.reason}`})` : ''}`;
          throw new Error(
            `domU ${op} #${id}: no reply (${e.message}); the domain is ${alive}; its console:\n${this.domu.consoleTail(30)}`,
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
    try {
      return (await this.domu.wait({ timeoutMs: timeoutS * 1000 })).output;
    } catch (e) {
      return String((e as Error).message);
    }
  }

  /** xl destroy: the domain dies at once, whatever it holds. */
  async destroy(): Promise<void> {
    await this.domu.destroy();
  }
}
