import { useMemo } from 'preact/hooks';
import type { Community } from '@gridshare/contract/registry';
import type { CommunityEnergy } from '@gridshare/contract/sharing';
import type { IntervalIssues } from '@gridshare/contract/intervals';
import { preloadCharts } from '../../components/chart.js';
import { useDeviceStates } from '../../components/device-state.js';
import { isEmptyEnergy, StackedChart } from '../../components/energy.js';
import { PeriodHead, usePeriodEnergy } from '../../components/period.js';
import { Badge, Empty, ErrorNote, Loading, Stat } from '../../components/ui.js';
import { takingPart } from '../../lib/members.js';
import { livePower } from '../../lib/energy.js';
import type { Formatter } from '../../lib/format.js';
import { useApi, useTicker } from '../../lib/hooks.js';
import type { MessageKey } from '../../lib/i18n/index.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { freshness, useLiveReadings } from '../../lib/live.js';
import { managePath, memberPath } from '../../paths.js';
import { ManagePage } from './manage-page.js';

preloadCharts();

export default function Overview({ params }: { params: Record<string, string> }) {
  const { t } = useI18n();
  return (
    <ManagePage communityId={params.communityId!} title={t('nav.overview')}>
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
  const { t } = useI18n();
  const power = livePower(latest);
  // Each site's use is what it drew from the grid, less what it fed in, plus its own PV.
  const usedW = power.importW - power.exportW + power.pvW;
  return (
    <section class="card" aria-labelledby="live-heading">
      <h2 id="live-heading">{t('overview.now')}</h2>
      {power.at === null
        ? <p class="muted" role="status">{state === 'reconnecting' ? t('live.reconnectingLost') : t('overview.waiting')}</p>
        : (
          <>
            <dl class="stats" data-testid="community-live">
              <Stat label={t('overview.productionPv')} value={fmt.power(power.pvW)} />
              <Stat label={t('energy.consumption')} value={fmt.power(Math.max(0, usedW))} />
              <Stat label={t('live.fromGrid')} value={fmt.power(power.importW)} />
              <Stat label={t('live.toGrid')} value={fmt.power(power.exportW)} />
            </dl>
            <p class="muted">{freshness(power.at, now, state, fmt, t)} · {t('overview.sitesReporting', { count: power.points })}</p>
          </>
        )}
    </section>
  );
}

function MembersOnline({ community, fmt }: { community: Community; fmt: Formatter }) {
  const members = useApi('listMembers', { params: { id: community.id } });
  const points = useApi('listMeteringPoints', { params: { id: community.id } });
  const devices = useApi('listDevices', { params: { id: community.id } });
  const states = useDeviceStates(community.id);
  const { t } = useI18n();
  const error = members.error ?? points.error ?? devices.error ?? states.error;
  if (error) return <ErrorNote error={error} />;
  if (!members.data || !points.data || !devices.data || !states.data) return <Loading what={t('thing.members')} />;
  const active = takingPart(members.data, points.data);
  const requested = members.data.filter((m) => m.state === 'requested');
  const pointOwner = new Map(points.data.map((p) => [p.id, p.memberId]));
  const online = devices.data.filter((d) => states.byId.get(d.id)?.online);
  const onlineMembers = new Set(online.flatMap((d) => (d.meteringPointId ? [pointOwner.get(d.meteringPointId)] : [])));
  return (
    <section class="card" aria-labelledby="members-heading">
      <h2 id="members-heading">{t('nav.members')}</h2>
      <dl class="stats">
        <Stat label={t('overview.membersOnline')} value={t('overview.partOf', { part: fmt.count(active.filter((m) => onlineMembers.has(m.id)).length), whole: fmt.count(active.length) })}
          detail={t('overview.membersOnlineDetail')} />
        <Stat label={t('overview.devicesOnline')} value={t('overview.partOf', { part: fmt.count(online.length), whole: fmt.count(devices.data.length) })} />
        <Stat label={t('members.joinRequests')} value={fmt.count(requested.length)} />
      </dl>
      {requested.length > 0 && <p><a href={managePath(community.id, 'members')}>{t('overview.decideRequests', { count: requested.length })}</a></p>}
    </section>
  );
}

const SERIES: Record<IntervalIssues['quarantined'][number]['series'], MessageKey> = {
  import: 'quality.seriesImport', export: 'quality.seriesExport', pv: 'quality.seriesPv',
  batteryCharge: 'quality.seriesBatteryCharge', batteryDischarge: 'quality.seriesBatteryDischarge', heatPump: 'quality.seriesHeatPump',
};

/**
 * Quarter hours the platform could not take as measured, and why: those beyond a site's
 * connection (quarantined, with the device and readings behind them) and sites whose computation
 * failed and waits for a retry. Shown only when there is something to see.
 */
function DataQuality({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const issues = useApi('intervalIssues', { params: { id: community.id } }, { refreshMs: 60_000 });
  if (issues.error) return <ErrorNote error={issues.error} />;
  const data = issues.data;
  if (!data || (data.quarantined.length === 0 && data.failures.length === 0)) return null;
  return (
    <section class="card" aria-labelledby="quality-heading" data-testid="data-quality">
      <h2 id="quality-heading">{t('quality.heading')}</h2>
      {data.quarantinedTotal > 0 && (
        <>
          <h3 id="quarantine-heading">{t('quality.quarantined')} <Badge tone="warn">{fmt.count(data.quarantinedTotal)}</Badge></h3>
          <p class="muted">{t('quality.quarantinedHint')}</p>
          <div class="table-scroll">
            <table aria-labelledby="quarantine-heading">
              <thead>
                <tr>
                  <th scope="col">{t('quality.site')}</th><th scope="col">{t('quality.quarterHour')}</th><th scope="col" class="num">{t('quality.energy')}</th>
                  <th scope="col" class="num">{t('quality.limit')}</th><th scope="col">{t('quality.devicesAndReadings')}</th>
                </tr>
              </thead>
              <tbody>
                {data.quarantined.map((q) => (
                  <tr key={`${q.meteringPointId}-${q.start}-${q.series}`} data-point-id={q.meteringPointId}>
                    <th scope="row">{q.meteringPointName}</th>
                    <td>{fmt.dateTime(q.start)}</td>
                    <td class="num">{t(SERIES[q.series], { energy: fmt.energy(q.energyWh) })}</td>
                    <td class="num">{fmt.energy(q.limitWh)}</td>
                    <td>
                      <div>{q.deviceIds.join(', ')}</div>
                      <ul class="readings">
                        {q.readings.map((r) => (
                          <li key={`${r.deviceId}-${r.quantity}-${r.ts}`}>
                            <small>{t('quality.reading', { time: fmt.time(r.ts), quantity: r.quantity, value: fmt.count(r.value) })}</small>
                          </li>
                        ))}
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
          <h3 id="failures-heading">{t('quality.failures')} <Badge tone="bad">{fmt.count(data.failures.length)}</Badge></h3>
          <ul aria-labelledby="failures-heading">
            {data.failures.map((f) => (
              <li key={f.meteringPointId}>
                {t('quality.failure', { site: f.meteringPointName, error: f.error, attempts: f.attempts, retry: fmt.time(f.retryAt) })}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function CommunityEnergyPanel({ community, fmt }: { community: Community; fmt: Formatter }) {
  const chosen = usePeriodEnergy(community.timeZone, 'communityEnergy', community.id, (e) => isEmptyEnergy(e.totals));
  const { query, energy } = chosen;
  const { t } = useI18n();
  const totals = energy.data?.totals;
  return (
    <section class="card" aria-labelledby="energy-heading">
      <PeriodHead id="energy-heading" energy={chosen} fmt={fmt} />
      {energy.error ? <ErrorNote error={energy.error} />
        : !energy.data || !totals || !query ? <Loading what={t('thing.communityEnergy')} />
        : isEmptyEnergy(totals) ? <Empty><p>{t('overview.noEnergy')}</p></Empty>
        : (
          <>
            <dl class="stats" data-testid="community-energy">
              <Stat label={t('energy.production')} value={fmt.energy(totals.productionWh)} detail={t('overview.sharedInCommunity', { energy: fmt.energy(totals.toCommunityWh) })} />
              <Stat label={t('energy.consumption')} value={fmt.energy(totals.consumptionWh)} detail={t('overview.fromGridDetail', { energy: fmt.energy(totals.fromGridWh) })} />
              <Stat label={t('energy.selfSufficiency')} value={fmt.percent(totals.selfSufficiency)} detail={t('overview.selfSufficiencyDetail')} />
              <Stat label={t('overview.selfConsumption')} value={fmt.percent(totals.selfConsumptionRate)} detail={t('overview.selfConsumptionDetail')} />
            </dl>
            <h3>{t('energy.bySource', { unit: query.unit })}</h3>
            <StackedChart series={energy.data.series} unit={query.unit} fmt={fmt} />
            {energy.data.members && <MemberEnergyTable members={energy.data.members} batteries={energy.data.batteries ?? []} fmt={fmt} />}
          </>
        )}
    </section>
  );
}

type MemberTotals = NonNullable<CommunityEnergy['members']>[number];
type BatteryTotals = NonNullable<CommunityEnergy['batteries']>[number];

/** Each member's figures of the period (managers): who used, who produced, who shared; the community batteries below them. */
function MemberEnergyTable({ members, batteries, fmt }: { members: MemberTotals[]; batteries: BatteryTotals[]; fmt: Formatter }) {
  const { t } = useI18n();
  const sorted = useMemo(() => fmt.sortBy(members, (m) => m.displayName), [members, fmt]);
  const sortedBatteries = useMemo(() => fmt.sortBy(batteries, (b) => b.name), [batteries, fmt]);
  const wh = (value: number) => <data value={String(value)}>{fmt.energy(value)}</data>;
  const figures = (totals: MemberTotals['totals']) => (
    <>
      <td class="num" data-field="consumptionWh">{wh(totals.consumptionWh)}</td>
      <td class="num" data-field="fromCommunityWh">{wh(totals.fromCommunityWh)}</td>
      <td class="num" data-field="productionWh">{wh(totals.productionWh)}</td>
      <td class="num" data-field="toCommunityWh">{wh(totals.toCommunityWh)}</td>
      <td class="num">{fmt.percent(totals.selfSufficiency)}</td>
    </>
  );
  return (
    <>
      <h3 id="member-energy-heading">{t('overview.perMember')}</h3>
      <div class="table-scroll">
        <table aria-labelledby="member-energy-heading" data-testid="member-energy">
          <thead>
            <tr>
              <th scope="col">{t('overview.member')}</th><th scope="col" class="num">{t('energy.consumption')}</th><th scope="col" class="num">{t('energy.fromCommunity')}</th>
              <th scope="col" class="num">{t('energy.production')}</th><th scope="col" class="num">{t('energy.toCommunity')}</th><th scope="col" class="num">{t('energy.selfSufficiency')}</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((m) => (
              <tr key={m.memberId} data-member-id={m.memberId}>
                <th scope="row"><a href={memberPath(m.memberId)}>{m.displayName}</a></th>
                {figures(m.totals)}
              </tr>
            ))}
            {sortedBatteries.map((b) => (
              <tr key={b.meteringPointId} data-battery-id={b.meteringPointId}>
                <th scope="row">{t('overview.battery', { name: b.name })}</th>
                {figures(b.totals)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
