/**
 * The order both sides of a reconciliation are read in, so one merge pass matches them: by merchant order
 * number, then refund number (a pay, with none, before its refunds), then the statement's line. Strings
 * compare by Unicode code point, which is UTF-8 byte order: what SQLite's BINARY collation and MongoDB's
 * simple collation sort by, so a store's index order and this comparison always agree (JavaScript's `<`
 * compares UTF-16 code units and would not, for characters above U+FFFF).
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only where a surrogate meets a unit above it does code-unit order differ from code-point order.
    const surrogateX = x >= 0xd800 && x <= 0xdfff;
    const surrogateY = y >= 0xd800 && y <= 0xdfff;
    if (surrogateX !== surrogateY) return surrogateX ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** The refund part of the key: empty for a pay or payout (first), the refund number otherwise. */
export function refundKeyOf(refundNo: string | null): string {
  return refundNo ?? '';
}

export interface MatchKeyed {
  readonly merchantOrderNo: string;
  readonly refundNo: string | null;
}

export function compareMatchKeys(a: MatchKeyed, b: MatchKeyed): number {
  return (
    compareCodePoints(a.merchantOrderNo, b.merchantOrderNo) ||
    compareCodePoints(refundKeyOf(a.refundNo), refundKeyOf(b.refundNo))
  );
}
