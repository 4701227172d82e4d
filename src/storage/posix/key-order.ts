/**
 * S3 lists keys in UTF-8 byte order, which is Unicode code point order. JavaScript's
 * `<` compares UTF-16 code units, which differs only when surrogate pairs meet
 * characters in U+E000..U+FFFF; this comparator fixes that case without allocating.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 && cb >= 0xd800) {
      ca = ca <= 0xdfff ? ca + 0x2000 : ca - 0x800;
      cb = cb <= 0xdfff ? cb + 0x2000 : cb - 0x800;
    }
    return ca - cb;
  }
  return a.length - b.length;
}
