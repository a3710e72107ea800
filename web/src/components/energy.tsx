import { useMemo } from 'preact/hooks';
import type { EnergyBucket, EnergyFigures } from '@gridshare/contract/sharing';
import { bucketLabels, stackedOption } from '../lib/chart-options.js';
import { compareFigures, FIGURES, stackedBySource, stackedTotals } from '../lib/energy.js';
import type { Formatter } from '../lib/format.js';
import type { BarUnit } from '../lib/periods.js';
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
export function StackedChart({ series, unit, fmt }: { series: readonly EnergyBucket[]; unit: BarUnit; fmt: Formatter }) {
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

/** Each figure's name, and whether it is a part of the figure above it (indented). */
const FIGURE_ROWS: Record<keyof EnergyFigures, [MessageKey, boolean]> = {
  consumptionWh: ['energy.consumption', false],
  selfConsumedWh: ['energy.fromOwnPv', true],
  fromCommunityWh: ['energy.fromCommunity', true],
  fromGridWh: ['energy.fromGrid', true],
  productionWh: ['energy.production', false],
  toCommunityWh: ['energy.toCommunity', true],
  toGridWh: ['energy.toGrid', true],
};
const rowClass = (field: keyof EnergyFigures) => (FIGURE_ROWS[field][1] ? 'part' : undefined);

/** The seven figures of a period; each cell carries its exact Wh as machine-readable data. */
export function EnergyTable({ totals, fmt, caption }: { totals: EnergyFigures; fmt: Formatter; caption: string }) {
  const { t } = useI18n();
  return (
    <table class="figures" data-testid="energy-totals">
      <caption>{caption}</caption>
      <tbody>
        {FIGURES.map((field) => (
          <tr key={field} class={rowClass(field)}>
            <th scope="row">{t(FIGURE_ROWS[field][0])}</th>
            <td data-field={field}><data value={String(totals[field])}>{fmt.energy(totals[field])}</data></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The figures of a period beside those of the period before (`currentName`, `previousName`: the
 * two spans as text), with the exact difference in Wh and the change relative to before;
 * `running`: the period has not ended, so both are taken up to the same point.
 */
export function ComparisonTable({ current, previous, currentName, previousName, running, fmt }: {
  current: EnergyFigures; previous: EnergyFigures; currentName: string; previousName: string; running: boolean; fmt: Formatter;
}) {
  const { t } = useI18n();
  const wh = (value: number, text: string) => <data value={String(value)}>{text}</data>;
  return (
    <div class="table-scroll">
      <table class="figures comparison stack" data-testid="energy-comparison">
        <caption>{running ? t('compare.captionRunning') : t('compare.caption')}</caption>
        <thead>
          <tr>
            <td />
            <th scope="col" class="num">{currentName}</th>
            <th scope="col" class="num">{previousName}</th>
            <th scope="col" class="num">{t('compare.difference')}</th>
            <th scope="col" class="num">{t('compare.change')}</th>
          </tr>
        </thead>
        <tbody>
          {compareFigures(current, previous).map((row) => (
            <tr key={row.field} class={rowClass(row.field)} data-field={row.field}>
              <th scope="row">{t(FIGURE_ROWS[row.field][0])}</th>
              <td class="num" data-column="current" data-label={currentName}>{wh(row.currentWh, fmt.energy(row.currentWh))}</td>
              <td class="num" data-column="previous" data-label={previousName}>{wh(row.previousWh, fmt.energy(row.previousWh))}</td>
              <td class="num" data-column="difference" data-label={t('compare.difference')}>{wh(row.differenceWh, fmt.energyDifference(row.differenceWh))}</td>
              <td class="num" data-column="change" data-label={t('compare.change')}>{fmt.percentChange(row.change)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
