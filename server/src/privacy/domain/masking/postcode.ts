/**
 * The postcode of a free-text address, by the community's country: what is left of an address
 * when a regulator needs the area but not the house. The postcode is the one followed by the
 * town's name ("Hauptstraße 12, 1010 Wien"), so house numbers are not mistaken for one; an
 * address without a recognisable postcode yields the empty string, never the address.
 */

const FOUR_DIGITS = '\\d{4}';
const FIVE_DIGITS = '\\d{5}';

/** Postcode patterns (without anchors) for the countries Gridshare has presets for. */
const POSTCODE_PATTERNS: Readonly<Record<string, string>> = {
  AT: FOUR_DIGITS,
  BE: FOUR_DIGITS,
  CH: FOUR_DIGITS,
  DE: FIVE_DIGITS,
  ES: FIVE_DIGITS,
  FR: FIVE_DIGITS,
  IT: FIVE_DIGITS,
  NL: '\\d{4} ?[A-Z]{2}',
};

export const postcodeCountries = (): string[] => Object.keys(POSTCODE_PATTERNS);

const compiled = new Map<string, RegExp>();

function patternFor(country: string): RegExp | undefined {
  let pattern = compiled.get(country);
  if (!pattern) {
    const code = POSTCODE_PATTERNS[country];
    if (code === undefined) return undefined;
    // Start of text or a separator, an optional country prefix ("A-", "D-"), the code, then the
    // town: white space and a letter.
    pattern = new RegExp(`(?:^|[\\s,;])(?:[A-Z]{1,2}-)?(${code})\\s+\\p{L}`, 'gu');
    compiled.set(country, pattern);
  }
  return pattern;
}

/** The last postcode in `address` (the town line comes last), or '' when there is none. */
export function postcodeOf(address: string, country: string): string {
  const pattern = patternFor(country);
  if (!pattern) throw new RangeError(`no postcode pattern for country "${country}" (known: ${postcodeCountries().join(', ')})`);
  let found = '';
  for (const match of address.matchAll(pattern)) found = match[1]!;
  // "1015CJ" and "1015 CJ" are one Dutch postcode: written the one way.
  return country === 'NL' && found !== '' ? `${found.slice(0, 4)} ${found.slice(-2)}` : found;
}
