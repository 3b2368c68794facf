// Host: parsing a kernel .config.
import { describe, expect, it } from 'vitest';
import { configFrom, parseKernelConfig } from '../src/kconfig.js';

describe('kernel config', () => {
  const text = [
    '#',
    '# Automatically generated file; DO NOT EDIT.',
    'CONFIG_UDMABUF=y',
    'CONFIG_XEN_GNTDEV=m',
    '# CONFIG_SW_SYNC is not set',
    'CONFIG_CMA_SIZE_MBYTES=32',
    'CONFIG_LOCALVERSION=""',
    '',
  ].join('\n');

  it('parses set, module and not-set lines', () => {
    const m = parseKernelConfig(text);
    expect(m.get('CONFIG_UDMABUF')).toBe('y');
    expect(m.get('CONFIG_XEN_GNTDEV')).toBe('m');
    expect(m.get('CONFIG_SW_SYNC')).toBe('n');
    expect(m.get('CONFIG_CMA_SIZE_MBYTES')).toBe('32');
    expect(m.size).toBe(5);
  });

  it('states: values count as set; an option the file does not mention is off', () => {
    const c = configFrom('/proc/config.gz', parseKernelConfig(text));
    expect(c.state('CONFIG_UDMABUF')).toBe('y');
    expect(c.state('CONFIG_XEN_GNTDEV')).toBe('m');
    expect(c.state('CONFIG_SW_SYNC')).toBe('n');
    expect(c.state('CONFIG_CMA_SIZE_MBYTES')).toBe('y');
    expect(c.state('CONFIG_NEVER_HEARD_OF')).toBe('n');
    expect(configFrom(null, null).state('CONFIG_UDMABUF')).toBe('unknown');
  });
});
