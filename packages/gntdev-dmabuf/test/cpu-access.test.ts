// Host: reading and setting xen_gntdev.dmabuf_cpu_access (a file here stands for the sysfs parameter), the
// argument checks, and which hint an mmap EINVAL gets in each state. The kernel's side is in pvh-export.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuAccessHint, exportCpuAccess, setExportCpuAccess } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'zcopy-cpu-access-'));
const param = join(dir, 'dmabuf_cpu_access');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('exportCpuAccess / setExportCpuAccess', () => {
  it('no parameter: an upstream kernel, and setting it is refused (TypeError)', () => {
    expect(exportCpuAccess(join(dir, 'absent'))).toBe('unsupported');
    expect(() => setExportCpuAccess(true, join(dir, 'absent'))).toThrow(/upstream Linux/);
  });

  it('reads Y/N as the kernel prints a bool parameter, and writes 1/0', () => {
    writeFileSync(param, 'N\n');
    expect(exportCpuAccess(param)).toBe('off');
    setExportCpuAccess(true, param);
    expect(readFileSync(param, 'utf8')).toBe('1');
    writeFileSync(param, 'Y\n');
    expect(exportCpuAccess(param)).toBe('on');
    setExportCpuAccess(false, param);
    expect(readFileSync(param, 'utf8')).toBe('0');
  });

  it('wants a boolean', () => {
    expect(() => setExportCpuAccess('yes' as unknown as boolean, param)).toThrow(TypeError);
  });
});

describe('cpuAccessHint', () => {
  it('says which case an mmap EINVAL is', () => {
    expect(cpuAccessHint('unsupported')).toMatch(/no mmap or vmap in this kernel \(upstream Linux\)/);
    expect(cpuAccessHint('off')).toMatch(/CPU access to gntdev exports is off: write 1 to/);
    expect(cpuAccessHint('on')).toMatch(/must be shared and lie within the buffer/);
  });
});
