import { useEffect, useRef, useState } from 'preact/hooks';
import type { StoredReading } from '@gridshare/contract/ingest';
import type { LiveReading } from '@gridshare/contract/live';
import { apiUrl, call } from '../api/client.js';
import { mergeLive } from './energy.js';
import type { Formatter } from './format.js';
import type { Translate } from './i18n/index.js';

export type StreamState = 'connecting' | 'open' | 'reconnecting';

/**
 * The community's live stream (server-sent events, with the session cookie), reduced to the
 * newest reading per metering point. `accept` picks the points a page shows: the server
 * already limits a member to their own; a manager looking at one member narrows it here.
 */
export function useLiveReadings(communityId: string | undefined, accept: (reading: LiveReading) => boolean, seedPointIds: readonly string[] = []) {
  const [latest, setLatest] = useState<ReadonlyMap<string, LiveReading>>(new Map());
  const [state, setState] = useState<StreamState>('connecting');
  const filter = useRef(accept);
  filter.current = accept;
  useEffect(() => {
    if (!communityId) return;
    const source = new EventSource(apiUrl('liveReadings', { params: { id: communityId } }), { withCredentials: true });
    source.onopen = () => setState('open');
    source.onerror = () => setState('reconnecting');
    source.addEventListener('reading', (event) => {
      const reading = JSON.parse((event as MessageEvent<string>).data) as LiveReading;
      if (filter.current(reading)) setLatest((current) => mergeLive(current, reading));
    });
    // The stream only carries what arrives from now on: the last few minutes' readings show the
    // power at once instead of after the device's next message.
    const controller = new AbortController();
    const to = new Date();
    const from = new Date(to.getTime() - SEED_WINDOW_MS);
    for (const pointId of seedPointIds) {
      call('meteringPointReadings', { params: { id: pointId }, query: { from: from.toISOString(), to: to.toISOString() } }, { signal: controller.signal })
        .then((rows) => {
          const seeded = seedFrom(pointId, rows);
          if (seeded) setLatest((current) => mergeLive(current, seeded));
        })
        .catch(() => undefined);
    }
    return () => {
      controller.abort();
      source.close();
    };
  }, [communityId, seedPointIds.join()]);
  return { latest, state };
}

const SEED_WINDOW_MS = 5 * 60_000;

/** The newest stored value of each quantity of a point, as one live reading (undefined without any). */
export function seedFrom(meteringPointId: string, rows: readonly StoredReading[]): LiveReading | undefined {
  const values: Record<string, number> = {};
  const at: Record<string, string> = {};
  let newest: StoredReading | undefined;
  for (const row of rows) {
    if (!(row.quantity in at) || row.ts >= at[row.quantity]!) {
      at[row.quantity] = row.ts;
      values[row.quantity] = row.value;
    }
    if (!newest || row.ts > newest.ts) newest = row;
  }
  return newest && { meteringPointId, deviceId: newest.deviceId, ts: newest.ts, values };
}

/** Older readings (a replay, a reader that went quiet) are shown with their time, not "23 h ago". */
const STALE_MS = 10 * 60_000;

/** A reading is "live" this young at most: the demo's replay of yesterday is streamed, yet not live. */
const LIVE_MS = 2 * 60_000;

/**
 * How fresh the newest reading is — "Updated 12 seconds ago", or "Latest reading from 28 Nov,
 * 13:58" — and "live" only while the stream is open and the reading young.
 */
export function freshness(at: string, now: number, state: StreamState, fmt: Formatter, t: Translate): string {
  const age = now - Date.parse(at);
  const when = age < STALE_MS ? t('live.updated', { ago: fmt.ago(at, now) }) : t('live.latestFrom', { time: fmt.dateTime(at) });
  if (state !== 'open') return `${when} · ${t('live.reconnecting')}`;
  return age < LIVE_MS ? `${when} · ${t('live.live')}` : when;
}
