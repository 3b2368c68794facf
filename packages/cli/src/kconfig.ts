// The running kernel's build configuration: /proc/config.gz (CONFIG_IKCONFIG_PROC) or /boot/config-<release>.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** y: built in; m: a module; n: not set (or absent: its dependencies are off); unknown: no config to read. */
export type OptionState = 'y' | 'm' | 'n' | 'unknown';

export interface KernelConfig {
  /** The file it was read from (a path as the host sees it), or null. */
  source: string | null;
  state(option: string): OptionState;
}

/** Parse a kernel .config: `CONFIG_X=y|m|<value>` and `# CONFIG_X is not set`. */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (set) out.set(set[1]!, set[2]!);
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line);
    if (unset) out.set(unset[1]!, 'n');
  }
  return out;
}

export function configFrom(source: string | null, options: Map<string, string> | null): KernelConfig {
  return {
    source,
    state(option) {
      if (!options) return 'unknown';
      const v = options.get(option);
      if (v === undefined || v === 'n') return 'n';
      return v === 'm' ? 'm' : 'y'; // strings and numbers count as set
    },
  };
}

/**
 * Read the config of the running kernel. `root` prefixes every path (tests use a fake tree); the source
 * is reported without it.
 */
export function readKernelConfig(root: string, release: string): KernelConfig {
  const candidates: [string, (buf: Buffer) => string][] = [
    ['/proc/config.gz', (b) => gunzipSync(b).toString('utf8')],
    [`/boot/config-${release}`, (b) => b.toString('utf8')],
  ];
  for (const [path, decode] of candidates) {
    let buf: Buffer;
    try {
      buf = readFileSync(root + path);
    } catch {
      continue;
    }
    try {
      return configFrom(path, parseKernelConfig(decode(buf)));
    } catch {
      // a corrupt config.gz: try the next source
    }
  }
  return configFrom(null, null);
}
