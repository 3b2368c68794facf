// The two-domain harness's control channel: JSON messages through xenstore (@zcopy/xenstore's writeJson and
// readJson), under the domU's own data directory (/local/domain/<domU>/data/zcopy, which the guest may write).
// Shared by dom0 (test code) and the domU agent, which imports the built packages (no TS in the domU).
import { readJson, removeJson as remove, writeJson } from '../../../xenstore/dist/index.js';

export const putJson = writeJson;
export const getJson = readJson;
export const removeJson = remove;

/** Numbered children of a directory written by putJson (parts excluded), ascending. */
export async function messageIds(xs, dir) {
  const names = await xs.directory(dir).catch(() => []);
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}
