/**
 * Go-style duration strings for --refresh-iam-interval ("300ms", "1m", "2h45m", "1.5h"),
 * as JuiceFS documents the flag. Units: ns, us/µs, ms, s, m, h; a bare number is seconds.
 * Returns milliseconds; throws on anything else (including negative values, which make no
 * sense for an interval).
 */
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(text: string): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (s === '' || matched !== s.length) throw new Error(`invalid duration '${text}' (examples: 300ms, 1m, 2h45m)`);
  return Math.round(total);
}
