/** The order-book depth of a slot as the step curves a chart draws (pure, for the manager's market page and tests). */
import type { SlotDepth } from '@gridshare/contract/market';

type Level = SlotDepth['bids'][number];

/**
 * A curve's corners: each price level runs flat from the energy before it to its cumulative
 * energy, then the curve steps to the next price. Points are [kWh, price per kWh].
 */
export function depthSteps(levels: readonly Level[]): [number, number][] {
  const points: [number, number][] = [];
  let before = 0;
  for (const level of levels) {
    const price = Number(level.price);
    points.push([before / 1000, price], [level.cumulativeWh / 1000, price]);
    before = level.cumulativeWh;
  }
  return points;
}

/** The clearing point [kWh, price per kWh]; none when nothing was traded. */
export function clearingPoint(depth: SlotDepth): [number, number] | undefined {
  return depth.clearingPrice === null || depth.volumeWh === 0 ? undefined : [depth.volumeWh / 1000, Number(depth.clearingPrice)];
}
