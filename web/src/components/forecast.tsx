import { useEffect, useMemo, useState } from 'preact/hooks';
import type { AccuracyRow, BestHours, Forecast } from '@gridshare/contract/forecast';
import { request } from '../api/client.js';
import { forecastOption, type ForecastLine } from '../lib/chart-options.js';
import { seriesOf } from '../lib/forecast.js';
import { NO_VALUE, type Formatter } from '../lib/format.js';
import type { Loaded } from '../lib/hooks.js';
import type { MessageKey, Translate } from '../lib/i18n/index.js';
import { useI18n } from '../lib/i18n/provider.js';
import { localDaysFrom, type Range } from '../lib/time.js';
import { Chart } from './chart.js';

/** Forecasts of several metering points at once (a member's sites), hourly. */
export function usePointForecasts(pointIds: readonly string[], range: Range): Loaded<Forecast[]> {
  const key = `${pointIds.join(',')}|${range.from}|${range.to}`;
  const [state, setState] = useState<{ key: string; data: Forecast[] | undefined; error: unknown }>({ key: '', data: undefined, error: undefined });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    Promise.all(pointIds.map((id) => request('meteringPointForecast', { params: { id }, query: { from: range.from, to: range.to, resolution: 60 } }, { signal: controller.signal })))
      .then((data) => setState({ key, data, error: undefined }), (error: unknown) => {
        if (!controller.signal.aborted) setState({ key, data: undefined, error });
      });
    return () => controller.abort();
  }, [key, generation]);
  const current = state.key === key;
  return { data: current ? state.data : undefined, error: current ? state.error : undefined, loading: !current, reload: () => setGeneration((g) => g + 1) };
}

/** Lines of P50s and the band of one series, hourly, with a screen-reader summary. */
export function ForecastChart({ starts, lines, band, fmt, height = 260 }: {
  starts: readonly string[];
  lines: readonly ForecastLine[];
  band?: { name: string; color: string; forecast: Forecast; kind: 'surplus' | 'production' | 'consumption' } | undefined;
  fmt: Formatter;
  height?: number;
}) {
  const { t } = useI18n();
  const option = useMemo(() => {
    const values = band ? seriesOf(band.forecast, band.kind) ?? [] : [];
    return forecastOption(starts.map((s) => fmt.bucket(s, 'hour')), lines,
      band ? { name: band.name, color: band.color, p10: values.map((v) => v.p10W ?? null), p90: values.map((v) => v.p90W ?? null) } : undefined, fmt);
  }, [starts, lines, band, fmt]);
  const peak = (values: readonly (number | null)[]) => Math.max(0, ...values.map((v) => v ?? 0));
  const summary = lines.map((l) => t('forecast.peakOf', { series: l.name, power: fmt.power(peak(l.values)) })).join('; ');
  return <Chart option={option} summary={summary} height={height} />;
}

const DAY_WORDS: MessageKey[] = ['forecast.today', 'forecast.tomorrow'];

/** "between 11:00 and 14:00 tomorrow" in the community's zone. */
function when(fmt: Formatter, t: Translate, start: string, end: string): string {
  const days = localDaysFrom(new Date(), new Date(start), fmt.context.timeZone);
  const day = DAY_WORDS[days] ? t(DAY_WORDS[days]!) : fmt.date(start);
  return t('forecast.between', { from: fmt.bucket(start, 'hour'), to: fmt.bucket(end, 'hour'), day });
}

/** The best-hours recommendation as one clear sentence. */
export function BestHoursSentence({ best, fmt }: { best: BestHours; fmt: Formatter }) {
  const { t } = useI18n();
  const r = best.recommendation;
  let text: string;
  if (!r) text = t('forecast.noBestHours');
  else if (r.reason === 'surplus') {
    const window = best.surplus.find((w) => w.start === r.start);
    text = t('forecast.bestSurplus', { when: when(fmt, t, r.start, r.end), energy: fmt.energy(window?.surplusWh ?? 0) });
  } else if (r.reason === 'tariff') {
    const window = best.cheapest.find((w) => w.start === r.start);
    text = t('forecast.bestTariff', { when: when(fmt, t, r.start, r.end), price: window ? fmt.pricePerKWh(window.gridPrice) : NO_VALUE });
  } else {
    text = t('forecast.bestOwnProduction', { when: when(fmt, t, r.start, r.end) });
  }
  return <p class="recommendation" data-testid="best-hours"><strong>{t('forecast.bestHours')}</strong>{' '}{text}</p>;
}

const KIND_NAMES: Record<AccuracyRow['kind'], MessageKey> = {
  consumption: 'energy.consumption', production: 'forecast.production', heat: 'forecast.heat', surplus: 'forecast.surplus',
};
const HORIZON_NAMES: Record<AccuracyRow['horizon'], MessageKey> = { intraday: 'forecast.intraday', 'day-ahead': 'forecast.dayAhead' };

export const kindName = (kind: AccuracyRow['kind'], t: Translate) => t(KIND_NAMES[kind]);

/** The rolling accuracy per series, model and horizon. */
export function AccuracyTable({ rows, days, fmt }: { rows: readonly AccuracyRow[]; days: number; fmt: Formatter }) {
  const { t } = useI18n();
  const number = (v: number | null, digits = 2) => (v === null ? NO_VALUE : fmt.count(Math.round(v * 10 ** digits) / 10 ** digits));
  return (
    <div class="table-scroll">
      <table data-testid="forecast-accuracy">
        <caption class="sr-only">{t('forecast.accuracyCaption', { days })}</caption>
        <thead>
          <tr>
            <th scope="col">{t('forecast.series')}</th><th scope="col">{t('forecast.kind')}</th><th scope="col">{t('forecast.horizon')}</th>
            <th scope="col">{t('forecast.model')}</th><th scope="col" class="num">{t('forecast.mae')}</th><th scope="col" class="num">{t('forecast.rmse')}</th>
            <th scope="col" class="num">{t('forecast.nrmse')}</th><th scope="col" class="num">{t('forecast.skill')}</th>
            <th scope="col" class="num">{t('forecast.coverage')}</th><th scope="col" class="num">{t('forecast.count')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.seriesId}/${r.kind}/${r.model}/${r.horizon}`}>
              <td>{r.scope === 'community' ? t('forecast.wholeCommunity') : r.name}</td>
              <td>{kindName(r.kind, t)}</td>
              <td>{t(HORIZON_NAMES[r.horizon])}</td>
              <td>{r.model}</td>
              <td class="num">{r.maeW === null ? NO_VALUE : fmt.power(r.maeW)}</td>
              <td class="num">{r.rmseW === null ? NO_VALUE : fmt.power(r.rmseW)}</td>
              <td class="num">{number(r.nrmse)}</td>
              <td class="num">{number(r.skill)}</td>
              <td class="num">{fmt.percent(r.coverage)}</td>
              <td class="num">{fmt.count(r.count)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
