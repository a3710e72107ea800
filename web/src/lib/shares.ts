/**
 * Static shares as the API takes them: exact decimal fractions with at most 9 places, "0.25".
 * Added up in whole billionths (10,000 members × 10⁹ stays far below 2⁵³), so Σ is exact.
 */
const PLACES = 9;
const ONE = 10 ** PLACES;

/** What an input accepts (the API's own pattern): 0 to 1 with at most 9 places. */
export const SHARE_PATTERN = '0(\\.\\d{1,9})?|1(\\.0{1,9})?';

const SHARE = new RegExp(`^(?:${SHARE_PATTERN})$`);

/** Billionths of `text`, or null when it is not such a share. */
export function shareUnits(text: string): number | null {
  if (!SHARE.test(text)) return null;
  const [whole = '0', fraction = ''] = text.split('.');
  return Number(whole) * ONE + Number(fraction.padEnd(PLACES, '0'));
}

/** Billionths as the shortest exact decimal: 250000000 → "0.25". */
export function formatUnits(units: number): string {
  const whole = Math.floor(units / ONE);
  const fraction = String(units % ONE).padStart(PLACES, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

/** Σ of the filled-in shares (blank ones are no share), and how many are not valid shares. */
export function sumShares(texts: readonly string[]): { units: number; invalid: number } {
  let units = 0;
  let invalid = 0;
  for (const text of texts) {
    if (text.trim() === '') continue;
    const value = shareUnits(text.trim());
    if (value === null) invalid += 1;
    else units += value;
  }
  return { units, invalid };
}

export const ONE_UNITS = ONE;

/** `count` equal shares that add up to at most 1 (the few billionths left over go to the grid). */
export function equalShares(count: number): string[] {
  return count === 0 ? [] : Array.from({ length: count }, () => formatUnits(Math.floor(ONE / count)));
}
