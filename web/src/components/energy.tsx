import { useMemo } from 'preact/hooks';
import type { EnergyBucket, EnergyFigures } from '@gridshare/contract/sharing';
import { bucketLabels, stackedOption } from '../lib/chart-options.js';
import { stackedBySource, stackedTotals } from '../lib/energy.js';
import type { Formatter } from '../lib/format.js';
import type { MessageKey } from '../lib/i18n/index.js';
import { useI18n } from '../lib/i18n/provider.js';
import { Chart } from './chart.js';

/** Set when the first stacked chart of a page load is drawn. */
export const ENERGY_CHART_MARK = 'gridshare:energy-by-source';

export const isEmptyEnergy = (totals: EnergyFigures) => totals.consumptionWh === 0 && totals.productionWh === 0;

/**
 * Energy by source per bar: consumption stacked upwards (own PV, community, grid), what left
 * the site below the axis. The screen-reader summary is added up from the bars themselves.
 */
export function StackedChart({ series, unit, fmt }: { series: readonly EnergyBucket[]; unit: 'hour' | 'day'; fmt: Formatter }) {
  const { t } = useI18n();
  const stacked = useMemo(() => stackedBySource(series, Date.now()), [series]);
  const option = useMemo(() => stackedOption(stacked, bucketLabels(stacked.starts, unit, fmt), fmt, t), [stacked, unit, fmt, t]);
  const sums = stackedTotals(stacked);
  const missing = stacked.flagged.filter((f) => f.quality === 'missing').length;
  const estimated = stacked.flagged.filter((f) => f.quality === 'estimated' || f.quality === 'partial').length;
  const provisional = stacked.flagged.filter((f) => f.provisional).length;
  const notes = [
    missing > 0 && t('energy.noteMissing', { count: missing, unit }),
    estimated > 0 && t('energy.noteEstimated', { count: estimated, unit }),
    provisional > 0 && t('energy.noteProvisional', { count: provisional, unit }),
  ].filter(Boolean);
  return (
    <>
      <Chart
        option={option}
        mark={ENERGY_CHART_MARK}
        summary={t('energy.chartSummary', {
          selfConsumed: fmt.energy(sums.selfConsumedWh), fromCommunity: fmt.energy(sums.fromCommunityWh), fromGrid: fmt.energy(sums.fromGridWh),
          toCommunity: fmt.energy(sums.toCommunityWh), toGrid: fmt.energy(sums.toGridWh),
        })}
      />
      {notes.length > 0 && <p class="muted note">{notes.join(' ')}</p>}
    </>
  );
}

const ROWS: [keyof EnergyFigures, MessageKey, boolean][] = [
  ['consumptionWh', 'energy.consumption', false],
  ['selfConsumedWh', 'energy.fromOwnPv', true],
  ['fromCommunityWh', 'energy.fromCommunity', true],
  ['fromGridWh', 'energy.fromGrid', true],
  ['productionWh', 'energy.production', false],
  ['toCommunityWh', 'energy.toCommunity', true],
  ['toGridWh', 'energy.toGrid', true],
];

/** The seven figures of a period; each cell carries its exact Wh as machine-readable data. */
export function EnergyTable({ totals, fmt, caption }: { totals: EnergyFigures; fmt: Formatter; caption: string }) {
  const { t } = useI18n();
  return (
    <table class="figures" data-testid="energy-totals">
      <caption>{caption}</caption>
      <tbody>
        {ROWS.map(([field, label, part]) => (
          <tr key={field} class={part ? 'part' : undefined}>
            <th scope="row">{t(label)}</th>
            <td data-field={field}><data value={String(totals[field])}>{fmt.energy(totals[field])}</data></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
