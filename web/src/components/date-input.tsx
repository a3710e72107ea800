import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { formatter, type DateInputKind } from '../lib/format.js';
import type { MessageKey } from '../lib/i18n/index.js';
import { useI18n } from '../lib/i18n/provider.js';

type Problem = 'required' | 'format' | 'calendar' | 'min' | 'max';

const MESSAGES: Record<DateInputKind, Record<Problem, MessageKey>> = {
  date: { required: 'dateInput.errorRequired', format: 'dateInput.errorFormat', calendar: 'dateInput.errorCalendar', min: 'dateInput.errorMin', max: 'dateInput.errorMax' },
  month: { required: 'dateInput.errorRequired', format: 'dateInput.errorFormatMonth', calendar: 'dateInput.errorCalendarMonth', min: 'dateInput.errorMin', max: 'dateInput.errorMax' },
};

export interface DateInputProps {
  /** The visible field's id, for its label. */
  id: string;
  /** The form field that carries the ISO value ("2026-12-01", "2026-12") in FormData; none for a field read through `onValue`. */
  name?: string;
  /** As the native input's: a day or a month. */
  type?: DateInputKind;
  /** The ISO value to show; a new one replaces what is typed. */
  value?: string;
  /** Each change: the ISO value, or "" while the field holds no valid date. */
  onValue?: (iso: string) => void;
  required?: boolean;
  /** The first and the last ISO value the field takes (as the native input's): outside them it says so and reports "". */
  min?: string;
  max?: string;
  /** Ids of hints and errors outside the field, read out with it. */
  'aria-describedby'?: string;
  /** Marked invalid by the form around it (its own checks). */
  invalid?: boolean;
}

/**
 * A day (or a month) typed in the person's locale, "01.12.2026" in German, "01/12/2026" in British
 * English, with the pattern as placeholder; the form gets the ISO value. Chromium's own date input
 * shows the operating system's format whatever the page's language. A text that is no date, or a
 * day outside `min`–`max`, keeps the form from being sent (the field's validity) and says why under
 * the field.
 */
export function DateInput({ id, name, type: kind = 'date', value = '', onValue, required = false, min, max, 'aria-describedby': describedBy, invalid = false }: DateInputProps) {
  const { t, locale } = useI18n();
  const fmt = useMemo(() => formatter({ locale }), [locale]);
  const [text, setText] = useState(() => fmt.dateInput(value, kind));
  // The value last given or reported: only another one from outside replaces the text.
  const known = useRef(value);
  const shownLocale = useRef(locale);
  const [showProblem, setShowProblem] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  /** The ISO value of a text, or what is wrong with it. */
  const check = (candidate: string): { iso: string; problem?: Problem } => {
    const parsed = fmt.parseDateInput(candidate, kind, { min, max });
    if ('error' in parsed) return { iso: '', problem: parsed.error };
    return parsed.iso === '' && required ? { iso: '', problem: 'required' } : { iso: parsed.iso };
  };
  const { iso: valid, problem } = check(text);

  useEffect(() => {
    if (value !== known.current || locale !== shownLocale.current) {
      // A value from outside, or the same day in another locale's form.
      const shown = value !== known.current ? value : valid;
      known.current = value;
      shownLocale.current = locale;
      setText(fmt.dateInput(shown, kind));
      setShowProblem(false);
    }
  }, [value, locale]);

  const pattern = fmt.dateInputPattern(kind, { day: t('dateInput.day'), month: t('dateInput.month'), year: t('dateInput.year') });
  /** Each message's values; a bound is shown as the field shows a day. */
  const values = (shown: Problem): Record<string, string> => {
    switch (shown) {
      case 'required': return { pattern };
      case 'format': return { pattern, example: fmt.dateInput(kind === 'date' ? '2026-12-31' : '2026-12', kind) };
      case 'calendar': return { text: text.trim() };
      case 'min': return { min: fmt.dateInput(min ?? '', kind) };
      case 'max': return { max: fmt.dateInput(max ?? '', kind) };
    }
  };
  const message = problem === undefined ? '' : t(MESSAGES[kind][problem], values(problem));

  // The browser refuses to send the form while the field has a message, and shows it too.
  useEffect(() => input.current?.setCustomValidity(message), [message]);

  const change = (next: string) => {
    setText(next);
    const reported = check(next).iso;
    if (reported === known.current) return;
    known.current = reported;
    onValue?.(reported);
  };

  const errorId = `${id}-error`;
  const shown = showProblem && problem !== undefined;
  return (
    <>
      <input id={id} ref={input} type="text" inputMode="numeric" autoComplete="off" placeholder={pattern} value={text}
        aria-required={required} aria-invalid={invalid || shown}
        aria-describedby={[describedBy, shown ? errorId : undefined].filter(Boolean).join(' ') || undefined}
        onInput={(e) => change(e.currentTarget.value)}
        onBlur={() => setShowProblem(text.trim() !== '')}
        onInvalid={() => setShowProblem(true)} />
      {name && <input type="hidden" name={name} value={valid} />}
      {shown && <small id={errorId} class="error" role="alert">{message}</small>}
    </>
  );
}
