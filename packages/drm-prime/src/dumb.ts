// Dumb buffers: CPU-drawable scanout buffers any KMS driver (and vgem) can allocate. Created on the card node
// (MODE_CREATE_DUMB is not render-allowed), mapped through the device fd at the fake offset MODE_MAP_DUMB gives.
import { type MapAccess, Mapping } from '@zcopy/core';
import { registerHints } from '@zcopy/core/internal';
import { GemHandle, type HandleTable } from './handles.js';
import { binding } from './native.js';
import type { DrmOwner } from './owner.js';

const notRender =
  'dumb buffers are not render-allowed: open the card node (/dev/dri/card*), not a render node';
registerHints('DRM_IOCTL_MODE_CREATE_DUMB', {
  EINVAL:
    'width, height and bpp must be non-zero and height × pitch must fit in 32 bits (virtio_gpu makes only 32 bpp buffers)',
  EACCES: notRender,
  ENOSYS: 'this driver has no dumb buffers',
  ENOMEM: 'the driver has no memory for a buffer of this size',
});
registerHints('DRM_IOCTL_MODE_MAP_DUMB', {
  ENOENT: 'this device fd has no GEM object with this handle',
  EINVAL: 'imported buffers cannot be mapped through the importing device: map the dma-buf instead',
  EACCES: notRender,
  ENOSYS: 'this driver has no dumb buffers',
});

export interface DumbBufferOptions {
  /** Pixels per row. */
  width: number;
  /** Rows. */
  height: number;
  /** Bits per pixel (32 for XRGB8888; virtio_gpu accepts only 32). */
  bpp: number;
}

const U32_MAX = 0xffff_ffff;

function u32(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new TypeError(`${what} must be an integer, got ${String(value)}`);
  if (value < 0 || value > U32_MAX) throw new RangeError(`${what} must be a u32 (0 … 2^32-1), got ${value}`);
  return value;
}

/**
 * Checks the JS types; zero and sizes past 32 bits are the kernel's to refuse (EINVAL), as its rule is also
 * what the error says.
 */
export function checkDumbOptions(options: DumbBufferOptions): DumbBufferOptions {
  if (options === null || typeof options !== 'object')
    throw new TypeError('options must be an object with width, height and bpp');
  return {
    width: u32(options.width, 'width'),
    height: u32(options.height, 'height'),
    bpp: u32(options.bpp, 'bpp'),
  };
}

export interface DumbMapOptions {
  /** 'readwrite' (default) or 'read'. */
  access?: MapAccess;
}

/** A dumb buffer: one reference to its GEM handle, with its geometry and CPU mappings. */
export class DumbBuffer extends GemHandle {
  readonly width: number;
  readonly height: number;
  readonly bpp: number;
  /** Bytes per row, as the driver laid it out. */
  readonly pitch: number;
  /** Bytes, page-aligned by the driver. */
  readonly size: number;
  readonly #mappings = new Set<Mapping>();

  /** @internal */
  constructor(
    device: DrmOwner,
    table: HandleTable,
    raw: { handle: number; pitch: number; size: number },
    geometry: DumbBufferOptions,
  ) {
    super(device, table, raw.handle);
    this.width = geometry.width;
    this.height = geometry.height;
    this.bpp = geometry.bpp;
    this.pitch = raw.pitch;
    this.size = raw.size;
  }

  /**
   * MODE_MAP_DUMB + mmap of the device fd (MAP_SHARED): the buffer's pages, no copy. The mapping is this
   * object's: close() unmaps it (the kernel keeps the pages while a mapping exists, even after the handle closes).
   */
  map(options: DumbMapOptions = {}): Mapping {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const fd = this.device.fd;
    const offset = binding.mapDumb(fd, this.handle);
    const mapping: Mapping = Mapping.map(
      fd,
      this.size,
      { access: options.access ?? 'readwrite', offset },
      () => this.#mappings.delete(mapping),
    );
    this.#mappings.add(mapping);
    return mapping;
  }

  /** This object's live mappings. */
  get mappings(): readonly Mapping[] {
    return [...this.#mappings];
  }

  /** Same as close(): drops this reference (MODE_DESTROY_DUMB is GEM_CLOSE for every driver in Linux 6.1). */
  destroy(): void {
    this.close();
  }

  protected override onClose(): void {
    for (const m of [...this.#mappings]) m.unmap();
  }
}

/** MODE_CREATE_DUMB (flags 0). */
export function createDumb(device: DrmOwner, table: HandleTable, options: DumbBufferOptions): DumbBuffer {
  const geometry = checkDumbOptions(options);
  const fd = device.fd;
  const raw = binding.createDumb(fd, geometry.width, geometry.height, geometry.bpp);
  return new DumbBuffer(device, table, raw, geometry);
}
