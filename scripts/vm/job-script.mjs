// The outDir/job.sh that images/init runs (chrooted into the guest root, output on the console).

/** Single-quotes a string for POSIX sh. */
export const shq = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;

const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function jobScript({ command, cwd, env, setup }) {
  const cmd = Array.isArray(command) ? command.map(shq).join(' ') : command;
  const vars = {
    HOME: '/root',
    TERM: 'dumb',
    LANG: 'C.UTF-8',
    PATH: `${process.env.PATH ?? ''}:${GUEST_PATH}`,
    ...env,
  };
  return [
    '#!/bin/sh',
    '# written by scripts/vm/runner.mjs; run by images/init inside the guest',
    ...Object.entries(vars).map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`bad environment variable name: ${k}`);
      return `export ${k}=${shq(v)}`;
    }),
    'exec 2>&1',
    // Per-mode/arch bring-up (arm64: its addons; xen: xenstored & co.) must succeed, or the job does not run.
    ...[setup ?? []]
      .flat()
      .map((s) => `/bin/sh ${shq(s)} || { echo "zcopy-job: guest setup failed (${s})"; exit 125; }`),
    `cd ${shq(cwd)} || exit 126`,
    Array.isArray(command) ? `exec ${cmd}` : cmd,
    '',
  ].join('\n');
}
