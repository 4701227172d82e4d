/** Deterministic packet splitting, so parsers are fed a body cut at every kind of boundary, reproducibly. */

/** Cuts `body` into pieces of 1..max bytes whose sizes come from a seeded LCG (same seed, same cuts). */
export function splitPackets(body: Buffer, seed: number, max: number): Buffer[] {
  let x = seed;
  const out: Buffer[] = [];
  for (let off = 0; off < body.length;) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (x % max);
    out.push(body.subarray(off, off + n));
    off += n;
  }
  return out;
}
