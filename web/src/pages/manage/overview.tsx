import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, get } from '../../api/client.js';
import { communityEnergyUrl, type CommunityEnergy } from '../../api/sharing.js';
import type { Community, Device, DeviceState, Member, MeteringPoint } from '../../api/types.js';
import { Chart, preloadCharts } from '../../components/chart.js';
import { Empty, ErrorNote, Loading, Stat } from '../../components/ui.js';
import { bucketLabels, stackedOption } from '../../lib/chart-options.js';
import { livePower, stackedBySource } from '../../lib/energy.js';
import type { Formatter } from '../../lib/format.js';
import { useApi, useTicker } from '../../lib/hooks.js';
import { useLiveReadings } from '../../lib/live.js';
import { ago, dayRange } from '../../lib/time.js';
import { managePath } from '../../routes.js';
import { ManagePage } from './manage-page.js';

preloadCharts();

export default function Overview({ params }: { params: Record<string, string> }) {
  return (
    <ManagePage communityId={params.communityId!} title="Overview">
      {(c, fmt) => (
        <>
          <LiveCommunity community={c} fmt={fmt} />
          <MembersOnline community={c} fmt={fmt} />
          <TodayEnergy community={c} fmt={fmt} />
        </>
      )}
    </ManagePage>
  );
}

function LiveCommunity({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { latest, state } = useLiveReadings(community.id, () => true);
  const now = useTicker(1000);
  const power = livePower(latest);
  // Each site's use is what it drew from the grid, less what it fed in, plus its own PV.
  const usedW = power.importW - power.exportW + power.pvW;
  return (
    <section class="card" aria-labelledby="live-heading">
      <h2 id="live-heading">Now</h2>
      {power.at === null
        ? <p class="muted" role="status">{state === 'reconnecting' ? 'Connection lost, reconnecting…' : 'Waiting for the first readings…'}</p>
        : (
          <>
            <dl class="stats" data-testid="community-live">
              <Stat label="Production (PV)" value={fmt.power(power.pvW)} />
              <Stat label="Consumption" value={fmt.power(Math.max(0, usedW))} />
              <Stat label="From the grid" value={fmt.power(power.importW)} />
              <Stat label="To the grid" value={fmt.power(power.exportW)} />
            </dl>
            <p class="muted">{power.points} sites reporting · updated {ago(power.at, now)}</p>
          </>
        )}
    </section>
  );
}

function MembersOnline({ community, fmt }: { community: Community; fmt: Formatter }) {
  const members = useApi<Member[]>(`/api/v1/communities/${community.id}/members`);
  const points = useApi<MeteringPoint[]>(`/api/v1/communities/${community.id}/metering-points`);
  const devices = useApi<Device[]>(`/api/v1/communities/${community.id}/devices`);
  const [online, setOnline] = useState<Set<string> | undefined>(undefined);
  useEffect(() => {
    if (!devices.data) return;
    const bound = devices.data.filter((d) => d.meteringPointId);
    void Promise.all(bound.map((d) => get<DeviceState>(`/api/v1/devices/${encodeURIComponent(d.id)}/state`).catch(() => undefined)))
      .then((states) => setOnline(new Set(states.filter((s) => s?.online).map((s) => s!.deviceId))));
  }, [devices.data]);
  const error = members.error ?? points.error ?? devices.error;
  if (error) return <ErrorNote error={error} />;
  if (!members.data || !points.data || !devices.data || !online) return <Loading what="members" />;
  const active = members.data.filter((m) => m.state === 'active');
  const requested = members.data.filter((m) => m.state === 'requested');
  const pointOwner = new Map(points.data.map((p) => [p.id, p.memberId]));
  const onlineMembers = new Set(devices.data.filter((d) => online.has(d.id) && d.meteringPointId).map((d) => pointOwner.get(d.meteringPointId!)));
  return (
    <section class="card" aria-labelledby="members-heading">
      <h2 id="members-heading">Members</h2>
      <dl class="stats">
        <Stat label="Members online" value={`${fmt.count(active.filter((m) => onlineMembers.has(m.id)).length)} of ${fmt.count(active.length)}`} detail="with a device heard from in the last 5 minutes" />
        <Stat label="Devices online" value={`${fmt.count(online.size)} of ${fmt.count(devices.data.length)}`} />
        <Stat label="Join requests" value={fmt.count(requested.length)} />
      </dl>
      {requested.length > 0 && <p><a href={managePath(community.id, 'members')}>Decide {requested.length} join request{requested.length > 1 ? 's' : ''}</a></p>}
    </section>
  );
}

function TodayEnergy({ community, fmt }: { community: Community; fmt: Formatter }) {
  const range = useMemo(() => dayRange(new Date(), community.timeZone), [community.timeZone]);
  const energy = useApi<CommunityEnergy>(communityEnergyUrl(community.id, range, '1h'));
  const stacked = useMemo(() => (energy.data ? stackedBySource(energy.data.series) : undefined), [energy.data]);
  const option = useMemo(() => stacked && stackedOption(stacked, bucketLabels(stacked.starts, 'hour', fmt), fmt), [stacked, fmt]);
  return (
    <section class="card" aria-labelledby="today-heading">
      <h2 id="today-heading">Today</h2>
      {energy.error instanceof ApiError && energy.error.missingRoute
        ? <Empty><p>This server does not share the community's energy yet: production, consumption and self-sufficiency appear here once it does.</p></Empty>
        : energy.error ? <ErrorNote error={energy.error} />
        : !energy.data || !option ? <Loading what="today's energy" />
        : (
          <>
            <dl class="stats" data-testid="community-today">
              <Stat label="Production" value={fmt.energy(energy.data.totals.productionWh)} />
              <Stat label="Consumption" value={fmt.energy(energy.data.totals.consumptionWh)} />
              <Stat label="Self-sufficiency" value={fmt.percent(energy.data.totals.selfSufficiency)} />
              <Stat label="Self-consumption" value={fmt.percent(energy.data.totals.selfConsumptionRate)} />
            </dl>
            <Chart option={option} summary={`Community today: ${fmt.energy(energy.data.totals.consumptionWh)} used, ${fmt.energy(energy.data.totals.productionWh)} produced`} />
          </>
        )}
    </section>
  );
}
