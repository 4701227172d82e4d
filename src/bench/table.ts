/** Plain-text result table for the bench: one row per cell, s3gate next to the reference. */
import type { LoadResult } from './load.js';

export interface Row {
  op: string;
  size: string;
  concurrency: number;
  s3gate: LoadResult;
  reference?: LoadResult;
  referenceName?: string;
}

const MiB = 1024 * 1024;
const opsPerSec = (r: LoadResult) => r.ops / (r.elapsedMs / 1000);
const mibPerSec = (r: LoadResult) => r.bytes / MiB / (r.elapsedMs / 1000);

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function renderTable(rows: Row[]): string {
  const header = ['op', 'size', 'conc', 's3gate ops/s', 'MiB/s', 'p50 ms', 'p99 ms', 'err', 'ref', 'ref ops/s', 'MiB/s', 'p50 ms', 'p99 ms', 's3gate/ref'];
  const lines = rows.map((r) => {
    const s = r.s3gate;
    const ref = r.reference;
    return [
      r.op, r.size, String(r.concurrency),
      fmt(opsPerSec(s)), fmt(mibPerSec(s), 1), fmt(s.p50Ms, 2), fmt(s.p99Ms, 2), String(s.errors),
      r.referenceName ?? '-',
      ref ? fmt(opsPerSec(ref)) : '-', ref ? fmt(mibPerSec(ref), 1) : '-', ref ? fmt(ref.p50Ms, 2) : '-', ref ? fmt(ref.p99Ms, 2) : '-',
      ref && opsPerSec(ref) > 0 ? `${fmt(opsPerSec(s) / opsPerSec(ref), 2)}x` : '-',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const left = new Set([0, 1, 8]);
  const row = (cells: string[]) => cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [row(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(row)].join('\n');
}
