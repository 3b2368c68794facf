#!/usr/bin/env node
// Makes the README's benchmark table from the benches' JSON results (docs/bench/*.json, written by each
// packages/*/bench/run.mjs): no figure in that table is copied by hand.
//   node scripts/bench/readme-table.mjs [--check]
// Replaces what lies between the markers <!-- bench-table:start --> and <!-- bench-table:end --> in README.md;
// --check exits 1 if the README is not what the JSON files make.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeCalls, describeCpu } from './harness.mjs';

const root = resolve(import.meta.dirname, '..', '..');
const dir = join(root, 'docs', 'bench');
const readme = join(root, 'README.md');
const start = '<!-- bench-table:start -->';
const end = '<!-- bench-table:end -->';

// Below 100, three significant digits: a 2,025-page grant operation under TCG makes a few per second.
const num = (x) =>
  x === undefined || Number.isNaN(x)
    ? '-'
    : Math.abs(x) < 100
      ? Number(x.toPrecision(3)).toString()
      : Math.round(x).toLocaleString('en-US');

function value(r, x) {
  return r.unit === 'ns' ? `${num(x)} ns` : `${num(x)}/s`;
}

function ratio(r) {
  let text = Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '-';
  // The ratio of medians, and the range of the rounds' own ratios (alternatingOps).
  if (r.spread) text += ` (rounds ${r.spread[0].toFixed(2)}-${r.spread[1].toFixed(2)})`;
  if (r.cpu) text += ` (CPU time: ${r.cpu.ratio.toFixed(2)}, +${r.cpu.overheadUs.toFixed(1)} µs/op)`;
  // CPU time per operation, user and system apart (cpuPerOp): user is JS, V8 and the addon; system the kernel's.
  if (r.cpuSplit?.zcopy && r.cpuSplit?.c)
    text += `; CPU/op user + sys: zcopy ${describeCpu(r.cpuSplit.zcopy)}, C ${describeCpu(r.cpuSplit.c)}`;
  // A bench's own remark on the row (e.g. grant-table's async rows: zcopy's and Node's async/sync ratios).
  if (r.note) text += `; ${r.note}`;
  // Against Node's own path for the same thing: its latency (ns rows), or its ops/s (`nodeWhat` names it).
  if (r.ratioToNode !== undefined)
    text +=
      r.unit === 'ns'
        ? `; ${r.ratioToNode.toFixed(2)}× Node's net.Socket (${num(r.node)} ns)`
        : `; ${r.ratioToNode.toFixed(2)}× the ops/s of ${r.nodeWhat} (${num(r.node)}/s)`;
  return text;
}

export function makeTable() {
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];
  const lines = [
    '| bench | where | case | zcopy | C | zcopy/C | syscalls/op zcopy | syscalls/op C |',
    '| --- | --- | --- | ---: | ---: | --- | --- | --- |',
  ];
  const runs = [];
  for (const f of files) {
    const res = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    runs.push(`\`docs/bench/${f}\`: ${res.date?.slice(0, 16).replace('T', ' ')} UTC, kernel ${res.kernel}`);
    for (const r of res.rows)
      lines.push(
        `| ${res.bench} | ${res.where} | ${r.case} | ${value(r, r.zcopy)} | ${value(r, r.c)} | ${ratio(r)} | ` +
          `${describeCalls(r.syscalls?.zcopy)} | ${describeCalls(r.syscalls?.c)} |`,
      );
  }
  return `${lines.join('\n')}\n\nFrom: ${runs.join('; ')}.`;
}

const text = readFileSync(readme, 'utf8');
const a = text.indexOf(start);
const b = text.indexOf(end);
if (a < 0 || b < a) {
  console.error(`readme-table: README.md has no ${start} … ${end} markers`);
  process.exit(1);
}
const next = `${text.slice(0, a + start.length)}\n${makeTable()}\n${text.slice(b)}`;
if (process.argv.includes('--check')) {
  if (next !== text) {
    console.error(
      'readme-table: README.md is not what docs/bench/*.json make: run node scripts/bench/readme-table.mjs',
    );
    process.exit(1);
  }
} else writeFileSync(readme, next);
