// KmsDevice: a DRM card opened for atomic modesetting (universal planes, atomic, writeback connectors), owning or
// borrowing a @zcopy/drm-prime DrmDevice. Reads the pipeline, makes framebuffers and blobs, commits.
import { FdObject, type WaitOptions, ZcopyError } from '@zcopy/core';
import { onceClosed } from '@zcopy/core/internal';
import { DrmDevice, listDrmNodes } from '@zcopy/drm-prime';
import { type AtomicHost, AtomicRequest, type KmsObjectRef, objectId } from './atomic.js';
import { type FlipEvent, FlipEvents } from './events.js';
import { formatLayout, formatNumber, fourccName } from './formats.js';
import {
  addFb2,
  checkFramebufferOptions,
  DumbFramebuffer,
  Framebuffer,
  type FramebufferOptions,
  type ScanoutLimits,
} from './framebuffer.js';
import { checkMode, type DrmMode, preferredMode } from './modes.js';
import { binding } from './native.js';
import type { KmsObject, KmsObjectOwner } from './owned.js';
import { PropertyBlob, PropertyCache, type PropertyValue } from './properties.js';
import {
  type Connector,
  type Crtc,
  type Encoder,
  type KmsResources,
  type Plane,
  readConnector,
  readCrtc,
  readEncoder,
  readPlane,
  readResources,
} from './resources.js';
import {
  type CapturedFrame,
  type CaptureOptions,
  capture,
  startWriteback,
  type WritebackCapture,
  type WritebackHost,
  type WritebackOptions,
} from './writeback.js';

/** A display path: the connector, the CRTC feeding it, the CRTC's primary plane, and the mode to show. */
export interface Output {
  connector: Connector;
  crtc: Crtc;
  plane: Plane;
  mode: DrmMode;
}

export interface FlipOptions extends WaitOptions {
  /** The plane to flip (default: the CRTC's primary plane). */
  plane?: KmsObjectRef;
}

export interface SetModeOptions {
  /** The plane to show the framebuffer on (default: the CRTC's primary plane). */
  plane?: KmsObjectRef;
}

export class KmsDevice extends FdObject implements KmsObjectOwner, AtomicHost, WritebackHost {
  /** The DRM device underneath (owned by this KmsDevice when made by open/openDriver). */
  readonly drm: DrmDevice;
  readonly #ownsDrm: boolean;
  readonly #props = new PropertyCache();
  readonly #objects = new Set<KmsObject>();
  readonly #flips: FlipEvents;
  readonly #unsubscribe: () => void;
  #crtcIds: number[] | undefined;

  private constructor(drm: DrmDevice, ownsDrm: boolean) {
    super(drm.fd, { owned: false });
    this.drm = drm;
    this.#ownsDrm = ownsDrm;
    this.#flips = new FlipEvents(this);
    // The order matters: WRITEBACK_CONNECTORS is refused until ATOMIC is set.
    drm.setClientCap('UNIVERSAL_PLANES');
    drm.setClientCap('ATOMIC');
    drm.setClientCap('WRITEBACK_CONNECTORS');
    this.#unsubscribe = onceClosed(drm, () => this.close());
  }

  /** Opens a KMS card node (/dev/dri/cardN) and enables atomic modesetting on it. */
  static open(path: string): KmsDevice {
    const drm = DrmDevice.open(path);
    try {
      return new KmsDevice(drm, true);
    } catch (e) {
      drm.close();
      throw e;
    }
  }

  /** Opens the first card node driven by `driver` ('vkms', 'virtio_gpu', 'i915'…). */
  static openDriver(driver: string): KmsDevice {
    if (typeof driver !== 'string' || driver.length === 0)
      throw new TypeError('driver must be a non-empty string');
    const node = listDrmNodes().find((n) => n.type === 'primary' && n.driver?.name === driver);
    if (!node) {
      const found = listDrmNodes()
        .filter((n) => n.type === 'primary')
        .map((n) => `${n.path} (${n.driver?.name ?? n.error?.code ?? '?'})`);
      throw new ZcopyError(
        'ERR_ZCOPY_NO_DEVICE',
        `no DRM card driven by ${driver}: ${found.length ? `found ${found.join(', ')}` : 'no card nodes in /dev/dri'}` +
          (driver === 'vkms' ? ' (load it with `modprobe vkms`)' : ''),
      );
    }
    return KmsDevice.open(node.path);
  }

  /** Uses a DrmDevice someone else owns (a card node); closing this KmsDevice leaves it open. */
  static from(drm: DrmDevice): KmsDevice {
    if (!(drm instanceof DrmDevice)) throw new TypeError('drm must be a DrmDevice of @zcopy/drm-prime');
    return new KmsDevice(drm, false);
  }

  // ---- read-out -------------------------------------------------------------------------------------------

  /** Every CRTC, connector (with modes), encoder and plane, and this fd's framebuffers. */
  resources(): KmsResources {
    const r = readResources(this.fd, this.#props);
    this.#crtcIds = r.crtcs.map((c) => c.id);
    return r;
  }

  connectors(): Connector[] {
    const r = binding.getResources(this.fd);
    const encoders = r.encoders.map((id) => readEncoder(this.fd, id, r.crtcs, r.encoders));
    return r.connectors.map((id) => readConnector(this.fd, id, r.crtcs, r.encoders, encoders));
  }

  connector(ref: KmsObjectRef): Connector {
    const r = binding.getResources(this.fd);
    return readConnector(this.fd, objectId(ref, 'connector'), r.crtcs, r.encoders);
  }

  encoders(): Encoder[] {
    const r = binding.getResources(this.fd);
    return r.encoders.map((id) => readEncoder(this.fd, id, r.crtcs, r.encoders));
  }

  encoder(ref: KmsObjectRef): Encoder {
    const r = binding.getResources(this.fd);
    return readEncoder(this.fd, objectId(ref, 'encoder'), r.crtcs, r.encoders);
  }

  crtcs(): Crtc[] {
    const crtcIds = this.#crtcs();
    return crtcIds.map((id) => readCrtc(this.fd, id, crtcIds));
  }

  crtc(ref: KmsObjectRef): Crtc {
    return readCrtc(this.fd, objectId(ref, 'crtc'), this.#crtcs());
  }

  planes(): Plane[] {
    const crtcIds = this.#crtcs();
    return binding.getPlaneResources(this.fd).map((id) => readPlane(this.fd, id, crtcIds, this.#props));
  }

  plane(ref: KmsObjectRef): Plane {
    return readPlane(this.fd, objectId(ref, 'plane'), this.#crtcs(), this.#props);
  }

  /** The primary plane that can feed `crtc`. */
  primaryPlane(crtc: KmsObjectRef): Plane {
    const id = objectId(crtc, 'crtc');
    const plane = this.planes().find((p) => p.type === 'primary' && p.possibleCrtcs.includes(id));
    if (!plane) throw new ZcopyError('ERR_ZCOPY_NO_PLANE', `no primary plane can feed CRTC ${id}`);
    return plane;
  }

  /** Framebuffer ids this fd holds, ascending (GETRESOURCES lists only the caller's own). */
  framebufferIds(): number[] {
    return binding.getResources(this.fd).fbs.sort((a, b) => a - b);
  }

  /**
   * A display path to show something on: the first connected (non-writeback) connector with modes — or the one
   * given by id or name ('Virtual-1') — a CRTC that can feed it, that CRTC's primary plane, and the preferred mode.
   */
  pick(options: { connector?: KmsObjectRef | string } = {}): Output {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const want = options.connector;
    const connectors = this.connectors();
    const connector =
      want === undefined
        ? connectors.find((c) => !c.writeback && c.status === 'connected' && c.modes.length > 0)
        : connectors.find((c) =>
            typeof want === 'string' ? c.name === want : c.id === objectId(want, 'connector'),
          );
    if (!connector)
      throw new ZcopyError(
        'ERR_ZCOPY_NO_CONNECTOR',
        want === undefined
          ? `no connected display connector with modes (${connectors.map((c) => `${c.name}: ${c.status}`).join(', ')})`
          : `no connector ${String(typeof want === 'object' ? want.id : want)}`,
      );
    const mode = preferredMode(connector.modes);
    if (!mode)
      throw new ZcopyError(
        'ERR_ZCOPY_NO_MODE',
        `connector ${connector.name} offers no modes (is this fd the DRM master?)`,
      );
    const planes = this.planes();
    for (const crtcId of connector.possibleCrtcs) {
      const plane = planes.find((p) => p.type === 'primary' && p.possibleCrtcs.includes(crtcId));
      if (plane) return { connector, crtc: this.crtc(crtcId), plane, mode };
    }
    throw new ZcopyError('ERR_ZCOPY_NO_CRTC', `no CRTC with a primary plane can feed ${connector.name}`);
  }

  /** Every property of a KMS object (CRTC, connector, plane…) with its current value, by name. */
  properties(object: KmsObjectRef): Map<string, PropertyValue> {
    return this.#props.read(this.fd, objectId(object), binding.objectTypes.ANY);
  }

  /** One property's current value; RangeError when the object has no property by that name. */
  property(object: KmsObjectRef, name: string): bigint {
    const props = this.properties(object);
    const p = props.get(name);
    if (!p) throw new RangeError(noSuchProperty(objectId(object), name, [...props.keys()]));
    return p.value;
  }

  /** The bytes of a property blob (GETPROPBLOB). */
  blob(blobId: number): Buffer {
    return binding.getPropBlob(this.fd, objectId(blobId, 'blob'));
  }

  /** A MODE_ID blob (e.g. a CRTC's current one) as a mode. */
  modeOfBlob(blobId: number): DrmMode {
    return binding.getModeBlob(this.fd, objectId(blobId, 'blob'));
  }

  /** The pixel formats a writeback connector writes (its WRITEBACK_PIXEL_FORMATS blob: a u32 array). */
  writebackFormats(connector: KmsObjectRef): number[] {
    const blobId = this.property(connector, 'WRITEBACK_PIXEL_FORMATS');
    const bytes = this.blob(Number(blobId));
    const out: number[] = [];
    for (let i = 0; i + 4 <= bytes.length; i += 4) out.push(bytes.readUInt32LE(i));
    return out;
  }

  // ---- objects of this fd ---------------------------------------------------------------------------------

  /** CREATEPROPBLOB: an owned blob holding `data`. */
  createBlob(data: Uint8Array): PropertyBlob {
    if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array or Buffer');
    const u8 =
      data.constructor === Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return new PropertyBlob(this, binding.createPropBlob(this.fd, u8));
  }

  /** A MODE_ID blob holding `mode` (struct drm_mode_modeinfo, packed natively). */
  createModeBlob(mode: DrmMode): PropertyBlob {
    checkMode(mode);
    return new PropertyBlob(this, binding.createModeBlob(this.fd, mode));
  }

  /**
   * ADDFB2: a framebuffer over a GEM handle of this fd (a DumbBuffer gives its width, height and pitch).
   * Wrong JS arguments: TypeError/RangeError; the kernel's rules: KernelError EINVAL naming the rule broken.
   */
  addFramebuffer(options: FramebufferOptions): Framebuffer {
    const fb = checkFramebufferOptions(options, this.fd);
    const id = addFb2(this.fd, fb, () => this.#scanoutLimits());
    return new Framebuffer(this, id, fb);
  }

  /** A new dumb buffer of the format's size and a framebuffer over it (single-plane formats). */
  createFramebuffer(options: { width: number; height: number; format?: number | string }): DumbFramebuffer {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const format = formatNumber(options.format ?? 'XRGB8888');
    const layout = formatLayout(format);
    if (!layout || layout.cpp.length !== 1)
      throw new RangeError(
        `createFramebuffer makes single-plane buffers of known formats, not ${fourccName(format)}`,
      );
    const buffer = this.drm.createDumb({
      width: options.width,
      height: options.height,
      bpp: layout.cpp[0]! * 8,
    });
    try {
      const fb = checkFramebufferOptions({ buffer, format }, this.fd);
      const id = addFb2(this.fd, fb, () => this.#scanoutLimits());
      return new DumbFramebuffer(this, id, fb, buffer);
    } catch (e) {
      buffer.close();
      throw e;
    }
  }

  /** Framebuffers, blobs… this device made and has not closed. */
  get liveObjects(): number {
    return this.#objects.size;
  }

  // ---- commits --------------------------------------------------------------------------------------------

  /** A new atomic request: `kms.atomic().set(plane, 'FB_ID', fb)….commit({ … })`. */
  atomic(): AtomicRequest {
    return new AtomicRequest(this);
  }

  /**
   * A modeset: `connector` fed by `crtc` in `mode`, showing `framebuffer` on the CRTC's primary plane (source:
   * the framebuffer's top-left mode-sized rectangle). Runs off the event loop; resolves once it is on screen.
   */
  async setMode(
    crtc: KmsObjectRef,
    connector: KmsObjectRef,
    mode: DrmMode,
    framebuffer: KmsObjectRef,
    options: SetModeOptions = {},
  ): Promise<void> {
    const crtcId = objectId(crtc, 'crtc');
    const connectorId = objectId(connector, 'connector');
    checkMode(mode);
    objectId(framebuffer, 'framebuffer');
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const planeId =
      options.plane !== undefined ? objectId(options.plane, 'plane') : this.primaryPlane(crtcId).id;
    using blob = this.createModeBlob(mode);
    const req = this.atomic()
      .set(connectorId, 'CRTC_ID', crtcId)
      .set(crtcId, 'MODE_ID', blob)
      .set(crtcId, 'ACTIVE', 1);
    setPlane(req, planeId, crtcId, framebuffer, mode.hdisplay, mode.vdisplay);
    // The CRTC state holds its own reference to the mode blob: ours can go once the commit is in.
    await req.commit({ allowModeset: true });
  }

  /** Turns a CRTC off (its planes and connectors detached). */
  async disable(crtc: KmsObjectRef): Promise<void> {
    const crtcId = objectId(crtc, 'crtc');
    const req = this.atomic().set(crtcId, 'ACTIVE', 0).set(crtcId, 'MODE_ID', 0);
    for (const p of this.planes()) if (p.crtcId === crtcId) req.set(p.id, 'FB_ID', 0).set(p.id, 'CRTC_ID', 0);
    for (const c of this.connectors())
      if (this.property(c.id, 'CRTC_ID') === BigInt(crtcId)) req.set(c.id, 'CRTC_ID', 0);
    await req.commit({ allowModeset: true });
  }

  /**
   * A page flip: `framebuffer` on the CRTC's primary plane (or `options.plane`) at the next vblank, committed
   * nonblocking with a page-flip event. Resolves with the event; a second flip on the same CRTC before that is
   * EBUSY. The framebuffer must have the size of the current one.
   */
  async flip(crtc: KmsObjectRef, framebuffer: KmsObjectRef, options: FlipOptions = {}): Promise<FlipEvent> {
    const crtcId = objectId(crtc, 'crtc');
    const fbId = objectId(framebuffer, 'framebuffer');
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const planeId =
      options.plane !== undefined ? objectId(options.plane, 'plane') : this.#primaryPlaneId(crtcId);
    const { events } = await this.atomic()
      .set(planeId, 'FB_ID', fbId)
      .set(planeId, 'CRTC_ID', crtcId)
      .commit({ nonblock: true, pageFlipEvent: true, timeoutMs: options.timeoutMs, signal: options.signal });
    return events.find((e) => e.crtcId === crtcId) ?? events[0]!;
  }

  /**
   * Starts a writeback of what `crtc` composes into `framebuffer` (the mode's size, a format of the writeback
   * connector): resolves once committed; `capture.done` resolves when the pixels are written.
   */
  writeback(
    crtc: KmsObjectRef,
    framebuffer: KmsObjectRef,
    options?: WritebackOptions,
  ): Promise<WritebackCapture> {
    return startWriteback(this, crtc, framebuffer, options);
  }

  /** Captures one frame of `crtc` by writeback into a new buffer: its pixels, rows `pitch` bytes apart. */
  capture(crtc: KmsObjectRef, options?: CaptureOptions): Promise<CapturedFrame> {
    return capture(this, crtc, options);
  }

  /** DRM_IOCTL_SET_MASTER: become the fd that may commit (root, with no other master). */
  setMaster(): void {
    binding.setMaster(this.fd);
  }

  /** DRM_IOCTL_DROP_MASTER: let another fd become master. */
  dropMaster(): void {
    binding.dropMaster(this.fd);
  }

  /** Commits waiting for their page-flip events. */
  get pendingFlips(): number {
    return this.#flips.pending;
  }

  // ---- internals ------------------------------------------------------------------------------------------

  /** @internal */
  track(obj: KmsObject): void {
    this.#objects.add(obj);
  }

  /** @internal */
  untrack(obj: KmsObject): void {
    this.#objects.delete(obj);
  }

  /** @internal */
  propertyId(objId: number, name: string): number {
    const id = this.#props.idOf(this.fd, objId, binding.objectTypes.ANY, name);
    if (id === undefined) throw new RangeError(noSuchProperty(objId, name, this.#props.namesOf(objId)));
    return id;
  }

  /** @internal The CRTCs whose flip events a commit waits for: CRTCs in it, and those its planes/connectors use. */
  crtcsOf(request: AtomicRequest): Set<number> {
    const crtcIds = this.#crtcs();
    const out = new Set<number>();
    for (const objId of request.objectIds) {
      if (crtcIds.includes(objId)) {
        out.add(objId);
        continue;
      }
      const set = request.valueOf(objId, 'CRTC_ID');
      const now = set ?? this.properties(objId).get('CRTC_ID')?.value;
      if (now !== undefined && now !== 0n) out.add(Number(now));
    }
    return out;
  }

  /** @internal The DrmDevice owns the fd: a blocking commit pins it (its close waits for the commit). */
  get fdOwner(): FdObject {
    this.fd; // ClosedError once this device is closed
    return this.drm;
  }

  /** @internal */
  nextUserData(): number {
    return this.#flips.nextUserData();
  }

  /** @internal */
  expectFlip(userData: number, crtcs: Set<number>, options: WaitOptions): Promise<FlipEvent[]> {
    return this.#flips.expect(userData, crtcs, options);
  }

  #crtcs(): number[] {
    this.#crtcIds ??= binding.getResources(this.fd).crtcs;
    return this.#crtcIds;
  }

  #primaryPlaneId(crtcId: number): number {
    return this.primaryPlane(crtcId).id;
  }

  #scanoutLimits(): ScanoutLimits {
    const formats = new Set<number>();
    for (const p of this.planes()) for (const f of p.formats) formats.add(f);
    const r = binding.getResources(this.fd);
    return {
      formats,
      minWidth: r.minWidth,
      maxWidth: r.maxWidth,
      minHeight: r.minHeight,
      maxHeight: r.maxHeight,
    };
  }

  protected override onClose(): void {
    this.#unsubscribe();
    // Commits waiting for flip events were settled with ClosedError before this runs (this device owns them).
    // An owned fd closes next, which frees every framebuffer and blob in the kernel; a borrowed one stays open,
    // so this device's objects are released through it.
    const fd = this.#ownsDrm || this.drm.closed ? undefined : this.drm.fd;
    for (const obj of [...this.#objects]) obj.invalidate(fd);
    this.#objects.clear();
    if (this.#ownsDrm) this.drm.close();
  }
}

/** Sets a plane to show `fb` on `crtc`, full-frame at width × height (16.16 fixed-point source). */
export function setPlane(
  req: AtomicRequest,
  planeId: number,
  crtcId: number,
  fb: KmsObjectRef,
  width: number,
  height: number,
): AtomicRequest {
  return req
    .set(planeId, 'FB_ID', fb)
    .set(planeId, 'CRTC_ID', crtcId)
    .set(planeId, 'SRC_X', 0)
    .set(planeId, 'SRC_Y', 0)
    .set(planeId, 'SRC_W', width * 65536)
    .set(planeId, 'SRC_H', height * 65536)
    .set(planeId, 'CRTC_X', 0)
    .set(planeId, 'CRTC_Y', 0)
    .set(planeId, 'CRTC_W', width)
    .set(planeId, 'CRTC_H', height);
}

function noSuchProperty(objId: number, name: string, names: string[]): string {
  return `KMS object ${objId} has no property ${JSON.stringify(name)}${names.length ? ` (it has: ${names.join(', ')})` : ''}`;
}
