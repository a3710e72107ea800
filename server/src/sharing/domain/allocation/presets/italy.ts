import { dynamicKernel } from '../dynamic.js';
import { kernelAllocator, registerRule } from '../registry.js';
import type { AllocationResult, IntervalMatrix } from '../types.js';

import { HOUR_MS } from '../../../../kernel/time.js';
/**
 * Italy, Comunità Energetica Rinnovabile (CER, D.Lgs. 199/2021, ARERA TIAD, GSE rules):
 * virtual sharing. Members keep their physical flows (their supplier bills every kWh they
 * withdraw; injected energy is sold as usual); the incentive is paid on the shared energy
 * ("energia condivisa"): in every hour, the minimum of the energy injected and the energy
 * withdrawn by the configuration's connection points.
 *
 * `it-cer` therefore settles per hour: hourly shared energy = min(Σ injected, Σ withdrawn),
 * attributed to members in proportion to their hourly withdrawal (the dynamic key: the CER
 * distributes the incentive by its own statute, this is Gridshare's default) and to producers
 * in proportion to their hourly injection, or in commissioning order (the GSE splits shared
 * energy per plant "starting from the plants that entered service first": pass
 * `producers: { kind: 'priority', order }`). The per-member from/to community figures are this
 * virtual attribution, not a change of anyone's bill.
 * Source: GSE / ARERA definition of "energia elettrica condivisa" (as quoted by
 * cerdinamo.it, FAQ autoconsumo collettivo).
 */
registerRule({
  name: 'it-cer',
  summary: 'Italy CER virtual sharing: hourly shared energy = min(Σ injected, Σ withdrawn), attributed pro rata',
  needs: 'nothing',
  country: 'IT',
  create: (config) => kernelAllocator('it-cer', 'hour', dynamicKernel, config.producers),
});

/** The CER's hourly figures, the basis of the incentive. */
export interface CerHours {
  readonly hourStartMs: Float64Array;
  readonly injectedWh: Float64Array;
  readonly withdrawnWh: Float64Array;
  /** min(injected, withdrawn) per hour. */
  readonly sharedWh: Float64Array;
  /** Shared energy attributed to each member's withdrawal, `hours × members`. */
  readonly memberWithdrawalSharedWh: Float64Array;
  /** Shared energy attributed to each member's injection, `hours × members`. */
  readonly memberInjectionSharedWh: Float64Array;
}

/**
 * Hourly shared energy of a CER and its attribution, from the metered input and an `it-cer`
 * result (whose quarter hours add up to the hourly attribution).
 */
export function cerHours(input: IntervalMatrix, result: AllocationResult): CerHours {
  const n = input.memberIds.length;
  const T = input.intervalStartMs.length;
  const hours: number[] = [];
  const hourOf = new Int32Array(T);
  for (let t = 0; t < T; t++) {
    const hour = Math.floor(input.intervalStartMs[t]! / HOUR_MS);
    if (hours.length === 0 || hours[hours.length - 1] !== hour) hours.push(hour);
    hourOf[t] = hours.length - 1;
  }
  const H = hours.length;
  const injectedWh = new Float64Array(H);
  const withdrawnWh = new Float64Array(H);
  const memberWithdrawalSharedWh = new Float64Array(H * n);
  const memberInjectionSharedWh = new Float64Array(H * n);
  for (let t = 0; t < T; t++) {
    const h = hourOf[t]!;
    for (let i = 0; i < n; i++) {
      const k = t * n + i;
      injectedWh[h]! += input.exportWh[k]!;
      withdrawnWh[h]! += input.importWh[k]!;
      memberWithdrawalSharedWh[h * n + i]! += result.fromCommunityWh[k]!;
      memberInjectionSharedWh[h * n + i]! += result.toCommunityWh[k]!;
    }
  }
  const sharedWh = new Float64Array(H);
  for (let h = 0; h < H; h++) sharedWh[h] = Math.min(injectedWh[h]!, withdrawnWh[h]!);
  return {
    hourStartMs: Float64Array.from(hours, (h) => h * HOUR_MS),
    injectedWh,
    withdrawnWh,
    sharedWh,
    memberWithdrawalSharedWh,
    memberInjectionSharedWh,
  };
}
