import { useEffect, useMemo, useState } from 'preact/hooks';
import { useApi, useTicker, type Loaded } from '../lib/hooks.js';
import type { Answer, Call } from '../api/client.js';
import type { Formatter } from '../lib/format.js';
import type { MessageKey } from '../lib/i18n/index.js';
import {
  defaultSpan, EARLIEST_DAY, MAX_SPAN_DAYS, PERIODS, periodLabel, periodQuery, spanError,
  type DaySpan, type Period, type PeriodQuery, type SpanError,
} from '../lib/periods.js';
import { today } from '../lib/time.js';
import { useI18n } from '../lib/i18n/provider.js';
import { DateInput } from './date-input.js';

/** New quarter hours arrive all the time; a minute is the finest the figures change by much. */
const REFRESH_MS = 60_000;
/** Nothing yet (a new reader, or the demo just started): look again soon rather than in a minute. */
const EMPTY_REFRESH_MS = 10_000;

/** The routes that answer a period's energy of a member or a community (by its id). */
type EnergyRoute = 'memberEnergy' | 'communityEnergy';

export interface PeriodEnergy<N extends EnergyRoute> {
  period: Period;
  setPeriod: (period: Period) => void;
  /** The days shown when the period is 'custom' (set only to a span without a SpanError). */
  span: DaySpan | undefined;
  setSpan: (span: DaySpan) => void;
  /** The community's zone, once known. */
  timeZone: string | undefined;
  /** Undefined until the community's time zone is known (today, this month, this year, a custom span). */
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
  const [period, choosePeriod] = useState<Period>(PERIODS[0]!.id);
  const [span, setSpan] = useState<DaySpan | undefined>(undefined);
  const minute = Math.floor(useTicker(REFRESH_MS) / REFRESH_MS);
  const query = useMemo(() => periodQuery(period, new Date(), timeZone, span), [period, timeZone, span, minute]);
  const [empty, setEmpty] = useState(false);
  // Both energy routes take the same input: an id, a range and a resolution.
  const input: Call<'memberEnergy'> | null = query ? { params: { id }, query: { ...query.range, resolution: query.resolution } } : null;
  const energy = useApi(name, input as Call<N> | null, { refreshMs: empty ? EMPTY_REFRESH_MS : REFRESH_MS });
  useEffect(() => {
    if (energy.data !== undefined) setEmpty(isEmpty(energy.data));
  }, [energy.data]);
  const setPeriod = (next: Period) => {
    // A custom span starts as the last seven days, so choosing it shows figures at once.
    if (next === 'custom' && !span && timeZone) setSpan(defaultSpan(new Date(), timeZone));
    choosePeriod(next);
  };
  return { period, setPeriod, span, setSpan, timeZone, query, energy };
}

const SPAN_ERRORS: Record<SpanError, MessageKey> = {
  invalid: 'period.errorInvalid',
  order: 'period.errorOrder',
  future: 'period.errorFuture',
  tooLong: 'period.errorTooLong',
};

/**
 * The section's heading (the period's name, or a custom span's days), the buttons that choose
 * the period, and for a custom span the two days, checked before anything is asked.
 */
export function PeriodHead<N extends EnergyRoute>({ id, energy, fmt }: { id: string; energy: PeriodEnergy<N>; fmt: Formatter }) {
  const { t } = useI18n();
  const { period, setPeriod, span, query } = energy;
  const heading = period === 'custom' && span && query ? fmt.span(query.range.from, query.range.to, false) : t(periodLabel(period));
  return (
    <>
      <div class="section-head">
        <h2 id={id}>{heading}</h2>
        <div role="group" aria-label={t('period.group')} class="toggle">
          {PERIODS.map((p) => (
            <button key={p.id} type="button" aria-pressed={period === p.id} onClick={() => setPeriod(p.id)}>{t(p.label)}</button>
          ))}
        </div>
      </div>
      {period === 'custom' && energy.timeZone && span && <SpanForm span={span} timeZone={energy.timeZone} onChange={energy.setSpan} />}
    </>
  );
}

/** First and last day of a custom span (date inputs, in the person's locale); applied once both are valid. */
function SpanForm({ span, timeZone, onChange }: { span: DaySpan; timeZone: string; onChange: (span: DaySpan) => void }) {
  const { t } = useI18n();
  const [draft, setDraft] = useState(span);
  const [error, setError] = useState<SpanError | undefined>(undefined);
  const last = today(new Date(), timeZone);
  const submit = (event: Event) => {
    event.preventDefault();
    // A day a field refuses (no date, before the API's dates begin, after today) is said under that
    // field (its invalid event); the span as a whole is judged only once both fields take their day.
    if (!(event.currentTarget as HTMLFormElement).checkValidity()) {
      setError(undefined);
      return;
    }
    const problem = spanError(draft, new Date(), timeZone);
    setError(problem);
    if (!problem) onChange(draft);
  };
  const field = (name: keyof DaySpan, label: MessageKey) => (
    <div class="field">
      <label for={`span-${name}`}>{t(label)}</label>
      <DateInput id={`span-${name}`} name={name} required min={EARLIEST_DAY} max={last} value={draft[name]}
        invalid={error !== undefined} aria-describedby={error ? 'span-error' : undefined}
        onValue={(day) => setDraft((current) => ({ ...current, [name]: day }))} />
    </div>
  );
  return (
    <form class="inline-form span-form" onSubmit={submit} noValidate aria-label={t('period.customForm')}>
      {field('from', 'period.from')}
      {field('to', 'period.to')}
      <button type="submit">{t('period.show')}</button>
      {error && <p id="span-error" class="error" role="alert">{t(SPAN_ERRORS[error], { days: MAX_SPAN_DAYS })}</p>}
    </form>
  );
}
