import { describe, expect, it } from 'vitest';
import { parseFdinfo, toDmaBufInfo } from '../src/fdinfo.js';

// The shape fs/proc/fd.c and dma_buf_show_fdinfo print.
const sample =
  'pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1234\nsize:\t8192\ncount:\t2\nexp_name:\tsystem\nname:\tcam: frame\t0\n';

describe('fdinfo', () => {
  it('reads the dma-buf lines, keeping colons and tabs inside the name', () => {
    expect(toDmaBufInfo(parseFdinfo(sample))).toEqual({
      size: 8192,
      count: 2,
      exporter: 'system',
      name: 'cam: frame\t0',
      inode: 1234,
      flags: 0o2000002,
    });
  });

  it('an unnamed buffer has name undefined', () => {
    expect(toDmaBufInfo(parseFdinfo(sample.replace(/name:.*\n$/, ''))).name).toBeUndefined();
  });

  it('refuses fdinfo without exp_name (not a dma-buf) or with a broken number', () => {
    expect(() => toDmaBufInfo(parseFdinfo('pos:\t0\nflags:\t02\nino:\t5\n'))).toThrow(TypeError);
    expect(() => toDmaBufInfo(parseFdinfo(sample.replace('size:\t8192', 'size:\tx')))).toThrow(/size/);
    expect(() => toDmaBufInfo(parseFdinfo(sample.replace('size:\t8192', 'size:\tx')))).toThrow(
      expect.objectContaining({ name: 'ZcopyError', code: 'ERR_ZCOPY_FDINFO' }),
    );
  });
});
