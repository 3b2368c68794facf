// The scoped CPU-access logic, with a recording end() instead of the kernel.
import { describe, expect, it } from 'vitest';
import { CpuAccessScope, runScoped, syncFlags } from '../src/cpu-access.js';

function recorder(failEnd = false) {
  const ends: string[] = [];
  const scope = new CpuAccessScope('readwrite', () => {
    ends.push('end');
    if (failEnd) throw new Error('end failed');
  });
  return { scope, ends };
}

describe('runScoped', () => {
  it('ends once after fn returns, and returns its value', () => {
    const { scope, ends } = recorder();
    expect(runScoped(scope, () => 42)).toBe(42);
    expect(ends).toEqual(['end']);
    expect(scope.active).toBe(false);
    scope.end();
    expect(ends).toEqual(['end']);
  });

  it("ends when fn throws, and rethrows fn's error", () => {
    const { scope, ends } = recorder();
    const boom = new Error('boom');
    expect(() =>
      runScoped(scope, () => {
        throw boom;
      }),
    ).toThrow(boom);
    expect(ends).toEqual(['end']);
  });

  it("fn's error wins over a failing end", () => {
    const { scope, ends } = recorder(true);
    expect(() =>
      runScoped(scope, () => {
        throw new Error('fn');
      }),
    ).toThrow('fn');
    expect(ends).toEqual(['end']);
  });

  it('a failing end after a normal return is reported', () => {
    const { scope } = recorder(true);
    expect(() => runScoped(scope, () => 1)).toThrow('end failed');
  });

  it('stays open while a returned promise is pending, ends when it resolves', async () => {
    const { scope, ends } = recorder();
    let resolve!: (v: string) => void;
    const p = runScoped(
      scope,
      () =>
        new Promise<string>((r) => {
          resolve = r;
        }),
    );
    await new Promise((r) => setTimeout(r, 5));
    expect(ends).toEqual([]);
    expect(scope.active).toBe(true);
    resolve('done');
    await expect(p).resolves.toBe('done');
    expect(ends).toEqual(['end']);
  });

  it('ends when a returned promise rejects, and rejects with its reason', async () => {
    const { scope, ends } = recorder();
    const reason = new Error('async boom');
    await expect(runScoped(scope, () => Promise.reject(reason))).rejects.toBe(reason);
    expect(ends).toEqual(['end']);
  });

  it('an async fn that throws synchronously-looking errors still ends', async () => {
    const { scope, ends } = recorder(true);
    await expect(
      runScoped(scope, async () => {
        throw new Error('inside');
      }),
    ).rejects.toThrow('inside');
    expect(ends).toEqual(['end']);
  });

  it('a `using` scope ends at block exit', () => {
    const { scope, ends } = recorder();
    {
      using s = scope;
      expect(s.active).toBe(true);
    }
    expect(ends).toEqual(['end']);
  });
});

describe('syncFlags', () => {
  it('maps access and edge to the uapi bits', () => {
    // START is 0 and END is 4 in linux/dma-buf.h; READ 1, WRITE 2.
    expect(syncFlags('read', 'start')).toBe(1);
    expect(syncFlags('write', 'start')).toBe(2);
    expect(syncFlags('readwrite', 'end')).toBe(7);
    expect(() => syncFlags('toString' as 'read', 'start')).toThrow(TypeError);
  });
});
