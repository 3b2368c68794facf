// The two-domain harness's control channel: JSON messages through xenstore, under the domU's own data
// directory (/local/domain/<domU>/data/zcopy, which the guest may write). A message bigger than one xenstore
// value is split into parts written first (<key>-0, <key>-1, ...: xenstore names allow only letters, digits and -/_@) and announced by {"parts": n} at <key>.
// Shared by dom0 (test code) and the domU agent; it needs only a XenStore from @zcopy/xenstore.

// Bytes per value: xenstored limits a guest's values to 2048 bytes by default (quota entry-size).
const PART = 1800;

/** Writes `value` (any JSON) at `key`, in parts if it is large; the last write is `key` itself. */
export async function putJson(xs, key, value) {
  const text = JSON.stringify(value);
  if (text.length <= PART) {
    await xs.write(key, text);
    return;
  }
  const n = Math.ceil(text.length / PART);
  for (let i = 0; i < n; i++) await xs.write(`${key}-${i}`, text.slice(i * PART, (i + 1) * PART));
  await xs.write(key, JSON.stringify({ parts: n }));
}

/** Reads what putJson wrote (undefined if `key` does not exist yet). */
export async function getJson(xs, key) {
  const head = await xs.tryRead(key);
  if (head === undefined) return undefined;
  const v = JSON.parse(head);
  if (v === null || typeof v !== 'object' || !('parts' in v) || Object.keys(v).length !== 1) return v;
  let text = '';
  for (let i = 0; i < v.parts; i++) text += await xs.read(`${key}-${i}`);
  return JSON.parse(text);
}

/** Numbered children of a directory written by putJson (parts excluded), ascending. */
export async function messageIds(xs, dir) {
  const names = await xs.directory(dir).catch(() => []);
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Removes what putJson wrote at `key` (the value and its parts). */
export async function removeJson(xs, key) {
  const head = await xs.tryRead(key);
  if (head === undefined) return;
  const v = JSON.parse(head);
  if (v !== null && typeof v === 'object' && 'parts' in v && Object.keys(v).length === 1)
    for (let i = 0; i < v.parts; i++) await xs.remove(`${key}-${i}`).catch(() => {});
  await xs.remove(key).catch(() => {});
}
