// Whether this kernel can back gntdev buffers with DMA memory. The kernel accepts GNTDEV_DMA_FLAG_* either way
// and silently ignores them without CONFIG_XEN_GRANT_DMA_ALLOC, so the ioctl cannot answer: the config does.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';

export type ConfigState = 'y' | 'm' | 'n' | 'unknown';

export interface DmaBackingSupport {
  /** CONFIG_XEN_GRANT_DMA_ALLOC: 'wc' and 'coherent' backings really allocate DMA memory. */
  dmaAlloc: ConfigState;
  /** CONFIG_XEN_GNTDEV_DMABUF: the dma-buf ioctls of gntdev exist. */
  gntdevDmabuf: ConfigState;
  /** Where the answer came from, or undefined when no kernel config could be read. */
  source: string | undefined;
}

/** The kernel config as text from /proc/config.gz or /boot/config-<release>, or undefined. */
export function readKernelConfig(
  paths: readonly string[] = ['/proc/config.gz', `/boot/config-${release()}`],
): { text: string; source: string } | undefined {
  for (const source of paths) {
    try {
      const raw = readFileSync(source);
      return { text: (source.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'), source };
    } catch {}
  }
  return undefined;
}

/** The state of one option in config text: 'n' when the text says "is not set" or omits it. */
export function configOption(text: string, option: string): ConfigState {
  if (!/^[A-Z0-9_]+$/.test(option)) throw new RangeError(`not a config option name: ${option}`);
  const m = new RegExp(`^CONFIG_${option}=([ym])$`, 'm').exec(text);
  return m ? (m[1] as 'y' | 'm') : 'n';
}

/** From the running kernel's config, or from `config` (null: none could be read). */
export function dmaBackingSupport(
  config: { text: string; source: string } | null = readKernelConfig() ?? null,
): DmaBackingSupport {
  if (!config) return { dmaAlloc: 'unknown', gntdevDmabuf: 'unknown', source: undefined };
  return {
    dmaAlloc: configOption(config.text, 'XEN_GRANT_DMA_ALLOC'),
    gntdevDmabuf: configOption(config.text, 'XEN_GNTDEV_DMABUF'),
    source: config.source,
  };
}
