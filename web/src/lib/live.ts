import { useEffect, useRef, useState } from 'preact/hooks';
import type { LiveReading } from '../api/types.js';
import { mergeLive } from './energy.js';

export type StreamState = 'connecting' | 'open' | 'reconnecting';

/**
 * The community's live stream (server-sent events, with the session cookie), reduced to the
 * newest reading per metering point. `accept` picks the points a page shows: the server
 * already limits a member to their own; a manager looking at one member narrows it here.
 */
export function useLiveReadings(communityId: string | undefined, accept: (reading: LiveReading) => boolean) {
  const [latest, setLatest] = useState<ReadonlyMap<string, LiveReading>>(new Map());
  const [state, setState] = useState<StreamState>('connecting');
  const filter = useRef(accept);
  filter.current = accept;
  useEffect(() => {
    if (!communityId) return;
    const source = new EventSource(`/api/v1/communities/${communityId}/live`, { withCredentials: true });
    source.onopen = () => setState('open');
    source.onerror = () => setState('reconnecting');
    source.addEventListener('reading', (event) => {
      const reading = JSON.parse((event as MessageEvent<string>).data) as LiveReading;
      if (filter.current(reading)) setLatest((current) => mergeLive(current, reading));
    });
    return () => source.close();
  }, [communityId]);
  return { latest, state };
}
