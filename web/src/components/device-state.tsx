import type { DeviceState } from '../api/types.js';
import type { Formatter } from '../lib/format.js';
import { useApi } from '../lib/hooks.js';
import { ago } from '../lib/time.js';
import { Badge } from './ui.js';

/** Online or offline, and when the device was last heard from. */
export function DeviceStateBadge({ deviceId, fmt }: { deviceId: string; fmt: Formatter }) {
  const state = useApi<DeviceState>(`/api/v1/devices/${encodeURIComponent(deviceId)}/state`);
  if (state.error) return <Badge tone="neutral">state unknown</Badge>;
  if (!state.data) return <span class="muted">…</span>;
  const s = state.data;
  return (
    <span class="device-state">
      {s.online ? <Badge tone="good">online</Badge> : <Badge tone="bad">offline</Badge>}{' '}
      <small class="muted">
        {s.lastSeenAt ? <span title={fmt.dateTime(s.lastSeenAt)}>seen {ago(s.lastSeenAt)}</span> : 'never seen'}
        {s.lastError && <> · last error: {s.lastError}</>}
      </small>
    </span>
  );
}
