import { useMemo, useState } from 'preact/hooks';
import { ENERGY_MAX_RANGE_DAYS, type MemberEnergy } from '@gridshare/contract/sharing';
import type { Community, MeteringPoint } from '@gridshare/contract/registry';
import type { UtilityUsage } from '@gridshare/contract/ingest';
import { Chart, preloadCharts } from '../components/chart.js';
import { ComparisonTable, EnergyTable, isEmptyEnergy, StackedChart } from '../components/energy.js';
import { BestHoursSentence, ForecastChart, usePointForecasts } from '../components/forecast.js';
import { PeriodHead, usePeriodEnergy, type PeriodEnergy } from '../components/period.js';
import { Async, Empty, ErrorNote, Loading, Page, Stat } from '../components/ui.js';
import { bucketLabels, flowNodeName, sankeyOption, usageOption } from '../lib/chart-options.js';
import { useMemberContext } from '../lib/context.js';
import { energyFlows, livePower, selfSufficiency } from '../lib/energy.js';
import { seriesOf, sumP50 } from '../lib/forecast.js';
import { COLORS } from '../lib/palette.js';
import type { BarUnit, PeriodQuery } from '../lib/periods.js';
import { restOfTodayAndTomorrow } from '../lib/time.js';
import { memberEnergyCsvDownload } from '../api/sharing.js';
import type { Formatter } from '../lib/format.js';
import { useApi, useTicker, type Loaded } from '../lib/hooks.js';
import type { MessageKey } from '../lib/i18n/index.js';
import { useI18n } from '../lib/i18n/provider.js';
import { freshness, useLiveReadings } from '../lib/live.js';
import { memberPath } from '../paths.js';
import { useFormat } from '../session.js';

preloadCharts();

export default function Dashboard({ params }: { params: Record<string, string> }) {
  const memberId = params.memberId!;
  const { member, community, points } = useMemberContext(memberId);
  const fmt = useFormat(community.data);
  const { t } = useI18n();
  // Asked at once, next to the member record: the last 24 hours need no time zone.
  const energy = usePeriodEnergy(
    community.data?.timeZone, 'memberEnergy', memberId, (e) => isEmptyEnergy(e.totals),
  );
  return (
    <Async state={member} what={t('thing.member')}>
      {(m) => (
        <Page title={t('dashboard.title', { name: m.displayName })}>
          <Async state={community} what={t('thing.community')}>
            {(c) => (
              <Async state={points} what={t('thing.sites')}>
                {(sites) => sites.length === 0
                  ? (
                    <Empty>
                      <p>{t('dashboard.noSite')}</p>
                      <p><a href={memberPath(memberId, 'devices')}>{t('dashboard.addSite')}</a></p>
                    </Empty>
                  )
                  : (
                    <>
                      <LivePanel community={c} points={sites} fmt={fmt} />
                      <ForecastPanel memberId={memberId} community={c} points={sites} fmt={fmt} />
                      <EnergyPanel memberId={memberId} energy={energy} fmt={fmt} />
                      <UtilitiesPanel memberId={memberId} query={energy.query} fmt={fmt} />
                    </>
                  )}
              </Async>
            )}
          </Async>
        </Page>
      )}
    </Async>
  );
}

function LivePanel({ community, points, fmt }: { community: Community; points: MeteringPoint[]; fmt: Formatter }) {
  const ids = useMemo(() => new Set(points.map((p) => p.id)), [points]);
  const { latest, state } = useLiveReadings(community.id, (reading) => ids.has(reading.meteringPointId), [...ids]);
  const now = useTicker(1000);
  const { t } = useI18n();
  const power = livePower(latest);
  const hasPv = points.some((p) => (p.pvCapacityW ?? 0) > 0) || power.pvW > 0;
  return (
    <section class="card" aria-labelledby="live-heading">
      <h2 id="live-heading">{t('dashboard.powerNow')}</h2>
      {power.at === null
        ? <p class="muted" role="status">{state === 'reconnecting' ? t('live.reconnectingLost') : t('dashboard.waiting')}</p>
        : (
          <>
            <dl class="stats" data-testid="live-power">
              <Stat label={t('live.fromGrid')} value={fmt.power(power.importW)} />
              <Stat label={t('live.toGrid')} value={fmt.power(power.exportW)} />
              {hasPv && <Stat label={t('live.ownPv')} value={fmt.power(power.pvW)} />}
            </dl>
            <p class="muted" aria-live="polite">
              {freshness(power.at, now, state, fmt, t)}
            </p>
          </>
        )}
    </section>
  );
}

/** Tomorrow and the rest of today: the member's own PV and consumption, the community's surplus with its band, and the best hours. */
function ForecastPanel({ memberId, community, points, fmt }: { memberId: string; community: Community; points: MeteringPoint[]; fmt: Formatter }) {
  const { t } = useI18n();
  // One window per hour on the clock: the page asks again when the hour turns.
  const hour = Math.floor(useTicker(60_000) / 3_600_000);
  const range = useMemo(() => restOfTodayAndTomorrow(new Date(hour * 3_600_000 + 1), community.timeZone), [hour, community.timeZone]);
  const ids = useMemo(() => points.map((p) => p.id), [points]);
  const own = usePointForecasts(ids, range);
  const whole = useApi('communityForecast', { params: { id: community.id }, query: { from: range.from, to: range.to, resolution: 60 } });
  const best = useApi('memberBestHours', { params: { id: memberId } }, { refreshMs: 15 * 60_000 });
  const chart = useMemo(() => {
    if (!own.data || !whole.data) return undefined;
    const surplus = seriesOf(whole.data, 'surplus');
    const pv = sumP50(own.data, 'production');
    const use = sumP50(own.data, 'consumption');
    const starts = surplus?.map((v) => v.start) ?? use?.starts ?? pv?.starts;
    if (!starts) return undefined;
    const lines = [
      ...(pv ? [{ name: t('forecast.ownPv'), color: COLORS.ownPv, values: pv.p50W }] : []),
      ...(use ? [{ name: t('forecast.ownConsumption'), color: COLORS.home, values: use.p50W }] : []),
      ...(surplus ? [{ name: t('forecast.communitySurplus'), color: COLORS.community, values: surplus.map((v) => v.p50W ?? null) }] : []),
    ];
    return { starts, lines, band: surplus ? { name: t('forecast.band'), color: COLORS.toCommunity, forecast: whole.data, kind: 'surplus' as const } : undefined };
  }, [own.data, whole.data, t]);
  const error = own.error ?? whole.error ?? best.error;
  return (
    <section class="card" aria-labelledby="forecast-heading">
      <h2 id="forecast-heading">{t('forecast.title')}</h2>
      {error
        ? <ErrorNote error={error} />
        : !own.data || !whole.data || !best.data
          ? <Loading what={t('forecast.title')} />
          : (
            <>
              <BestHoursSentence best={best.data} fmt={fmt} />
              {chart
                ? (
                  <>
                    <p class="muted">{t('forecast.intro')}</p>
                    <ForecastChart starts={chart.starts} lines={chart.lines} band={chart.band} fmt={fmt} />
                  </>
                )
                : <p class="muted">{t('forecast.none')}</p>}
            </>
          )}
    </section>
  );
}

function EnergyPanel({ memberId, energy: chosen, fmt }: { memberId: string; energy: PeriodEnergy<'memberEnergy'>; fmt: Formatter }) {
  const { t } = useI18n();
  const { query, energy } = chosen;
  const [compare, setCompare] = useState(false);
  const previous = useApi('memberEnergy', compare && query
    ? { params: { id: memberId }, query: { ...query.previous.range, resolution: query.previous.resolution } }
    : null, { refreshMs: 60_000 });
  return (
    <section class="card" aria-labelledby="energy-heading">
      <PeriodHead id="energy-heading" energy={chosen} fmt={fmt} />
      {query && (
        <div class="row-actions period-actions">
          <label class="inline">
            <input type="checkbox" checked={compare} onChange={(e) => setCompare(e.currentTarget.checked)} />
            {t('compare.toggle')}
          </label>
          <a href={memberEnergyCsvDownload(memberId, { ...query.range, resolution: query.resolution })} download>{t('dashboard.downloadCsv', { unit: query.unit })}</a>
          {Date.parse(query.range.to) - Date.parse(query.range.from) <= ENERGY_MAX_RANGE_DAYS['15m'] * 86_400_000 && (
            <a href={memberEnergyCsvDownload(memberId, { ...query.range, resolution: '15m' })} download>{t('dashboard.downloadQuarterHours')}</a>
          )}
        </div>
      )}
      {energy.error
        ? <ErrorNote error={energy.error} />
        : energy.data && query
          ? (
            <>
              {compare && <PreviousPeriod current={energy.data} previous={previous} query={query} fmt={fmt} />}
              <EnergyBySource energy={energy.data} unit={query.unit} fmt={fmt} />
            </>
          )
          : <Loading what={t('thing.energy')} />}
    </section>
  );
}

const UTILITY: Record<UtilityUsage['quantity'], { name: MessageKey; color: string }> = {
  'gas.volume': { name: 'utilities.gas', color: COLORS.gas },
  'water.volume': { name: 'utilities.water', color: COLORS.water },
  'heat.energy': { name: 'utilities.heat', color: COLORS.heat },
};

/** Gas, water and heat for the same period as the energy above; shown only where the member's meters count any. */
function UtilitiesPanel({ memberId, query, fmt }: { memberId: string; query: PeriodQuery | undefined; fmt: Formatter }) {
  const { t } = useI18n();
  const usage = useApi('memberUtilities', query ? { params: { id: memberId }, query: { ...query.range, resolution: query.resolution } } : null, { refreshMs: 5 * 60_000 });
  if (usage.error) return <ErrorNote error={usage.error} />;
  if (!query || !usage.data || usage.data.utilities.length === 0) return null;
  return (
    <section class="card" aria-labelledby="utilities-heading" data-testid="utilities">
      <h2 id="utilities-heading">{t('utilities.heading')}</h2>
      {usage.data.utilities.map((u) => <UtilityChart key={u.quantity} usage={u} unit={query.unit} fmt={fmt} />)}
    </section>
  );
}

function UtilityChart({ usage, unit, fmt }: { usage: UtilityUsage; unit: BarUnit; fmt: Formatter }) {
  const { t } = useI18n();
  const name = t(UTILITY[usage.quantity].name);
  const format = usage.unit === 'L' ? fmt.volume : fmt.energy;
  const option = useMemo(
    () => usageOption(bucketLabels(usage.buckets.map((b) => b.start), unit, fmt), name, usage.buckets.map((b) => b.amount), UTILITY[usage.quantity].color, format),
    [usage, unit, fmt, name, format],
  );
  const unknown = usage.buckets.filter((b) => b.amount === null && Date.parse(b.start) < Date.now()).length;
  const total = t('utilities.total', { name, amount: format(usage.total) });
  return (
    <>
      <h3>{total}</h3>
      <Chart option={option} height={200} summary={total} />
      {unknown > 0 && <p class="muted note">{t('utilities.noteUnknown', { count: unknown, unit })}</p>}
    </>
  );
}

/**
 * The period's totals beside the period before's. While the period runs, both are shown up to
 * the same point (periodQuery cut the period before), so the figures compare like with like.
 */
function PreviousPeriod({ current, previous, query, fmt }: { current: MemberEnergy; previous: Loaded<MemberEnergy>; query: PeriodQuery; fmt: Formatter }) {
  const { t } = useI18n();
  if (previous.error) return <ErrorNote error={previous.error} />;
  if (!previous.data) return <Loading what={t('compare.what')} />;
  const withTime = query.unit === 'hour';
  const running = Date.now() < Date.parse(query.range.to);
  const currentEnd = running ? new Date().toISOString() : query.range.to;
  return (
    <ComparisonTable current={current.totals} previous={previous.data.totals} running={running} fmt={fmt}
      currentName={fmt.span(query.range.from, currentEnd, withTime)}
      previousName={fmt.span(query.previous.range.from, query.previous.range.to, withTime)} />
  );
}

export function EnergyBySource({ energy, unit, fmt }: { energy: MemberEnergy; unit: BarUnit; fmt: Formatter }) {
  const { t } = useI18n();
  const flows = useMemo(() => energyFlows(energy.totals), [energy]);
  const sankey = useMemo(() => sankeyOption(flows, fmt, t), [flows, fmt, t]);
  const totals = energy.totals;
  if (isEmptyEnergy(totals)) {
    return <Empty><p>{t('dashboard.noEnergy')}</p></Empty>;
  }
  return (
    <>
      <dl class="stats" data-testid="energy-summary">
        <Stat label={t('energy.consumption')} value={fmt.energy(totals.consumptionWh)}
          detail={totals.productionWh > 0 ? t('dashboard.produced', { energy: fmt.energy(totals.productionWh) }) : undefined} />
        <Stat label={t('energy.selfSufficiency')} value={fmt.percent(selfSufficiency(totals))} detail={t('dashboard.selfSufficiencyDetail')} />
        <Stat label={t('dashboard.moneySaved')} value={fmt.money(energy.savings.amount)} detail={t('dashboard.moneySavedDetail')} />
        <Stat label={t('dashboard.co2Avoided')} value={fmt.co2(energy.savings.co2AvoidedKg)} />
      </dl>
      <h3>{t('energy.bySource', { unit })}</h3>
      <StackedChart series={energy.series} unit={unit} fmt={fmt} />
      <div class="split">
        <div>
          <h3>{t('dashboard.energyFlow')}</h3>
          {flows.length > 0 && (
            <Chart option={sankey} height={240} summary={flows.map((f) =>
              t('dashboard.flow', { source: flowNodeName(f.source, t), target: flowNodeName(f.target, t), energy: fmt.energy(f.valueWh) })).join('; ')} />
          )}
        </div>
        <EnergyTable totals={totals} fmt={fmt} caption={t('dashboard.totalsCaption')} />
      </div>
    </>
  );
}
