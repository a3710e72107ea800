import { useEffect, useMemo, useState } from 'preact/hooks';
import { useApi, useTicker, type Loaded } from '../lib/hooks.js';
import { PERIODS, periodLabel, periodQuery, type Period, type PeriodQuery } from '../lib/periods.js';
import type { Range } from '../lib/time.js';
import type { Resolution } from '../api/sharing.js';
import { useI18n } from '../lib/i18n/provider.js';

/** New quarter hours arrive all the time; a minute is the finest the figures change by much. */
const REFRESH_MS = 60_000;
/** Nothing yet (a new reader, or the demo just started): look again soon rather than in a minute. */
const EMPTY_REFRESH_MS = 10_000;

export interface PeriodEnergy<T> {
  period: Period;
  setPeriod: (period: Period) => void;
  /** Undefined until the community's time zone is known (today, this month). */
  query: PeriodQuery | undefined;
  energy: Loaded<T>;
}

/**
 * Energy of the chosen period from `url`, kept fresh: the window moves on with the clock and the
 * figures are asked again every minute (every 10 s while `isEmpty` says there is nothing yet).
 */
export function usePeriodEnergy<T>(
  timeZone: string | undefined,
  url: (range: Range, resolution: Resolution) => string,
  isEmpty: (data: T) => boolean,
): PeriodEnergy<T> {
  const [period, setPeriod] = useState<Period>(PERIODS[0]!.id);
  const minute = Math.floor(useTicker(REFRESH_MS) / REFRESH_MS);
  const query = useMemo(() => periodQuery(period, new Date(), timeZone), [period, timeZone, minute]);
  const [empty, setEmpty] = useState(false);
  const energy = useApi<T>(query ? url(query.range, query.resolution) : null, { refreshMs: empty ? EMPTY_REFRESH_MS : REFRESH_MS });
  useEffect(() => {
    if (energy.data !== undefined) setEmpty(isEmpty(energy.data));
  }, [energy.data]);
  return { period, setPeriod, query, energy };
}

/** The section's heading (the period's name) and the buttons that choose the period. */
export function PeriodHead({ id, period, onChange }: { id: string; period: Period; onChange: (period: Period) => void }) {
  const { t } = useI18n();
  return (
    <div class="section-head">
      <h2 id={id}>{t(periodLabel(period))}</h2>
      <div role="group" aria-label={t('period.group')} class="toggle">
        {PERIODS.map((p) => (
          <button key={p.id} type="button" aria-pressed={period === p.id} onClick={() => onChange(p.id)}>{t(p.label)}</button>
        ))}
      </div>
    </div>
  );
}
