import { useMemo } from 'preact/hooks';
import type { LimitExcess, PlannedAsset, PlanSummary } from '@gridshare/contract/optimise';
import { forecastOption, type ForecastLine } from '../lib/chart-options.js';
import { NO_VALUE, type Formatter } from '../lib/format.js';
import type { MessageKey } from '../lib/i18n/index.js';
import { useI18n } from '../lib/i18n/provider.js';
import { COLORS } from '../lib/palette.js';
import { Chart } from './chart.js';
import { Badge, Stat } from './ui.js';

/** The plan's steps' start instants. */
export function stepStarts(plan: PlanSummary): string[] {
  const steps = Math.round((Date.parse(plan.horizonEnd) - Date.parse(plan.horizonStart)) / (plan.stepMinutes * 60_000));
  return Array.from({ length: steps }, (_, k) => new Date(Date.parse(plan.horizonStart) + k * plan.stepMinutes * 60_000).toISOString());
}

const STATUS: Record<PlanSummary['status'], MessageKey> = {
  optimal: 'plan.statusOptimal', 'time-limit': 'plan.statusTimeLimit', 'rounded-relaxation': 'plan.statusRounded',
  infeasible: 'plan.statusInfeasible', unbounded: 'plan.statusFailed', failed: 'plan.statusFailed',
};

/** How good the plan is and what it saves: status, gap, solve time, saving against not optimising. */
export function PlanFigures({ plan, fmt }: { plan: PlanSummary; fmt: Formatter }) {
  const { t } = useI18n();
  const good = plan.status === 'optimal' || plan.status === 'time-limit' || plan.status === 'rounded-relaxation';
  return (
    <>
      <p>
        <Badge tone={plan.status === 'optimal' ? 'good' : good ? 'warn' : 'bad'}>{t(STATUS[plan.status])}</Badge>{' '}
        <small class="muted">{t('plan.decided', { when: fmt.dateTime(plan.decidedAt), from: fmt.time(plan.horizonStart), to: fmt.dateTime(plan.horizonEnd) })}</small>
      </p>
      <dl class="stats">
        <Stat label={t('plan.saving')} value={plan.saving ? fmt.money(plan.saving.cost) : NO_VALUE}
          {...(plan.saving ? { detail: t('plan.costs', { plan: fmt.money(plan.saving.planCost), baseline: fmt.money(plan.saving.baselineCost) }) } : {})} />
        <Stat label={t('plan.gap')} value={plan.relativeGap === null ? NO_VALUE : fmt.percent(plan.relativeGap)}
          {...(plan.absoluteGap === null ? {} : { detail: fmt.money(plan.absoluteGap.toFixed(2)) })} />
        <Stat label={t('plan.solveTime')} value={t('plan.seconds', { seconds: fmt.count(Math.round(plan.timeS * 10) / 10) })}
          detail={t('plan.size', { columns: fmt.count(plan.size.columns), integers: fmt.count(plan.size.integers) })} />
      </dl>
      {plan.problems.length > 0 && <ul aria-label={t('plan.problems')}>{plan.problems.map((p) => <li key={p}>{p}</li>)}</ul>}
    </>
  );
}

const TYPE_NAMES: Record<PlannedAsset['type'], MessageKey> = {
  load: 'plan.typeLoad', producer: 'plan.typeProducer', storage: 'plan.typeStorage', ev: 'plan.typeEv', appliance: 'plan.typeAppliance', 'heat-pump': 'plan.typeHeatPump',
};
export const assetTypeName = (type: PlannedAsset['type']): MessageKey => TYPE_NAMES[type];

const PALETTE = [COLORS.home, COLORS.ownPv, COLORS.community, COLORS.grid, COLORS.toCommunity, '#b5179e', '#7b2cbf', '#e85d04'];

/** Power per step of some lines (W), labelled by step start in the community's zone. */
export function ScheduleChart({ plan, lines, fmt, height = 260 }: { plan: PlanSummary; lines: readonly ForecastLine[]; fmt: Formatter; height?: number }) {
  const { t } = useI18n();
  const option = useMemo(() => forecastOption(stepStarts(plan).map((s) => fmt.bucket(s, 'hour')), lines, undefined, fmt), [plan, lines, fmt]);
  const peak = (values: readonly (number | null)[]) => Math.max(0, ...values.map((v) => Math.abs(v ?? 0)));
  return <Chart option={option} height={height} summary={lines.map((l) => t('forecast.peakOf', { series: l.name, power: fmt.power(peak(l.values)) })).join('; ')} />;
}

/** One line per asset with a device, planned (solid colours in order). */
export function assetLines(assets: readonly PlannedAsset[], t: (key: MessageKey) => string): ForecastLine[] {
  return assets.map((a, k) => ({ name: `${a.name} (${t(assetTypeName(a.type))})`, color: PALETTE[k % PALETTE.length]!, values: a.powerW }));
}

type StartSource = NonNullable<PlannedAsset['initialSoc']>['source'];
const SOC_SOURCE: Record<StartSource, MessageKey> = {
  measured: 'plan.socMeasured', 'previous-plan': 'plan.socPreviousPlan', default: 'plan.socDefault',
};
const EV_SOC_SOURCE: Record<StartSource, MessageKey> = {
  measured: 'plan.evSocMeasured', 'previous-plan': 'plan.evSocPreviousPlan', default: 'plan.evSocDefault',
};
const TANK_SOURCE: Record<StartSource, MessageKey> = {
  measured: 'plan.tankMeasured', 'previous-plan': 'plan.tankPreviousPlan', default: 'plan.tankDefault',
};

/** Where each battery, EV and heat pump tank starts the plan: the state it reported, or what the plan assumed. */
export function DeviceStarts({ assets, fmt }: { assets: readonly PlannedAsset[]; fmt: Formatter }) {
  const { t } = useI18n();
  const lines = assets.flatMap((a) => {
    const key = a.deviceId ?? a.name;
    const at = (measuredAt: string | null): { at?: string } => (measuredAt ? { at: fmt.time(measuredAt) } : {});
    if (a.initialSoc) {
      const messages = a.type === 'ev' ? EV_SOC_SOURCE : SOC_SOURCE;
      return [{ key, text: t(messages[a.initialSoc.source], { name: a.name, soc: fmt.percent(a.initialSoc.soc), ...at(a.initialSoc.measuredAt) }) }];
    }
    if (a.initialTemperature) {
      const { source, temperatureC, measuredAt } = a.initialTemperature;
      return [{ key, text: t(TANK_SOURCE[source], { name: a.name, temperature: fmt.temperature(temperatureC), ...at(measuredAt) }) }];
    }
    return [];
  });
  if (lines.length === 0) return null;
  return (
    <ul aria-label={t('plan.deviceStarts')}>
      {lines.map(({ key, text }) => <li key={key}>{text}</li>)}
    </ul>
  );
}

/** Steps at which the plan had to cross a connection's limit (fixed load or PV beyond it), per direction. */
export function LimitExcessList({ excess, fmt }: { excess: readonly LimitExcess[]; fmt: Formatter }) {
  const { t } = useI18n();
  if (excess.length === 0) return null;
  const lines = excess.flatMap((e) => {
    const site = e.meteringPointId === null ? t('plan.communityConnection') : e.name;
    const at = fmt.dateTime(e.at);
    return [
      ...(e.importW > 0 ? [{ key: `${e.name}-${e.at}-import`, text: t('plan.limitExcessImport', { site, at, power: fmt.power(e.importW) }) }] : []),
      ...(e.exportW > 0 ? [{ key: `${e.name}-${e.at}-export`, text: t('plan.limitExcessExport', { site, at, power: fmt.power(e.exportW) }) }] : []),
    ];
  });
  return (
    <>
      <h3>{t('plan.limitExcess')}</h3>
      <ul aria-label={t('plan.limitExcess')}>{lines.map((l) => <li key={l.key}>{l.text}</li>)}</ul>
    </>
  );
}
