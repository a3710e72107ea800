import { BadRequestError } from '../../kernel/errors.js';
import { parseDecimal, toFixedUnits } from '../../kernel/decimal.js';

/**
 * VAT for energy-community invoices. Categories are those of the European e-invoicing standard
 * EN 16931 (UNCL 5305), so phase 2 can emit XRechnung/ZUGFeRD/Factur-X from the same model:
 * S standard rate, AE reverse charge, E exempt (small-business scheme), O outside the scope of VAT.
 */
export type VatCategory = 'S' | 'AE' | 'E' | 'O';

export const VAT_COUNTRIES = ['AT', 'DE', 'FR', 'ES', 'IT', 'NL', 'BE'] as const;
export type VatCountry = (typeof VAT_COUNTRIES)[number];

/** The tariff components an invoice line can bill (the statement's line codes). */
export const TARIFF_COMPONENTS = ['community-energy', 'grid-fee-reduction', 'community-sales'] as const;
export type TariffComponent = (typeof TARIFF_COMPONENTS)[number];

export interface VatCountryPreset {
  readonly country: VatCountry;
  /** The standard rate in percent (2026). Reduced rates for household electricity (IT 10 %, BE 6 %) are set per component. */
  readonly standardRate: string;
  /** Message keys of the legal notes, texts in billing/domain/messages/*.json. */
  readonly reverseChargeNote: string;
  readonly smallBusinessNote: string;
}

const preset = (country: VatCountry, standardRate: string): VatCountryPreset => ({
  country,
  standardRate,
  reverseChargeNote: `invoice.note.reverseCharge.${country}`,
  smallBusinessNote: `invoice.note.smallBusiness.${country}`,
});

const PRESETS: ReadonlyMap<VatCountry, VatCountryPreset> = new Map(
  ([['AT', '20'], ['DE', '19'], ['FR', '20'], ['ES', '21'], ['IT', '22'], ['NL', '21'], ['BE', '21']] as const)
    .map(([country, rate]) => [country, preset(country, rate)]),
);

export const isVatCountry = (value: string): value is VatCountry => PRESETS.has(value as VatCountry);

export function vatPreset(country: string): VatCountryPreset {
  const found = PRESETS.get(country as VatCountry);
  if (!found) throw new BadRequestError(`no VAT preset for country "${country}" (known: ${VAT_COUNTRIES.join(', ')})`, 'community/vat/country');
  return found;
}

/**
 * How the community invoices its own supplies (energy it delivers, and the grid-fee reduction
 * passed on with it): VAT-registered with a rate per component, exempt under its country's
 * small-business scheme, or not an entrepreneur at all (no VAT shown).
 */
export interface CommunityVat {
  readonly country: VatCountry;
  readonly regime: 'registered' | 'small-business' | 'not-registered';
  readonly vatId?: string;
  /** Percent per component, e.g. `{ 'community-energy': '10' }` for Italian households; the rest use the standard rate. */
  readonly rates?: Partial<Record<TariffComponent, string>>;
}

/**
 * How a producing member's sales to the community are taxed; the community bills them to
 * itself (self-billing). A private household is outside the scope of VAT; a small business is
 * exempt; a registered business charges VAT, or the community owes it by reverse charge where
 * electricity supplied to a reseller falls under the domestic reverse charge (`reverseCharge`).
 */
export interface MemberVat {
  readonly regime: 'private' | 'small-business' | 'registered';
  readonly vatId?: string;
  readonly reverseCharge?: boolean;
}

export interface LineVat {
  readonly category: VatCategory;
  /** Percent with up to 2 decimals ("20", "5.5"); "0" outside category S. */
  readonly rate: string;
}

/** Percent "5.5" → 550 (hundredths of a percent): the exact form VAT is computed with. */
export function parseRate(text: string, field: string): bigint {
  const decimal = parseDecimal(text, { integerDigits: 2, fractionDigits: 2, signed: false });
  const hundredths = decimal && toFixedUnits(decimal, 2);
  if (hundredths === undefined || hundredths > 10_000n) throw new BadRequestError(`not a VAT rate in percent with at most 2 decimals: "${text}"`, field);
  return hundredths;
}

/** The VAT treatment of one invoice line, by which party supplies the energy. */
export function lineVat(component: TariffComponent, community: CommunityVat, member: MemberVat): LineVat {
  const zero = (category: VatCategory): LineVat => ({ category, rate: '0' });
  if (component === 'community-sales') {
    if (member.regime === 'private') return zero('O');
    if (member.regime === 'small-business') return zero('E');
    if (member.reverseCharge) return zero('AE');
  } else {
    if (community.regime === 'not-registered') return zero('O');
    if (community.regime === 'small-business') return zero('E');
  }
  const rate = community.rates?.[component] ?? vatPreset(community.country).standardRate;
  parseRate(rate, `community/vat/rates/${component}`);
  return { category: 'S', rate };
}

/**
 * The VAT of a flexibility reward (flex's `flex-reward` line): the member is paid for a service they
 * supplied to the community (the aggregator) — moving their devices for the grid operator — so, as for
 * their energy sales (`community-sales`), the community bills it to itself on their behalf and the VAT
 * follows the member: a private household is outside the scope of VAT, a small business is exempt, a
 * registered business charges the standard rate of the community's VAT country (a service between two
 * businesses of one country, not electricity: no domestic reverse charge).
 */
export function rewardVat(community: CommunityVat, member: MemberVat): LineVat {
  if (member.regime === 'private') return { category: 'O', rate: '0' };
  if (member.regime === 'small-business') return { category: 'E', rate: '0' };
  return { category: 'S', rate: vatPreset(community.country).standardRate };
}

/**
 * The VAT of one category and rate: the taxable amount (sum of the rounded line nets, minor
 * units) times the rate, rounded once, half away from zero. This is EN 16931's rule (BT-117 per
 * VAT breakdown) and what Art. 226 of the VAT Directive asks for: the VAT payable per rate.
 */
export function vatOf(taxableMinor: bigint, rateHundredths: bigint): bigint {
  const numerator = taxableMinor * rateHundredths;
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  const rounded = (magnitude + 5_000n) / 10_000n;
  return negative ? -rounded : rounded;
}
