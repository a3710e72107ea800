import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, get } from '../api/client.js';
import { memberEnergyUrl, type MemberEnergy } from '../api/sharing.js';
import type { Community, Interval, MeteringPoint } from '../api/types.js';
import { Chart, preloadCharts } from '../components/chart.js';
import { Async, Empty, ErrorNote, Loading, Page, Stat } from '../components/ui.js';
import { bucketLabels, meterOption, sankeyOption, stackedOption } from '../lib/chart-options.js';
import { useMemberContext } from '../lib/context.js';
import { energyFlows, livePower, meterSeries, selfSufficiency, stackedBySource, type MeterSeries } from '../lib/energy.js';
import type { Formatter } from '../lib/format.js';
import { useApi, useTicker } from '../lib/hooks.js';
import { useLiveReadings } from '../lib/live.js';
import { ago, bucketStart, dayRange, monthRange } from '../lib/time.js';
import { memberPath } from '../routes.js';
import { useFormat } from '../session.js';

preloadCharts();

export default function Dashboard({ params }: { params: Record<string, string> }) {
  const memberId = params.memberId!;
  const { member, community, points } = useMemberContext(memberId);
  const fmt = useFormat(community.data);
  return (
    <Async state={member} what="member">
      {(m) => (
        <Page title={`Energy of ${m.displayName}`}>
          <Async state={community} what="community">
            {(c) => (
              <Async state={points} what="sites">
                {(sites) => sites.length === 0
                  ? (
                    <Empty>
                      <p>No site is registered for this member yet, so there is no energy to show.</p>
                      <p><a href={memberPath(memberId, 'devices')}>Add your site and claim your meter reader</a></p>
                    </Empty>
                  )
                  : (
                    <>
                      <LivePanel community={c} points={sites} fmt={fmt} />
                      <EnergyPanel memberId={memberId} community={c} points={sites} fmt={fmt} />
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
  const power = livePower(latest);
  const hasPv = points.some((p) => (p.pvCapacityW ?? 0) > 0) || power.pvW > 0;
  return (
    <section class="card" aria-labelledby="live-heading">
      <h2 id="live-heading">Power now</h2>
      {power.at === null
        ? <p class="muted" role="status">{state === 'reconnecting' ? 'Connection lost, reconnecting…' : 'Waiting for the first reading from your meter…'}</p>
        : (
          <>
            <dl class="stats" data-testid="live-power">
              <Stat label="From the grid" value={fmt.power(power.importW)} />
              <Stat label="To the grid" value={fmt.power(power.exportW)} />
              {hasPv && <Stat label="Own PV" value={fmt.power(power.pvW)} />}
            </dl>
            <p class="muted" aria-live="polite">
              {now - Date.parse(power.at) < STALE_MS ? `Updated ${ago(power.at, now)}` : `Latest reading from ${fmt.dateTime(power.at)}`}
              {' · '}{state === 'open' ? 'live' : 'reconnecting…'}
            </p>
          </>
        )}
    </section>
  );
}

type Period = 'today' | 'month';
/** Older readings (a replay, a reader that went quiet) are shown with their time, not "23 h ago". */
const STALE_MS = 10 * 60_000;
const REFRESH_MS = 60_000;
const EMPTY_RETRY_MS = 10_000;

function EnergyPanel({ memberId, community, points, fmt }: { memberId: string; community: Community; points: MeteringPoint[]; fmt: Formatter }) {
  const [period, setPeriod] = useState<Period>('today');
  // New quarter hours arrive all the time; a minute is the finest the figures change by much.
  const minute = Math.floor(useTicker(REFRESH_MS) / REFRESH_MS);
  // Fixed for the life of the page, so the request is not repeated every render.
  const ranges = useMemo(() => ({ today: dayRange(new Date(), community.timeZone), month: monthRange(new Date(), community.timeZone) }), [community.timeZone]);
  const energy = useApi<MemberEnergy>(memberEnergyUrl(memberId, ranges[period], period === 'today' ? '1h' : '1d'));
  useEffect(() => energy.reload(), [minute]);
  // Without energy by source, the meters' own figures over a rolling window: the last day has
  // data even right after midnight or while the demo replays yesterday.
  const measuredOnly = energy.error instanceof ApiError && energy.error.missingRoute;
  const label = measuredOnly ? { today: 'Last 24 hours', month: 'Last 30 days' } : { today: 'Today', month: 'This month' };
  const unit = period === 'today' ? 'hour' : 'day';
  return (
    <section class="card" aria-labelledby="energy-heading">
      <div class="section-head">
        <h2 id="energy-heading">{label[period]}</h2>
        <div role="group" aria-label="Period" class="toggle">
          <button type="button" aria-pressed={period === 'today'} onClick={() => setPeriod('today')}>{label.today}</button>
          <button type="button" aria-pressed={period === 'month'} onClick={() => setPeriod('month')}>{label.month}</button>
        </div>
      </div>
      {measuredOnly
        ? <MeterFallback points={points} days={period === 'today' ? 1 : 30} unit={unit} fmt={fmt} refresh={minute} />
        : energy.error
          ? <ErrorNote error={energy.error} />
          : energy.data
            ? <EnergyBySource energy={energy.data} unit={unit} fmt={fmt} />
            : <Loading what="energy" />}
    </section>
  );
}

export function EnergyBySource({ energy, unit, fmt }: { energy: MemberEnergy; unit: 'hour' | 'day'; fmt: Formatter }) {
  const stacked = useMemo(() => stackedBySource(energy.series), [energy]);
  const flows = useMemo(() => energyFlows(energy.totals), [energy]);
  const option = useMemo(() => stackedOption(stacked, bucketLabels(stacked.starts, unit, fmt), fmt), [stacked, unit, fmt]);
  const sankey = useMemo(() => sankeyOption(flows, fmt), [flows, fmt]);
  const t = energy.totals;
  if (t.consumptionWh === 0 && t.productionWh === 0) {
    return <Empty><p>No energy measured in this period yet.</p></Empty>;
  }
  return (
    <>
      <h3>By source</h3>
      <Chart option={option} summary={`Consumption by source: ${fmt.energy(t.selfConsumedWh)} own PV, ${fmt.energy(t.fromCommunityWh)} from the community, ${fmt.energy(t.fromGridWh)} from the grid`} />
      {stacked.flagged.length > 0 && (
        <p class="muted">{stacked.flagged.length} of {stacked.starts.length} bars include estimated or missing quarter hours.</p>
      )}
      <table class="figures" data-testid="energy-totals">
        <caption>Totals of the period</caption>
        <tbody>
          <tr><th scope="row">Consumption</th><td data-field="consumptionWh">{fmt.energy(t.consumptionWh)}</td></tr>
          <tr><th scope="row">from own PV</th><td data-field="selfConsumedWh">{fmt.energy(t.selfConsumedWh)}</td></tr>
          <tr><th scope="row">from the community</th><td data-field="fromCommunityWh">{fmt.energy(t.fromCommunityWh)}</td></tr>
          <tr><th scope="row">from the grid</th><td data-field="fromGridWh">{fmt.energy(t.fromGridWh)}</td></tr>
          <tr><th scope="row">Production</th><td data-field="productionWh">{fmt.energy(t.productionWh)}</td></tr>
          <tr><th scope="row">to the community</th><td data-field="toCommunityWh">{fmt.energy(t.toCommunityWh)}</td></tr>
          <tr><th scope="row">to the grid</th><td data-field="toGridWh">{fmt.energy(t.toGridWh)}</td></tr>
          <tr><th scope="row">Self-sufficiency</th><td>{fmt.percent(selfSufficiency(t))}</td></tr>
        </tbody>
      </table>
      <h3>Energy flow</h3>
      {flows.length > 0 && <Chart option={sankey} summary={flows.map((f) => `${f.source} to ${f.target}: ${fmt.energy(f.valueWh)}`).join('; ')} height={260} />}
      <h3>Savings</h3>
      <dl class="stats" data-testid="savings">
        <Stat label="Money saved" value={fmt.money(energy.savings.amount)} detail="against buying everything from the grid" />
        <Stat label="CO₂ avoided" value={fmt.co2(energy.savings.co2AvoidedKg)} />
      </dl>
    </>
  );
}

/**
 * Until the server shares energy by source (issue 5), the member still sees what their meters
 * measured: grid import and export and PV per quarter hour.
 */
function MeterFallback({ points, days, unit, fmt, refresh }: {
  points: MeteringPoint[]; days: number; unit: 'hour' | 'day'; fmt: Formatter; refresh: number;
}) {
  const [state, setState] = useState<{ series?: MeterSeries; error?: unknown }>({});
  const [retry, setRetry] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const to = Date.now();
    const query = new URLSearchParams({ from: new Date(to - days * 86_400_000).toISOString(), to: new Date(to).toISOString() }).toString();
    Promise.all(points.map((p) => get<Interval[]>(`/api/v1/metering-points/${p.id}/intervals?${query}`, controller.signal)))
      .then((lists) => {
        const series = meterSeries(lists, (start) => bucketStart(start, unit, fmt.context.timeZone));
        setState({ series });
        // A new reader (or the demo just started): look again soon rather than in a minute.
        if (series.measuredBuckets === 0) timer = setTimeout(() => setRetry((n) => n + 1), EMPTY_RETRY_MS);
      })
      .catch((error: unknown) => controller.signal.aborted || setState({ error }));
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [points, days, unit, fmt, refresh, retry]);
  if (state.error) return <ErrorNote error={state.error} />;
  if (!state.series) return <Loading what="meter data" />;
  return (
    <>
      <p class="muted">Energy by source appears here once this server shares the community's energy. Until then: what your meters measured.</p>
      {state.series.measuredBuckets === 0
        ? <Empty><p>No readings in this period yet.</p></Empty>
        : <MeterChart series={state.series} unit={unit} fmt={fmt} />}
    </>
  );
}

function MeterChart({ series, unit, fmt }: { series: MeterSeries; unit: 'hour' | 'day'; fmt: Formatter }) {
  const option = useMemo(() => meterOption(series, bucketLabels(series.starts, unit, fmt), fmt), [series, unit, fmt]);
  return (
    <>
      <Chart option={option} summary={`Measured: ${fmt.energy(series.totals.importWh)} from the grid, ${fmt.energy(series.totals.exportWh)} to the grid, ${fmt.energy(series.totals.pvWh)} PV`} />
      <table class="figures" data-testid="meter-totals">
        <caption>Measured in the period</caption>
        <tbody>
          <tr><th scope="row">From the grid</th><td>{fmt.energy(series.totals.importWh)}</td></tr>
          <tr><th scope="row">To the grid</th><td>{fmt.energy(series.totals.exportWh)}</td></tr>
          <tr><th scope="row">PV</th><td>{fmt.energy(series.totals.pvWh)}</td></tr>
        </tbody>
      </table>
    </>
  );
}
