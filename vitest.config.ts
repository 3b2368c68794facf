// Three projects: 'host' runs on this machine (argument checks, TS logic, syscalls every Linux has);
// 'vm' runs inside the guest kernel booted by scripts/vm (every behaviour of the kernel interfaces we wrap);
// 'xen' (*.xen.vm.test.ts) runs in dom0 of the Xen guest.
import { defineConfig } from 'vitest/config';

const shared = {
  // Tests run the TS sources of the workspace packages (the "source" export condition); vitest resolves
  // test imports through vite's SSR resolver, which needs the condition too.
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
};

export default defineConfig({
  test: {
    projects: [
      {
        ...shared,
        test: {
          name: 'host',
          include: ['packages/*/test/**/*.test.ts'],
          exclude: ['packages/*/test/**/*.vm.test.ts', '**/node_modules/**'],
          pool: 'forks',
          poolOptions: { forks: { execArgv: ['--expose-gc'] } },
          testTimeout: 20_000,
        },
      },
      {
        ...shared,
        test: {
          name: 'vm',
          include: ['packages/*/test/**/*.vm.test.ts'],
          exclude: ['packages/*/test/**/*.xen.vm.test.ts', '**/node_modules/**'],
          pool: 'forks',
          poolOptions: { forks: { execArgv: ['--expose-gc'], singleFork: true } },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Inside dom0 of the Xen guest (scripts/vm runner, mode 'xen'); domUs are started by the tests.
        ...shared,
        test: {
          name: 'xen',
          include: ['packages/*/test/**/*.xen.vm.test.ts'],
          pool: 'forks',
          poolOptions: { forks: { execArgv: ['--expose-gc'], singleFork: true } },
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
