import { useEffect, useMemo, useState } from 'preact/hooks';
import { useApi, useTicker, type Loaded } from '../lib/hooks.js';
import type { Answer, Call } from '../api/client.js';
import { PERIODS, periodLabel, periodQuery, type Period, type PeriodQuery } from '../lib/periods.js';
import { useI18n } from '../lib/i18n/provider.js';

/** New quarter hours arrive all the time; a minute is the finest the figures change by much. */
const REFRESH_MS = 60_000;
/** Nothing yet (a new reader, or the demo just started): look again soon rather than in a minute. */
const EMPTY_REFRESH_MS = 10_000;

/** The routes that answer a period's energy of a member or a community (by its id). */
type EnergyRoute = 'memberEnergy' | 'communityEnergy';

export interface PeriodEnergy<N extends EnergyRoute> {
  period: Period;
  setPeriod: (period: Period) => void;
  /** Undefined until the community's time zone is known (today, this month). */
  query: PeriodQuery | undefined;
  energy: Loaded<Answer<N>>;
}

/**
 * Energy of the chosen period from route `name` for `id`, kept fresh: the window moves on with the clock and the
 * figures are asked again every minute (every 10 s while `isEmpty` says there is nothing yet).
 */
export function usePeriodEnergy<N extends EnergyRoute>(
  timeZone: string | undefined,
  name: N,
  id: string,
  isEmpty: (data: Answer<N>) => boolean,
): PeriodEnergy<N> {
  const [period, setPeriod] = useState<Period>(PERIODS[0]!.id);
  const minute = Math.floor(useTicker(REFRESH_MS) / REFRESH_MS);
  const query = useMemo(() => periodQuery(period, new Date(), timeZone), [period, timeZone, minute]);
  const [empty, setEmpty] = useState(false);
  // Both energy routes take the same input: an id, a range and a resolution.
  const input: Call<'memberEnergy'> | null = query ? { params: { id }, query: { ...query.range, resolution: query.resolution } } : null;
  const energy = useApi(name, input as Call<N> | null, { refreshMs: empty ? EMPTY_REFRESH_MS : REFRESH_MS });
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
