/**
 * A value an emailed link carries in its fragment (`#token=…`, `#invitation=…`): browsers never
 * send a fragment to a server, so it reaches no log.
 */
export function fromFragment(hash: string, name: string): string | undefined {
  return new URLSearchParams(hash.replace(/^#/, '')).get(name) || undefined;
}
