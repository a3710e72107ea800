import { useMemo } from 'preact/hooks';
import type { EnergyBucket, EnergyFigures } from '../api/sharing.js';
import { bucketLabels, stackedOption } from '../lib/chart-options.js';
import { stackedBySource, stackedTotals } from '../lib/energy.js';
import type { Formatter } from '../lib/format.js';
import { Chart } from './chart.js';

/** Set when the first stacked chart of a page load is drawn. */
export const ENERGY_CHART_MARK = 'gridshare:energy-by-source';

export const isEmptyEnergy = (totals: EnergyFigures) => totals.consumptionWh === 0 && totals.productionWh === 0;

/**
 * Energy by source per bar: consumption stacked upwards (own PV, community, grid), what left
 * the site below the axis. The screen-reader summary is added up from the bars themselves.
 */
export function StackedChart({ series, unit, fmt }: { series: readonly EnergyBucket[]; unit: 'hour' | 'day'; fmt: Formatter }) {
  const stacked = useMemo(() => stackedBySource(series, Date.now()), [series]);
  const option = useMemo(() => stackedOption(stacked, bucketLabels(stacked.starts, unit, fmt), fmt), [stacked, unit, fmt]);
  const sums = stackedTotals(stacked);
  const count = (n: number) => `${n} past ${n === 1 ? unit : unit === 'hour' ? 'hours' : 'days'}`;
  const missing = stacked.flagged.filter((f) => f.quality === 'missing').length;
  const estimated = stacked.flagged.filter((f) => f.quality === 'estimated' || f.quality === 'partial').length;
  const provisional = stacked.flagged.filter((f) => f.provisional).length;
  const notes = [
    missing > 0 && `No readings for ${count(missing)}.`,
    estimated > 0 && `${count(estimated)} ${estimated === 1 ? 'includes' : 'include'} estimated or missing quarter hours.`,
    provisional > 0 && `${count(provisional)} ${provisional === 1 ? 'was' : 'were'} shared while some member's data was missing: shared again when it arrives.`,
  ].filter(Boolean);
  return (
    <>
      <Chart
        option={option}
        mark={ENERGY_CHART_MARK}
        summary={`Consumption by source: ${fmt.energy(sums.selfConsumedWh)} own PV, ${fmt.energy(sums.fromCommunityWh)} from the community, ${fmt.energy(sums.fromGridWh)} from the grid. `
          + `Fed in: ${fmt.energy(sums.toCommunityWh)} to the community, ${fmt.energy(sums.toGridWh)} to the grid.`}
      />
      {notes.length > 0 && <p class="muted note">{notes.join(' ')}</p>}
    </>
  );
}

const ROWS: [keyof EnergyFigures, string, boolean][] = [
  ['consumptionWh', 'Consumption', false],
  ['selfConsumedWh', 'from own PV', true],
  ['fromCommunityWh', 'from the community', true],
  ['fromGridWh', 'from the grid', true],
  ['productionWh', 'Production', false],
  ['toCommunityWh', 'to the community', true],
  ['toGridWh', 'to the grid', true],
];

/** The seven figures of a period; each cell carries its exact Wh as machine-readable data. */
export function EnergyTable({ totals, fmt, caption }: { totals: EnergyFigures; fmt: Formatter; caption: string }) {
  return (
    <table class="figures" data-testid="energy-totals">
      <caption>{caption}</caption>
      <tbody>
        {ROWS.map(([field, label, part]) => (
          <tr key={field} class={part ? 'part' : undefined}>
            <th scope="row">{label}</th>
            <td data-field={field}><data value={String(totals[field])}>{fmt.energy(totals[field])}</data></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
