import { isValidBIC, isValidIBAN, electronicFormatIBAN } from 'ibantools';
import { BadRequestError } from '../../kernel/errors.js';
import { formatFixed } from '../../kernel/decimal.js';
import { formatMinor, minorDigits, parseFixed } from '../../kernel/money.js';
import { lineVat, parseRate, rewardVat, vatOf, vatPreset, type CommunityVat, type LineVat, type MemberVat, type TariffComponent, type VatCategory } from './vat.js';
import { parseInvoiceNumber } from './invoice-number.js';

/**
 * A statement as an invoice: the document model a PDF, an e-mail or an e-invoice is rendered
 * from. Pure; every text is a message key (billing/domain/messages/*.json) with values, every number an
 * exact decimal string, so rendering in any language never recomputes anything.
 *
 * Rows come in one fixed order: consumption (own PV, from the community — with its charges —,
 * from the grid), production (used at home, to the community — with its credit —, to the grid),
 * then the environment (CO₂ avoided). A quantity row has a quantity and a unit (kWh, kg CO₂) and
 * nothing else: money appears only on charge rows, in the amount column of the document's currency.
 *
 * Totals (EN 16931): net = Σ line nets (each line rounded once, by the statement); VAT per
 * category and rate = taxable amount × rate rounded once; VAT = Σ of those; gross = net + VAT.
 * Positive gross is owed by the member, negative gross is owed to them.
 */

interface InvoiceRewardLine { readonly code: 'flex-reward'; readonly orderReference: string; readonly orderPeriod: string; readonly energyWh: number; readonly amount: string }
interface InvoiceTariffLine { readonly code: TariffComponent; readonly tariffId: string; readonly energyWh: number; readonly unitPrice: string; readonly amount: string }

/** The part of a statement (billing/statement.ts) an invoice is built from. */
export interface InvoiceStatement {
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly currency: string;
  /** Tariff lines and flexibility rewards (`flex-reward`: a credit for an order's flexibility, VAT by `rewardVat`). */
  readonly lines: readonly (InvoiceTariffLine | InvoiceRewardLine)[];
  readonly energy: {
    readonly consumptionWh: number; readonly selfConsumedWh: number; readonly fromCommunityWh: number; readonly fromGridWh: number;
    readonly productionWh: number; readonly toCommunityWh: number; readonly toGridWh: number;
  };
  readonly savings: string;
  readonly co2AvoidedKg: string;
}

export interface PostalAddress {
  readonly street: string;
  readonly postalCode: string;
  readonly city: string;
  /** ISO 3166-1 alpha-2. */
  readonly country: string;
}

export interface BankAccount {
  readonly iban: string;
  readonly bic?: string;
  readonly accountHolder?: string;
}

export interface InvoiceFacts {
  readonly number: string;
  /** Local dates `YYYY-MM-DD` in the community's zone. */
  readonly issueDate: string;
  readonly dueDate: string;
  /** First and last local day of the billed period. */
  readonly period: { readonly firstDay: string; readonly lastDay: string };
  readonly member: { readonly name: string; readonly billingAddress: PostalAddress; readonly customerNumber?: string; readonly vat: MemberVat };
  readonly community: {
    readonly legalName: string;
    readonly address: PostalAddress;
    readonly registrationNumber?: string;
    readonly vat: CommunityVat;
    readonly bank: BankAccount;
  };
  /** Tariff names by id, for the line labels. */
  readonly tariffNames?: Readonly<Record<string, string>>;
  /** The number of the invoice this one corrects (a correction statement). */
  readonly corrects?: string;
}

export type Section = 'consumption' | 'production' | 'flexibility' | 'environment';
export type QuantityKey = 'consumption' | 'own-pv' | 'from-community' | 'from-grid' | 'production' | 'used-at-home' | 'to-community' | 'to-grid' | 'co2-avoided';

export interface QuantityRow {
  readonly kind: 'quantity';
  readonly section: Section;
  readonly key: QuantityKey;
  readonly label: string;
  readonly quantity: string;
  readonly unit: 'kWh' | 'kg CO₂';
}

export interface ChargeRow {
  readonly kind: 'charge';
  readonly section: Exclude<Section, 'environment'>;
  readonly position: number;
  readonly key: TariffComponent | 'flex-reward';
  readonly label: string;
  /** The tariff's name; for a reward, the order and its Period. */
  readonly labelValues: Readonly<Record<string, string>>;
  readonly quantity: string;
  readonly unit: 'kWh';
  /** Price per kWh as the tariff states it, in the document's currency; null for a reward (shared by contribution, not priced per kWh). */
  readonly unitPrice: string | null;
  /** Net amount, rounded to the minor unit. */
  readonly net: string;
  readonly vat: LineVat;
}

export type InvoiceRow = QuantityRow | ChargeRow;

export interface VatBreakdown {
  readonly category: VatCategory;
  readonly rate: string;
  readonly taxable: string;
  readonly vat: string;
}

export interface Invoice {
  readonly kind: 'invoice' | 'correction';
  readonly number: string;
  readonly issueDate: string;
  readonly dueDate: string;
  readonly period: InvoiceFacts['period'];
  readonly currency: string;
  readonly seller: InvoiceFacts['community'];
  readonly buyer: InvoiceFacts['member'];
  readonly rows: readonly InvoiceRow[];
  readonly vatBreakdown: readonly VatBreakdown[];
  readonly totals: { readonly net: string; readonly vat: string; readonly gross: string };
  /** Informational, not part of the totals. */
  readonly savings: string;
  /** Legal notes as message keys with their values, in the order they are printed. */
  readonly notes: readonly { readonly key: string; readonly values?: Readonly<Record<string, string>> }[];
}

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const COUNTRY = /^[A-Z]{2}$/;

function checkFacts(facts: InvoiceFacts): void {
  const bad = (message: string, field: string): never => {
    throw new BadRequestError(message, field);
  };
  if (!parseInvoiceNumber(facts.number)) bad(`not an invoice number: "${facts.number}"`, 'number');
  for (const [field, date] of [['issueDate', facts.issueDate], ['dueDate', facts.dueDate], ['period/firstDay', facts.period.firstDay], ['period/lastDay', facts.period.lastDay]] as const) {
    if (!DATE.test(date)) bad(`not a date YYYY-MM-DD: "${date}"`, field);
  }
  if (facts.period.lastDay < facts.period.firstDay) bad('the period ends before it starts', 'period');
  if (facts.issueDate <= facts.period.lastDay) bad('an invoice is issued after the last day of its period', 'issueDate');
  if (facts.dueDate < facts.issueDate) bad('the due date lies before the issue date', 'dueDate');
  const party = (name: string, address: PostalAddress, field: string) => {
    if (name.trim() === '') bad('a name is required', `${field}/name`);
    for (const key of ['street', 'postalCode', 'city'] as const) if (address[key].trim() === '') bad(`the ${key} is required`, `${field}/address/${key}`);
    if (!COUNTRY.test(address.country)) bad(`not an ISO country code: "${address.country}"`, `${field}/address/country`);
  };
  party(facts.member.name, facts.member.billingAddress, 'member');
  party(facts.community.legalName, facts.community.address, 'community');
  const { vat, bank } = facts.community;
  vatPreset(vat.country);
  if (vat.regime === 'registered' && !vat.vatId?.trim()) bad('a VAT-registered community needs its VAT number', 'community/vat/vatId');
  if (facts.member.vat.regime === 'registered' && !facts.member.vat.vatId?.trim()) bad('a VAT-registered member needs their VAT number', 'member/vat/vatId');
  if (!isValidIBAN(electronicFormatIBAN(bank.iban) ?? '')) bad(`not a valid IBAN: "${bank.iban}"`, 'community/bank/iban');
  if (bank.bic !== undefined && !isValidBIC(bank.bic)) bad(`not a valid BIC: "${bank.bic}"`, 'community/bank/bic');
  if (facts.corrects !== undefined && !parseInvoiceNumber(facts.corrects)) bad(`not an invoice number: "${facts.corrects}"`, 'corrects');
}

const kwh = (wh: number) => formatFixed(BigInt(wh), 3);

const SECTION_OF: Record<TariffComponent, ChargeRow['section']> = {
  'community-energy': 'consumption',
  'grid-fee-reduction': 'consumption',
  'community-sales': 'production',
};

export function buildInvoice(statement: InvoiceStatement, facts: InvoiceFacts): Invoice {
  checkFacts(facts);
  const digits = minorDigits(statement.currency);
  const quantity = (section: Section, key: QuantityKey, wh: number): QuantityRow =>
    ({ kind: 'quantity', section, key, label: `invoice.row.${key}`, quantity: kwh(wh), unit: 'kWh' });
  let position = 0;
  const charges = (component: TariffComponent): ChargeRow[] => statement.lines
    .filter((line): line is InvoiceTariffLine => line.code === component)
    .map((line) => ({
      kind: 'charge',
      section: SECTION_OF[component],
      position: 0,
      key: component,
      label: `invoice.charge.${component}`,
      labelValues: { tariff: facts.tariffNames?.[line.tariffId] ?? line.tariffId },
      quantity: kwh(line.energyWh),
      unit: 'kWh',
      unitPrice: line.unitPrice,
      net: formatMinor(parseFixed(line.amount, digits), digits),
      vat: lineVat(component, facts.community.vat, facts.member.vat),
    }));

  // A reward credits the member for the flexibility they moved (their contribution, kWh), taxed as their supply.
  const rewards: ChargeRow[] = statement.lines
    .filter((line): line is InvoiceRewardLine => line.code === 'flex-reward')
    .map((line) => ({
      kind: 'charge', section: 'flexibility', position: 0, key: 'flex-reward', label: 'invoice.charge.flex-reward',
      labelValues: { orderReference: line.orderReference, period: line.orderPeriod }, quantity: kwh(line.energyWh), unit: 'kWh', unitPrice: null,
      net: formatMinor(parseFixed(line.amount, digits), digits), vat: rewardVat(facts.community.vat, facts.member.vat),
    }));

  const { energy } = statement;
  const producer = energy.productionWh > 0 || statement.lines.some((line) => line.code === 'community-sales');
  const unordered: InvoiceRow[] = [
    quantity('consumption', 'consumption', energy.consumptionWh),
    quantity('consumption', 'own-pv', energy.selfConsumedWh),
    quantity('consumption', 'from-community', energy.fromCommunityWh),
    ...charges('community-energy'),
    ...charges('grid-fee-reduction'),
    quantity('consumption', 'from-grid', energy.fromGridWh),
    ...(producer
      ? [
        quantity('production', 'production', energy.productionWh),
        quantity('production', 'used-at-home', energy.selfConsumedWh),
        quantity('production', 'to-community', energy.toCommunityWh),
        ...charges('community-sales'),
        quantity('production', 'to-grid', energy.toGridWh),
      ]
      : []),
    ...rewards,
    { kind: 'quantity', section: 'environment', key: 'co2-avoided', label: 'invoice.row.co2-avoided', quantity: statement.co2AvoidedKg, unit: 'kg CO₂' },
  ];
  const rows = unordered.map((row) => (row.kind === 'charge' ? { ...row, position: ++position } : row));
  const chargeRows = rows.filter((row): row is ChargeRow => row.kind === 'charge');
  if (chargeRows.length !== statement.lines.length) throw new BadRequestError('the statement has lines of an unknown code', 'statement/lines');

  const groups = new Map<string, { category: VatCategory; rate: string; taxable: bigint }>();
  for (const row of chargeRows) {
    const key = `${row.vat.category}|${row.vat.rate}`;
    const group = groups.get(key) ?? { category: row.vat.category, rate: row.vat.rate, taxable: 0n };
    group.taxable += parseFixed(row.net, digits);
    groups.set(key, group);
  }
  let net = 0n;
  let vat = 0n;
  const vatBreakdown = [...groups.values()]
    .sort((a, b) => a.category.localeCompare(b.category) || Number(parseRate(b.rate, 'rate') - parseRate(a.rate, 'rate')))
    .map((group) => {
      const amount = vatOf(group.taxable, parseRate(group.rate, 'rate'));
      net += group.taxable;
      vat += amount;
      return { category: group.category, rate: group.rate, taxable: formatMinor(group.taxable, digits), vat: formatMinor(amount, digits) };
    });

  const preset = vatPreset(facts.community.vat.country);
  const categories = new Set(chargeRows.map((row) => row.vat.category));
  const notes: Invoice['notes'][number][] = [];
  if (facts.corrects) notes.push({ key: 'invoice.note.corrects', values: { number: facts.corrects } });
  if (chargeRows.some((row) => row.section === 'production')) notes.push({ key: 'invoice.note.selfBilling' });
  if (rewards.length > 0) notes.push({ key: 'invoice.note.selfBillingFlexibility' });
  if (categories.has('AE')) notes.push({ key: preset.reverseChargeNote, values: { buyerVatId: facts.community.vat.vatId ?? '', sellerVatId: facts.member.vat.vatId ?? '' } });
  if (categories.has('E')) notes.push({ key: preset.smallBusinessNote });
  if (categories.has('O')) notes.push({ key: 'invoice.note.outsideScope' });
  const gross = net + vat;
  notes.push(gross === 0n ? { key: 'invoice.note.nothingDue' } : { key: gross > 0n ? 'invoice.note.payable' : 'invoice.note.credited', values: { dueDate: facts.dueDate } });

  return {
    kind: facts.corrects ? 'correction' : 'invoice',
    number: facts.number,
    issueDate: facts.issueDate,
    dueDate: facts.dueDate,
    period: facts.period,
    currency: statement.currency,
    seller: facts.community,
    buyer: facts.member,
    rows,
    vatBreakdown,
    totals: { net: formatMinor(net, digits), vat: formatMinor(vat, digits), gross: formatMinor(gross, digits) },
    savings: statement.savings,
    notes,
  };
}
