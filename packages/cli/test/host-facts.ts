// This machine's facts, read independently of the doctor's code (so the tests compare, not repeat).
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';

/** The running kernel's config text, or null. */
export function configText(): string | null {
  if (existsSync('/proc/config.gz')) return gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  const boot = `/boot/config-${release()}`;
  return existsSync(boot) ? readFileSync(boot, 'utf8') : null;
}

/** 'y' | 'm' | 'n' (not set or absent), or null without a config. */
export function option(name: string): 'y' | 'm' | 'n' | null {
  const text = configText();
  if (text === null) return null;
  const m = new RegExp(`^${name}=(.*)$`, 'm').exec(text);
  if (!m) return 'n';
  return m[1] === 'm' ? 'm' : 'y';
}
