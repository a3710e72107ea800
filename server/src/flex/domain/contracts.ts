import { FLEX_CONTRACT_STATES, FLEX_SERVICE_TYPES } from '@gridshare/contract/flex';
import { BadRequestError, ConflictError } from '../../kernel/errors.js';
import { formatFixed, parseDecimal, toFixedUnits, trimDecimal } from '../../kernel/decimal.js';
import { parsePrice, MoneyError, type MicroPrice } from '../../kernel/money.js';
import { isLocalDate } from './uftp/values.js';

/**
 * Flexibility contracts with a DSO, as pure rules: what a manager may write (every refusal names
 * its field) and which state changes are allowed. Prices are exact micro-units of the community's
 * currency (kernel money), never floats.
 */

export const SERVICE_TYPES = FLEX_SERVICE_TYPES;
export type ServiceType = (typeof SERVICE_TYPES)[number];
export const CONTRACT_STATES = FLEX_CONTRACT_STATES;
export type ContractState = (typeof CONTRACT_STATES)[number];
export const MAX_PRICE_DECIMALS = 6;

/** Local weekly availability: ISO weekdays (1 = Monday … 7 = Sunday), from inclusive to exclusive ("24:00" ends the day). */
export interface AvailabilityWindow {
  readonly weekdays: readonly number[];
  readonly from: string;
  readonly to: string;
}

export interface ContractInput {
  readonly participantId: string;
  readonly congestionPoints: readonly string[];
  readonly serviceType: ServiceType;
  readonly validFrom: string;
  readonly validTo: string;
  readonly windows: readonly AvailabilityWindow[];
  /** Per kW made available and month. */
  readonly capacityRemuneration: string;
  /** Per kWh delivered. */
  readonly volumeRemuneration: string;
  /** Per kWh not delivered. */
  readonly penaltyRate: string;
  /** The community's fee on positive net settlements before members share the rest, in percent (0–100, ≤ 2 places); none when absent. */
  readonly communityFeePercent?: string;
  /** The DSO may order without an offer (UFTP 3.1 direct FlexOrders), against the D-Prognosis it accepted; false when absent. */
  readonly directOrders?: boolean;
}

/** The input checked: the same terms, the amounts as exact micro-units. */
export interface ContractTerms extends Omit<ContractInput, 'capacityRemuneration' | 'volumeRemuneration' | 'penaltyRate' | 'communityFeePercent' | 'directOrders'> {
  readonly directOrders: boolean;
  readonly capacityPrice: MicroPrice;
  readonly volumePrice: MicroPrice;
  readonly penaltyRate: MicroPrice;
  /** 0–10,000 (= 0–100 %). */
  readonly communityFeeBasisPoints: number;
}

/** The address-book entry a contract names, as the caller's community has it (undefined: not in its book). */
export interface ContractParty {
  readonly role: string;
  readonly congestionPoints: readonly string[];
}

/** The terms of a valid contract, or a BadRequestError naming the first field at fault. */
export function checkContract(input: ContractInput, party: ContractParty | undefined): ContractTerms {
  if (!party) throw new BadRequestError(`body/participantId: ${input.participantId} is not in the community's address book`, 'body/participantId');
  if (party.role !== 'DSO') throw new BadRequestError(`body/participantId: a contract is made with a DSO, this participant is a ${party.role}`, 'body/participantId');
  const congestionPoints = [...new Set(input.congestionPoints)];
  if (congestionPoints.length === 0) throw new BadRequestError('body/congestionPoints: name at least one congestion point', 'body/congestionPoints');
  const unknown = congestionPoints.filter((point) => !party.congestionPoints.includes(point));
  if (unknown.length > 0) {
    throw new BadRequestError(`body/congestionPoints: ${unknown.join(', ')} is not a congestion point of this DSO in the address book`, 'body/congestionPoints');
  }
  if (!(SERVICE_TYPES as readonly string[]).includes(input.serviceType)) {
    throw new BadRequestError(`body/serviceType: one of ${SERVICE_TYPES.join(', ')}`, 'body/serviceType');
  }
  for (const field of ['validFrom', 'validTo'] as const) {
    if (!isLocalDate(input[field])) throw new BadRequestError(`body/${field}: not a date yyyy-mm-dd: ${JSON.stringify(input[field])}`, `body/${field}`);
  }
  if (input.validTo < input.validFrom) throw new BadRequestError(`body/validTo: ${input.validTo} is before validFrom ${input.validFrom}`, 'body/validTo');
  return {
    participantId: input.participantId,
    congestionPoints,
    serviceType: input.serviceType,
    validFrom: input.validFrom,
    validTo: input.validTo,
    windows: checkWindows(input.windows),
    capacityPrice: amount(input.capacityRemuneration, 'capacityRemuneration'),
    volumePrice: amount(input.volumeRemuneration, 'volumeRemuneration'),
    penaltyRate: amount(input.penaltyRate, 'penaltyRate'),
    communityFeeBasisPoints: feeBasisPoints(input.communityFeePercent ?? '0'),
    directOrders: input.directOrders ?? false,
  };
}

/** "12.5" (percent) → 1250 basis points; at most two places, 0 to 100. */
function feeBasisPoints(text: string): number {
  const field = 'body/communityFeePercent';
  const decimal = /^\d{1,3}(\.\d{1,2})?$/.test(text) ? parseDecimal(text, { signed: false }) : undefined;
  const basisPoints = decimal && toFixedUnits(decimal, 2);
  if (basisPoints === undefined) throw new BadRequestError(`${field}: a percentage from 0 to 100 with at most 2 decimal places, got ${JSON.stringify(text)}`, field);
  if (basisPoints > 10_000n) throw new BadRequestError(`${field}: at most 100 %, got ${text}`, field);
  return Number(basisPoints);
}

/** Basis points as the API shows the percentage: 1250 → "12.5". */
export const formatFeePercent = (basisPoints: number): string => trimDecimal(formatFixed(BigInt(basisPoints), 2));

/** Minutes after local midnight of "HH:MM" (00:00 … 24:00), or undefined. */
export function minuteOfDay(text: string): number | undefined {
  const match = /^(\d{2}):(\d{2})$/.exec(text);
  if (!match) return undefined;
  const [hours, minutes] = [Number(match[1]), Number(match[2])];
  if (hours > 24 || minutes > 59 || (hours === 24 && minutes !== 0)) return undefined;
  return hours * 60 + minutes;
}

function checkWindows(windows: readonly AvailabilityWindow[]): AvailabilityWindow[] {
  if (windows.length === 0) throw new BadRequestError('body/windows: give at least one availability window', 'body/windows');
  const spans = windows.map((window, i) => {
    const at = `body/windows/${i}`;
    const weekdays = [...new Set(window.weekdays)].sort((a, b) => a - b);
    if (weekdays.length === 0 || weekdays.some((day) => !Number.isInteger(day) || day < 1 || day > 7)) {
      throw new BadRequestError(`${at}/weekdays: one or more ISO weekdays, 1 (Monday) to 7 (Sunday)`, `${at}/weekdays`);
    }
    const from = minuteOfDay(window.from);
    if (from === undefined || from === 24 * 60) throw new BadRequestError(`${at}/from: a local time HH:MM from 00:00 to 23:59`, `${at}/from`);
    const to = minuteOfDay(window.to);
    if (to === undefined) throw new BadRequestError(`${at}/to: a local time HH:MM from 00:01 to 24:00`, `${at}/to`);
    if (to <= from) throw new BadRequestError(`${at}/to: ${window.to} is not after from ${window.from}`, `${at}/to`);
    return { weekdays, from, to, window: { weekdays, from: window.from, to: window.to } };
  });
  spans.forEach((a, i) => spans.slice(0, i).forEach((b, j) => {
    const sharedDay = a.weekdays.find((day) => b.weekdays.includes(day));
    if (sharedDay !== undefined && a.from < b.to && b.from < a.to) {
      throw new BadRequestError(`body/windows/${i}: overlaps window ${j} on weekday ${sharedDay}`, `body/windows/${i}`);
    }
  }));
  return spans.map((s) => s.window);
}

function amount(text: string, field: string): MicroPrice {
  let value: MicroPrice;
  try {
    value = parsePrice(text);
  } catch (error) {
    if (!(error instanceof MoneyError)) throw error;
    const tooPrecise = /^-?\d+\.\d+$/.test(text) && text.split('.')[1]!.length > MAX_PRICE_DECIMALS;
    throw new BadRequestError(tooPrecise
      ? `body/${field}: at most ${MAX_PRICE_DECIMALS} decimal places, got ${JSON.stringify(text)}`
      : `body/${field}: not a decimal amount: ${JSON.stringify(text)}`, `body/${field}`);
  }
  if (value < 0n) throw new BadRequestError(`body/${field}: must not be negative, got ${text}`, `body/${field}`);
  return value;
}

/** A price in micro-units as the API shows it: exact, trailing zeros dropped. */
export const formatPrice = (price: MicroPrice): string => trimDecimal(formatFixed(price, MAX_PRICE_DECIMALS));

export type ContractAction = 'update' | 'activate' | 'end' | 'opt-in';

/** The state after an action, or a ConflictError: drafts change and activate; active contracts end; ended ones are final. */
export function afterAction(state: ContractState, action: ContractAction): ContractState {
  if (action === 'update' && state === 'draft') return 'draft';
  if (action === 'activate' && state === 'draft') return 'active';
  if (action === 'end' && state !== 'ended') return 'ended';
  if (action === 'opt-in' && state !== 'ended') return state;
  throw new ConflictError(action === 'update' ? `the contract is ${state}: only a draft can be changed`
    : action === 'activate' ? `the contract is ${state}: only a draft can be activated`
      : `the contract has ended`);
}
