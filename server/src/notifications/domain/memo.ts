/**
 * A bounded cache for values that are expensive to build and cheap to use (Intl formatters,
 * compiled messages): built on first use per key, all dropped when there are too many keys.
 */
export function memo<T>(build: (key: string) => T, limit = 1000): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let found = cache.get(key);
    if (found === undefined) {
      found = build(key);
      if (cache.size >= limit) cache.clear();
      cache.set(key, found);
    }
    return found;
  };
}
