/**
 * Bounds a Map used as an LRU cache (re-inserted on use, so insertion order is recency order) to `limit`
 * entries: once it holds more, the oldest are dropped down to `limit` less 1/64 of it, through one
 * iterator. Not one per insert with `keys().next()`: a Map keeps deleted entries at its front until it is
 * rehashed, and each such call walked over all of them (O(n) per insert); in batches it is amortised O(1).
 */
export function evictOldest<K, V>(map: Map<K, V>, limit: number): void {
  if (map.size <= limit) return;
  let excess = map.size - limit + Math.floor(limit / 64);
  for (const oldest of map.keys()) {
    if (excess-- <= 0) break;
    map.delete(oldest);
  }
}
