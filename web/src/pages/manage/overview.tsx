import { useMemo } from 'preact/hooks';
import { communityEnergyUrl, type CommunityEnergy } from '../../api/sharing.js';
import type { Community, Device, IntervalIssues, Member, MeteringPoint } from '../../api/types.js';
import { preloadCharts } from '../../components/chart.js';
import { useDeviceStates } from '../../components/device-state.js';
import { isEmptyEnergy, StackedChart } from '../../components/energy.js';
import { PeriodHead, usePeriodEnergy } from '../../components/period.js';
import { Badge, Empty, ErrorNote, Loading, Stat } from '../../components/ui.js';
import { livePower } from '../../lib/energy.js';
import type { Formatter } from '../../lib/format.js';
import { useApi, useTicker } from '../../lib/hooks.js';
import { freshness, useLiveReadings } from '../../lib/live.js';
import { managePath, memberPath } from '../../routes.js';
import { ManagePage } from './manage-page.js';

preloadCharts();

export default function Overview({ params }: { params: Record<string, string> }) {
  return (
    <ManagePage communityId={params.communityId!} title="Overview">
      {(c, fmt) => (
        <>
          <LiveCommunity community={c} fmt={fmt} />
          <MembersOnline community={c} fmt={fmt} />
          <DataQuality community={c} fmt={fmt} />
          <CommunityEnergyPanel community={c} fmt={fmt} />
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
            <p class="muted">{freshness(power.at, now, fmt)} · {fmt.count(power.points)} sites reporting</p>
          </>
        )}
    </section>
  );
}

function MembersOnline({ community, fmt }: { community: Community; fmt: Formatter }) {
  const members = useApi<Member[]>(`/api/v1/communities/${community.id}/members`);
  const points = useApi<MeteringPoint[]>(`/api/v1/communities/${community.id}/metering-points`);
  const devices = useApi<Device[]>(`/api/v1/communities/${community.id}/devices`);
  const states = useDeviceStates(community.id);
  const error = members.error ?? points.error ?? devices.error ?? states.error;
  if (error) return <ErrorNote error={error} />;
  if (!members.data || !points.data || !devices.data || !states.data) return <Loading what="members" />;
  const active = members.data.filter((m) => m.state === 'active');
  const requested = members.data.filter((m) => m.state === 'requested');
  const pointOwner = new Map(points.data.map((p) => [p.id, p.memberId]));
  const online = devices.data.filter((d) => states.byId.get(d.id)?.online);
  const onlineMembers = new Set(online.flatMap((d) => (d.meteringPointId ? [pointOwner.get(d.meteringPointId)] : [])));
  return (
    <section class="card" aria-labelledby="members-heading">
      <h2 id="members-heading">Members</h2>
      <dl class="stats">
        <Stat label="Members online" value={`${fmt.count(active.filter((m) => onlineMembers.has(m.id)).length)} of ${fmt.count(active.length)}`} detail="with a device heard from in the last 5 minutes" />
        <Stat label="Devices online" value={`${fmt.count(online.length)} of ${fmt.count(devices.data.length)}`} />
        <Stat label="Join requests" value={fmt.count(requested.length)} />
      </dl>
      {requested.length > 0 && <p><a href={managePath(community.id, 'members')}>Decide {requested.length} join request{requested.length > 1 ? 's' : ''}</a></p>}
    </section>
  );
}

const SERIES_LABELS: Record<IntervalIssues['quarantined'][number]['series'], string> = {
  import: 'from the grid', export: 'to the grid', pv: 'PV', batteryCharge: 'battery charge', batteryDischarge: 'battery discharge',
};

/**
 * Quarter hours the platform could not take as measured, and why: those beyond a site's
 * connection (quarantined, with the device and readings behind them) and sites whose computation
 * failed and waits for a retry. Shown only when there is something to see.
 */
function DataQuality({ community, fmt }: { community: Community; fmt: Formatter }) {
  const issues = useApi<IntervalIssues>(`/api/v1/communities/${community.id}/interval-issues`, { refreshMs: 60_000 });
  if (issues.error) return <ErrorNote error={issues.error} />;
  const data = issues.data;
  if (!data || (data.quarantined.length === 0 && data.failures.length === 0)) return null;
  return (
    <section class="card" aria-labelledby="quality-heading" data-testid="data-quality">
      <h2 id="quality-heading">Data quality</h2>
      {data.quarantinedTotal > 0 && (
        <>
          <h3 id="quarantine-heading">Implausible quarter hours <Badge tone="warn">{fmt.count(data.quarantinedTotal)}</Badge></h3>
          <p class="muted">Beyond what the site's grid connection can carry: kept out of the sharing (shown as missing) until the readings are corrected or the site's connection capacity is raised.</p>
          <div class="table-scroll">
            <table aria-labelledby="quarantine-heading">
              <thead>
                <tr><th scope="col">Site</th><th scope="col">Quarter hour</th><th scope="col" class="num">Energy</th><th scope="col" class="num">Limit</th><th scope="col">Devices and readings</th></tr>
              </thead>
              <tbody>
                {data.quarantined.map((q) => (
                  <tr key={`${q.meteringPointId}-${q.start}-${q.series}`} data-point-id={q.meteringPointId}>
                    <th scope="row">{q.meteringPointName}</th>
                    <td>{fmt.dateTime(q.start)}</td>
                    <td class="num">{fmt.energy(q.energyWh)} {SERIES_LABELS[q.series]}</td>
                    <td class="num">{fmt.energy(q.limitWh)}</td>
                    <td>
                      <div>{q.deviceIds.join(', ')}</div>
                      <ul class="readings">
                        {q.readings.map((r) => <li key={`${r.deviceId}-${r.quantity}-${r.ts}`}><small>{fmt.time(r.ts)} {r.quantity} {fmt.count(r.value)}</small></li>)}
                      </ul>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {data.failures.length > 0 && (
        <>
          <h3 id="failures-heading">Sites waiting for a retry <Badge tone="bad">{fmt.count(data.failures.length)}</Badge></h3>
          <ul aria-labelledby="failures-heading">
            {data.failures.map((f) => (
              <li key={f.meteringPointId}>
                <strong>{f.meteringPointName}</strong>: {f.error}{' '}
                <small class="muted">({fmt.count(f.attempts)} failed, next try {fmt.time(f.retryAt)})</small>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function CommunityEnergyPanel({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { period, setPeriod, query, energy } = usePeriodEnergy<CommunityEnergy>(
    community.timeZone, (range, resolution) => communityEnergyUrl(community.id, range, resolution), (e) => isEmptyEnergy(e.totals),
  );
  const t = energy.data?.totals;
  return (
    <section class="card" aria-labelledby="energy-heading">
      <PeriodHead id="energy-heading" period={period} onChange={setPeriod} />
      {energy.error ? <ErrorNote error={energy.error} />
        : !energy.data || !t || !query ? <Loading what="the community's energy" />
        : isEmptyEnergy(t) ? <Empty><p>No energy measured in this period yet.</p></Empty>
        : (
          <>
            <dl class="stats" data-testid="community-energy">
              <Stat label="Production" value={fmt.energy(t.productionWh)} detail={`${fmt.energy(t.toCommunityWh)} shared in the community`} />
              <Stat label="Consumption" value={fmt.energy(t.consumptionWh)} detail={`${fmt.energy(t.fromGridWh)} from the grid`} />
              <Stat label="Self-sufficiency" value={fmt.percent(t.selfSufficiency)} detail="consumption covered by own PV and the community" />
              <Stat label="Self-consumption" value={fmt.percent(t.selfConsumptionRate)} detail="production used in the community" />
            </dl>
            <h3>By source, per {query.unit}</h3>
            <StackedChart series={energy.data.series} unit={query.unit} fmt={fmt} />
            {energy.data.members && <MemberEnergyTable members={energy.data.members} fmt={fmt} />}
          </>
        )}
    </section>
  );
}

type MemberTotals = NonNullable<CommunityEnergy['members']>[number];

/** Each member's figures of the period (managers): who used, who produced, who shared. */
function MemberEnergyTable({ members, fmt }: { members: MemberTotals[]; fmt: Formatter }) {
  const sorted = useMemo(() => [...members].sort((a, b) => a.displayName.localeCompare(b.displayName, fmt.context.locale, { numeric: true })), [members, fmt]);
  const wh = (value: number) => <data value={String(value)}>{fmt.energy(value)}</data>;
  return (
    <>
      <h3 id="member-energy-heading">Per member</h3>
      <div class="table-scroll">
        <table aria-labelledby="member-energy-heading" data-testid="member-energy">
          <thead>
            <tr>
              <th scope="col">Member</th><th scope="col" class="num">Consumption</th><th scope="col" class="num">from the community</th>
              <th scope="col" class="num">Production</th><th scope="col" class="num">to the community</th><th scope="col" class="num">Self-sufficiency</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((m) => (
              <tr key={m.memberId} data-member-id={m.memberId}>
                <th scope="row"><a href={memberPath(m.memberId)}>{m.displayName}</a></th>
                <td class="num" data-field="consumptionWh">{wh(m.totals.consumptionWh)}</td>
                <td class="num" data-field="fromCommunityWh">{wh(m.totals.fromCommunityWh)}</td>
                <td class="num" data-field="productionWh">{wh(m.totals.productionWh)}</td>
                <td class="num" data-field="toCommunityWh">{wh(m.totals.toCommunityWh)}</td>
                <td class="num">{fmt.percent(m.totals.selfSufficiency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
