/** Pure: the physical limits of a site, which decide what energy counts as plausible. */

export type MeteringPointRole = 'consumer' | 'producer' | 'prosumer';

/**
 * What a grid connection of a role carries at most when nobody said otherwise, in W: a household
 * (consumer or prosumer) 3 × 63 A at 230 V; a producer a small plant on a low-voltage connection.
 */
export const DEFAULT_CONNECTION_CAPACITY_W: Readonly<Record<MeteringPointRole, number>> = {
  consumer: 43_470,
  prosumer: 43_470,
  producer: 250_000,
};

/**
 * The physical limit of a metering point in W, for plausibility: the capacity set for its
 * connection, else its role's default; never below its PV capacity (what its panels can give).
 */
export function connectionCapacityW(point: { role: MeteringPointRole; pvCapacityW: number | null; connectionCapacityW: number | null }): number {
  return Math.max(point.connectionCapacityW ?? DEFAULT_CONNECTION_CAPACITY_W[point.role], point.pvCapacityW ?? 0);
}
