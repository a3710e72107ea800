import { formatNano, type Nano } from '../../kernel/money.js';
import { perIsp } from './isp.js';
import { rejection, type Rejection } from './rejection-reasons.js';
import type { FlexOffer, FlexOfferOption, FlexOrder } from './uftp/messages.js';
import { NANO_PER_AMOUNT_UNIT, roundToAmount } from './uftp/values.js';

/**
 * Whether a FlexOrder matches the FlexOffer it names. The specification is strict: the order
 * copies the chosen option's ISPs without modification and pays its price, except that with
 * partial activation every ISP power and the price are scaled by the ActivationFactor (which
 * must be at least the option's MinActivationFactor). A scaled power is rarely a whole watt and
 * a scaled price rarely has 4 decimals, so there the order may round either way: a power within
 * 1 W and a price within 0.0001 of the exact scaled value match; at factor 1.00 only equality does.
 */

/** The option an order picks: the named one, or the only one when the offer has a single option. */
export function chosenOption(order: FlexOrder, offer: FlexOffer): FlexOfferOption | undefined {
  if (order.optionReference !== undefined) return offer.offerOptions.find((o) => o.optionReference === order.optionReference);
  return offer.offerOptions.length === 1 ? offer.offerOptions[0] : undefined;
}

/** |100·ordered − offered·factor| < 100·unit: within one unit of the exact offered × factor / 100. */
function scaledMatches(ordered: bigint, offered: bigint, factorHundredths: number, unit: bigint): boolean {
  const difference = 100n * ordered - offered * BigInt(factorHundredths);
  return (difference < 0n ? -difference : difference) < 100n * unit;
}

export function orderMismatches(order: FlexOrder, offer: FlexOffer): Rejection[] {
  const found: Rejection[] = [];
  if (order.congestionPoint !== offer.congestionPoint) {
    found.push(rejection('invalid_congestion_point', `the order is for ${order.congestionPoint}, the offer for ${offer.congestionPoint}`));
  }
  if (order.period !== offer.period) found.push(rejection('reference_period_mismatch', `the order is for ${order.period}, the offer for ${offer.period}`));
  if (order.ispDurationMinutes !== offer.ispDurationMinutes) {
    found.push(rejection('isp_duration_rejected', `the order has ${order.ispDurationMinutes}-minute ISPs, the offer ${offer.ispDurationMinutes}-minute ones`));
  }
  if (order.currency !== offer.currency) found.push(rejection('currency_mismatch', `the order is in ${order.currency}, the offer in ${offer.currency}`));

  const option = chosenOption(order, offer);
  if (!option) {
    const detail = order.optionReference === undefined
      ? `the offer has ${offer.offerOptions.length} options and the order names none`
      : `the offer has no option ${JSON.stringify(order.optionReference)}`;
    found.push(rejection('option_mismatch', detail));
    return found;
  }
  if (order.activationFactor < option.minActivationFactor) {
    found.push(rejection('activation_factor_rejected', `activation factor ${(order.activationFactor / 100).toFixed(2)} is below the offer's minimum ${(option.minActivationFactor / 100).toFixed(2)}`));
  }

  const offered = perIsp(option.isps, (isp) => isp.power);
  const ordered = perIsp(order.isps, (isp) => isp.power);
  const missing = [...offered.keys()].filter((isp) => !ordered.has(isp));
  const extra = [...ordered.keys()].filter((isp) => !offered.has(isp));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [missing.length > 0 ? `offered but not ordered: ${missing.join(', ')}` : '', extra.length > 0 ? `ordered but not offered: ${extra.join(', ')}` : ''];
    found.push(rejection('isp_mismatch', parts.filter(Boolean).join('; ')));
  } else {
    const wrong = [...ordered].filter(([isp, power]) => !scaledMatches(BigInt(power), BigInt(offered.get(isp)!), order.activationFactor, 1n));
    if (wrong.length > 0) {
      const [isp, power] = wrong[0]!;
      found.push(rejection('power_mismatch', `ISP ${isp}: ordered ${power} W, offered ${offered.get(isp)} W at factor ${(order.activationFactor / 100).toFixed(2)}${wrong.length > 1 ? ` (and ${wrong.length - 1} more ISPs)` : ''}`));
    }
  }
  if (!scaledMatches(order.price, option.price, order.activationFactor, NANO_PER_AMOUNT_UNIT)) {
    found.push(rejection('price_mismatch', `ordered at ${formatNano(order.price)}, offered at ${formatNano(option.price)} at factor ${(order.activationFactor / 100).toFixed(2)}`));
  }
  return found;
}


/**
 * What a DSO orders when it takes an option at an activation factor: every ISP power and the
 * price scaled by factor/100, each rounded half away from zero (to the watt, to 4 decimals),
 * which `orderMismatches` accepts. The DSO simulator orders this way.
 */
export function scaledOption(option: FlexOfferOption, factorHundredths: number): { readonly isps: ReadonlyArray<{ power: number; start: number; duration: number }>; readonly price: Nano } {
  const scale = (value: bigint) => {
    const scaled = value * BigInt(factorHundredths);
    const magnitude = scaled < 0n ? -scaled : scaled;
    const rounded = (magnitude + 50n) / 100n;
    return scaled < 0n ? -rounded : rounded;
  };
  return {
    isps: option.isps.map((isp) => ({ start: isp.start, duration: isp.duration, power: Number(scale(BigInt(isp.power))) })),
    price: roundToAmount((option.price * BigInt(factorHundredths)) / 100n),
  };
}
