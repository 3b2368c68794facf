// KMS properties: an object's (id, value) pairs by name, each property's metadata (kind, range, enum names),
// and property blobs (read, create, destroy).
import { ZcopyError } from '@zcopy/core';
import { registerHints } from '@zcopy/core/internal';
import { binding, type RawProperty } from './native.js';
import { KmsObject, type KmsObjectOwner } from './owned.js';

registerHints('DRM_IOCTL_MODE_OBJ_GETPROPERTIES', {
  ENOENT: 'no KMS object with this id and type on this device',
  EINVAL: 'this object has no properties (or the object type is wrong)',
  EOPNOTSUPP: 'this driver has no modesetting (not a KMS device)',
});
registerHints('DRM_IOCTL_MODE_GETPROPERTY', { ENOENT: 'no property with this id on this device' });
registerHints('DRM_IOCTL_MODE_GETPROPBLOB', {
  ENOENT: 'no property blob with this id (destroyed, or never made)',
});
registerHints('DRM_IOCTL_MODE_CREATEPROPBLOB', {
  EINVAL: 'a blob must hold 1 byte at least',
  E2BIG: 'the blob is larger than the kernel allows',
});
registerHints('DRM_IOCTL_MODE_DESTROYPROPBLOB', {
  ENOENT: 'no blob with this id',
  EPERM: 'blobs can only be destroyed through the fd that created them',
});

export type PropertyKind = 'range' | 'signed-range' | 'enum' | 'bitmask' | 'blob' | 'object';

/** A property's metadata (the same for every object that has it). */
export interface PropertyInfo {
  id: number;
  name: string;
  kind: PropertyKind;
  /** Read-only (set by the driver). */
  immutable: boolean;
  /** Visible only to atomic clients. */
  atomic: boolean;
  /** range / signed-range: the bounds. */
  range?: { min: bigint; max: bigint };
  /** enum / bitmask: the names and values (for bitmask, the bit numbers). */
  enums?: { name: string; value: bigint }[];
}

/** A property of one object, with its current value. */
export interface PropertyValue extends PropertyInfo {
  /** u64 from the kernel; sign-extended for signed-range properties. */
  value: bigint;
  /** enum: the name of the current value. */
  enumName?: string;
}

const F = binding.propFlags;

function kindOf(flags: number): PropertyKind {
  if (flags & F.RANGE) return 'range';
  if (flags & F.ENUM) return 'enum';
  if (flags & F.BLOB) return 'blob';
  if (flags & F.BITMASK) return 'bitmask';
  const ext = flags & F.EXTENDED_TYPE;
  if (ext === F.OBJECT) return 'object';
  if (ext === F.SIGNED_RANGE) return 'signed-range';
  throw new ZcopyError('ERR_ZCOPY_UNSUPPORTED', `unknown KMS property type (flags 0x${flags.toString(16)})`);
}

export function decodeProperty(raw: RawProperty): PropertyInfo {
  const kind = kindOf(raw.flags);
  const info: PropertyInfo = {
    id: raw.id,
    name: raw.name,
    kind,
    immutable: (raw.flags & F.IMMUTABLE) !== 0,
    atomic: (raw.flags & F.ATOMIC) !== 0,
  };
  if ((kind === 'range' || kind === 'signed-range') && raw.values.length >= 2) {
    const [min, max] = raw.values as [bigint, bigint];
    info.range =
      kind === 'signed-range' ? { min: BigInt.asIntN(64, min), max: BigInt.asIntN(64, max) } : { min, max };
  }
  if (kind === 'enum' || kind === 'bitmask')
    info.enums = raw.enums.map((e) => ({ name: e.name, value: e.value }));
  return info;
}

/** Property metadata of one device, read once per property id (it never changes while the device exists). */
export class PropertyCache {
  readonly #info = new Map<number, PropertyInfo>();
  readonly #idsByObject = new Map<number, Map<string, number>>();

  info(fd: number, propId: number): PropertyInfo {
    let info = this.#info.get(propId);
    if (!info) {
      info = decodeProperty(binding.getProperty(fd, propId));
      this.#info.set(propId, info);
    }
    return info;
  }

  /** Every property of an object with its current value, by name. */
  read(fd: number, objId: number, objType: number): Map<string, PropertyValue> {
    const { ids, values } = binding.objGetProperties(fd, objId, objType);
    const out = new Map<string, PropertyValue>();
    const names = new Map<string, number>();
    ids.forEach((id, i) => {
      const info = this.info(fd, id);
      const raw = values[i]!;
      const value = info.kind === 'signed-range' ? BigInt.asIntN(64, raw) : raw;
      const v: PropertyValue = { ...info, value };
      if (info.kind === 'enum') v.enumName = info.enums?.find((e) => e.value === raw)?.name;
      out.set(info.name, v);
      names.set(info.name, id);
    });
    this.#idsByObject.set(objId, names);
    return out;
  }

  /** The id of an object's property by name (read once per object); undefined when it has none by that name. */
  idOf(fd: number, objId: number, objType: number, name: string): number | undefined {
    let names = this.#idsByObject.get(objId);
    if (!names) {
      this.read(fd, objId, objType);
      names = this.#idsByObject.get(objId)!;
    }
    return names.get(name);
  }

  /** The names an object has (after idOf/read), for error messages. */
  namesOf(objId: number): string[] {
    return [...(this.#idsByObject.get(objId)?.keys() ?? [])];
  }
}

/** A property blob this device created (CREATEPROPBLOB); close() destroys it (DESTROYPROPBLOB). */
export class PropertyBlob extends KmsObject {
  /** @internal */
  constructor(owner: KmsObjectOwner, id: number) {
    super(owner, id, (fd, blobId) => binding.destroyPropBlob(fd, blobId));
  }
}
