/**
 * A cumulative energy register as a meter shows it: an integer Wh count that starts at the
 * meter's reading when the simulation begins and only ever grows. Energy is accumulated in
 * floating point and floored when read, so a register never runs ahead of the energy.
 */
export class EnergyRegister {
  #accumulatedWh = 0;

  constructor(readonly initialWh: number) {
    if (!Number.isInteger(initialWh) || initialWh < 0) throw new RangeError('a register starts at a whole number of Wh ≥ 0');
  }

  add(wh: number): void {
    // Adding a non-negative number to a float never makes it smaller: monotone by construction.
    if (wh > 0) this.#accumulatedWh += wh;
  }

  /** Energy counted since the simulation started, Wh (not rounded). */
  get accumulatedWh(): number {
    return this.#accumulatedWh;
  }

  /** What the meter displays, Wh. */
  get value(): number {
    return this.initialWh + Math.floor(this.#accumulatedWh);
  }
}
