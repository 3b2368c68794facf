import { readSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ClosedError, liveMappings, Mapping, Memfd } from '../src/index.js';

describe('Mapping', () => {
  it('maps a memfd shared: writes through the mapping are the file contents', () => {
    using m = Memfd.create('map', { size: 8192 });
    using map = m.map();
    expect(map.length).toBe(8192);
    map.buffer.write('zero-copy', 4096);
    const b = Buffer.alloc(9);
    readSync(m.fd, b, 0, 9, 4096);
    expect(b.toString()).toBe('zero-copy');
  });

  it('unmap detaches every view and is idempotent', () => {
    using m = Memfd.create('map', { size: 4096 });
    const before = liveMappings();
    const map = m.map();
    const view = map.buffer;
    view[0] = 1;
    expect(liveMappings()).toBe(before + 1);
    map.unmap();
    map.unmap();
    expect(view.length).toBe(0);
    expect(view[0]).toBeUndefined();
    expect(map.mapped).toBe(false);
    expect(() => map.buffer).toThrow(ClosedError);
    expect(liveMappings()).toBe(before);
  });

  it('read-only mappings and argument checks', () => {
    using m = Memfd.create('ro', { size: 4096 });
    using ro = m.map({ access: 'read' });
    expect(ro.access).toBe('read');
    expect(() => Mapping.map(m, 0)).toThrow(RangeError);
    expect(() => Mapping.map(m, 4096, { offset: 100 })).toThrow(RangeError);
    expect(() => Mapping.map(m, 4096, { access: 'rwx' as 'read' })).toThrow(TypeError);
  });

  it('mmap errors are KernelErrors', () => {
    using m = Memfd.create('small', { size: 4096, seals: ['write'] });
    expect(() => m.map()).toThrow(expect.objectContaining({ code: 'EPERM', syscall: 'mmap' }));
  });
});
