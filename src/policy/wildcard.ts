/**
 * IAM wildcards: `*` matches any run of characters (also across `/`), `?` exactly one.
 * Patterns compile once into an array of UTF-16 code units with two negative markers, and
 * a small backtracking matcher walks it; that costs no RegExp construction when a pattern
 * is assembled at request time from policy variables (see variables.ts).
 */
export const STAR = -1;
export const ONE = -2;

export type PatternCodes = readonly number[];

/** Appends the code units of a literal string (no wildcard meaning). */
export function pushLiteral(out: number[], text: string): void {
  for (let i = 0; i < text.length; i++) out.push(text.charCodeAt(i));
}

/** Appends text where `*` and `?` are wildcards. */
export function pushWildcardText(out: number[], text: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out.push(c === 42 ? STAR : c === 63 ? ONE : c);
  }
}

function isSurrogatePair(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
}

/** True when `text` matches the whole pattern. */
export function matchCodes(p: PatternCodes, text: string): boolean {
  const m = p.length;
  const n = text.length;
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < n) {
    if (pi < m) {
      const c = p[pi];
      if (c === STAR) { starP = pi++; starS = si; continue; }
      if (c === ONE) { si += isSurrogatePair(text, si) ? 2 : 1; pi++; continue; }
      if (c === text.charCodeAt(si)) { pi++; si++; continue; }
    }
    if (starP >= 0) { pi = starP + 1; si = ++starS; continue; }
    return false;
  }
  while (pi < m && p[pi] === STAR) pi++;
  return pi === m;
}

export function hasWildcard(text: string): boolean {
  return text.includes('*') || text.includes('?');
}

export type StringMatcher = (text: string) => boolean;

/**
 * Compiles a wildcard pattern into a matcher, with fast paths for the common shapes
 * (`*`, exact, `prefix*`). `ignoreCase` lower-cases the pattern; the caller passes
 * lower-cased text.
 */
export function compileWildcard(pattern: string, ignoreCase = false): StringMatcher {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  if (p === '*') return () => true;
  if (!hasWildcard(p)) return (t) => t === p;
  const firstWild = Math.min(...['*', '?'].map((c) => { const i = p.indexOf(c); return i < 0 ? Infinity : i; }));
  if (firstWild === p.length - 1 && p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return (t) => t.startsWith(prefix);
  }
  const codes: number[] = [];
  pushWildcardText(codes, p);
  return (t) => matchCodes(codes, t);
}
