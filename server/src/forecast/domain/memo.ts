/**
 * A bounded memo per owner object — a community's calendar, weather or location — for values every
 * series of the community asks for again (the same target times, the same weather). Keys are
 * numbers; past `limit` entries per owner the memo starts afresh.
 */
export function sharedMemo<Owner extends object, Value>(limit: number): (owner: Owner, key: number, compute: () => Value) => Value {
  const memos = new WeakMap<Owner, Map<number, Value>>();
  // Calls come in long runs for one owner: skip the WeakMap then.
  let lastOwner: Owner | undefined;
  let lastMemo: Map<number, Value> | undefined;
  return (owner, key, compute) => {
    let memo = owner === lastOwner ? lastMemo! : memos.get(owner);
    if (!memo) memos.set(owner, (memo = new Map()));
    lastOwner = owner;
    lastMemo = memo;
    let value = memo.get(key);
    if (value === undefined) {
      value = compute();
      if (memo.size >= limit) memo.clear();
      memo.set(key, value);
    }
    return value;
  };
}

/** A memo key for an interval: t is a multiple of a minute, so the step (in minutes) rides in the milliseconds. */
export const intervalKey = (t: number, stepMs: number): number => t + stepMs / 60_000;
