// The udmabuf module parameters (writable by root at run time, so read them when they matter).
import { readFileSync } from 'node:fs';

export const UDMABUF_PARAMETERS = '/sys/module/udmabuf/parameters';

export interface UdmabufLimits {
  /** Largest dma-buf in bytes (size_limit_mb), undefined if the kernel does not show it. */
  sizeLimit: number | undefined;
  /** Most ranges in one createList (list_limit), undefined if the kernel does not show it. */
  listLimit: number | undefined;
}

function readParam(name: string, dir: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(`${dir}/${name}`, 'utf8'), 10);
    return Number.isSafeInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The limits the running kernel enforces, from /sys/module/udmabuf/parameters. */
export function udmabufLimits(dir = UDMABUF_PARAMETERS): UdmabufLimits {
  const mb = readParam('size_limit_mb', dir);
  return {
    sizeLimit: mb === undefined ? undefined : mb * 1024 * 1024,
    listLimit: readParam('list_limit', dir),
  };
}
