import { useMemo } from 'preact/hooks';
import { memberEnergyUrl, type MemberEnergy } from '../api/sharing.js';
import type { Community, MeteringPoint } from '../api/types.js';
import { Chart, preloadCharts } from '../components/chart.js';
import { EnergyTable, isEmptyEnergy, StackedChart } from '../components/energy.js';
import { PeriodHead, usePeriodEnergy, type PeriodEnergy } from '../components/period.js';
import { Async, Empty, ErrorNote, Loading, Page, Stat } from '../components/ui.js';
import { sankeyOption } from '../lib/chart-options.js';
import { useMemberContext } from '../lib/context.js';
import { energyFlows, livePower, selfSufficiency } from '../lib/energy.js';
import type { Formatter } from '../lib/format.js';
import { useTicker } from '../lib/hooks.js';
import { freshness, useLiveReadings } from '../lib/live.js';
import { memberPath } from '../routes.js';
import { useFormat } from '../session.js';

preloadCharts();

export default function Dashboard({ params }: { params: Record<string, string> }) {
  const memberId = params.memberId!;
  const { member, community, points } = useMemberContext(memberId);
  const fmt = useFormat(community.data);
  // Asked at once, next to the member record: the last 24 hours need no time zone.
  const energy = usePeriodEnergy<MemberEnergy>(
    community.data?.timeZone, (range, resolution) => memberEnergyUrl(memberId, range, resolution), (e) => isEmptyEnergy(e.totals),
  );
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
                      <EnergyPanel energy={energy} fmt={fmt} />
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
              {freshness(power.at, now, fmt)}{' · '}{state === 'open' ? 'live' : 'reconnecting…'}
            </p>
          </>
        )}
    </section>
  );
}

function EnergyPanel({ energy: { period, setPeriod, query, energy }, fmt }: { energy: PeriodEnergy<MemberEnergy>; fmt: Formatter }) {
  return (
    <section class="card" aria-labelledby="energy-heading">
      <PeriodHead id="energy-heading" period={period} onChange={setPeriod} />
      {energy.error
        ? <ErrorNote error={energy.error} />
        : energy.data && query
          ? <EnergyBySource energy={energy.data} unit={query.unit} fmt={fmt} />
          : <Loading what="energy" />}
    </section>
  );
}

export function EnergyBySource({ energy, unit, fmt }: { energy: MemberEnergy; unit: 'hour' | 'day'; fmt: Formatter }) {
  const flows = useMemo(() => energyFlows(energy.totals), [energy]);
  const sankey = useMemo(() => sankeyOption(flows, fmt), [flows, fmt]);
  const t = energy.totals;
  if (isEmptyEnergy(t)) {
    return <Empty><p>No energy measured in this period yet. New readings show here within a minute.</p></Empty>;
  }
  return (
    <>
      <dl class="stats" data-testid="energy-summary">
        <Stat label="Consumption" value={fmt.energy(t.consumptionWh)} detail={t.productionWh > 0 ? `${fmt.energy(t.productionWh)} produced` : undefined} />
        <Stat label="Self-sufficiency" value={fmt.percent(selfSufficiency(t))} detail="own PV and community energy" />
        <Stat label="Money saved" value={fmt.money(energy.savings.amount)} detail="against buying everything from the grid" />
        <Stat label="CO₂ avoided" value={fmt.co2(energy.savings.co2AvoidedKg)} />
      </dl>
      <h3>By source, per {unit}</h3>
      <StackedChart series={energy.series} unit={unit} fmt={fmt} />
      <div class="split">
        <div>
          <h3>Energy flow</h3>
          {flows.length > 0 && <Chart option={sankey} summary={flows.map((f) => `${f.source} to ${f.target}: ${fmt.energy(f.valueWh)}`).join('; ')} height={240} />}
        </div>
        <EnergyTable totals={t} fmt={fmt} caption="Totals of the period" />
      </div>
    </>
  );
}
