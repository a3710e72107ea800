/** Forecast answers made ready to draw: a member's points summed, one kind picked. */
import type { Forecast, ForecastSeries, ForecastValue } from '@gridshare/contract/forecast';

export type Kind = ForecastSeries['kind'];

/** The values of one kind, or undefined when the answer has none. */
export const seriesOf = (forecast: Forecast | undefined, kind: Kind): ForecastValue[] | undefined =>
  forecast?.series.find((s) => s.kind === kind)?.values;

/** P50 per step summed over several points' forecasts of one kind (null where none of them has a value). */
export function sumP50(forecasts: readonly Forecast[], kind: Kind): { starts: string[]; p50W: (number | null)[] } | undefined {
  const all = forecasts.map((f) => seriesOf(f, kind)).filter((v): v is ForecastValue[] => v !== undefined);
  if (all.length === 0) return undefined;
  const longest = all.reduce((a, b) => (b.length > a.length ? b : a));
  return {
    starts: longest.map((v) => v.start),
    p50W: longest.map((_, k) => {
      const known = all.map((values) => values[k]?.p50W).filter((w): w is number => typeof w === 'number');
      return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
    }),
  };
}
