/** What the tests of the market in operation share: a fixed clock and the community's settings. */
export const Q = 900_000;
export const MIN = 60_000;
/** A fixed Monday morning: the tests move this clock, never the wall clock's. */
export const T0 = Date.UTC(2026, 0, 5, 8, 0);
export const iso = (ms: number) => new Date(ms).toISOString();
export const SETTINGS = {
  mechanism: 'uniform', gateLeadMinutes: 5, gridFee: '0.0100', floor: '0.0500', ceiling: '0.3000', surplusPrice: '0.0600', shortfallPrice: '0.2800',
};
