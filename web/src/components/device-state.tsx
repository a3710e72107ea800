import { useMemo } from 'preact/hooks';
import type { DeviceState } from '@gridshare/contract/ingest';
import type { Formatter } from '../lib/format.js';
import { useApi } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';
import { Badge } from './ui.js';

const REFRESH_MS = 30_000;

/**
 * The states of the community's devices the caller may see (managers: all, members: their own),
 * in one request and again every 30 s, by device id.
 */
export function useDeviceStates(communityId: string | undefined) {
  const states = useApi('deviceStates', communityId ? { params: { id: communityId } } : null, { refreshMs: REFRESH_MS });
  const byId = useMemo(() => new Map(states.data?.map((s) => [s.deviceId, s])), [states.data]);
  return { ...states, byId };
}

/** Online or offline, and when the device was last heard from; "…" while the states load. */
export function DeviceStateBadge({ state, failed, fmt }: { state: DeviceState | undefined; failed: boolean; fmt: Formatter }) {
  const { t } = useI18n();
  if (failed) return <Badge tone="neutral">{t('device.stateUnknown')}</Badge>;
  if (!state) return <span class="muted">…</span>;
  return (
    <span class="device-state">
      {state.online ? <Badge tone="good">{t('device.online')}</Badge> : <Badge tone="bad">{t('device.offline')}</Badge>}{' '}
      <small class="muted">
        {state.lastSeenAt ? <span title={fmt.dateTime(state.lastSeenAt)}>{t('device.seen', { ago: fmt.ago(state.lastSeenAt) })}</span> : t('device.neverSeen')}
        {state.lastError && <> · {t('device.lastError', { error: state.lastError })}</>}
      </small>
    </span>
  );
}
