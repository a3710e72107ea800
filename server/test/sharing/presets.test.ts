/**
 * Hand-computed examples for each country preset. Every expected number is worked out in the
 * comments; the rule each example follows is quoted with its source.
 */
import { describe, expect, it } from 'vitest';
import {
  bindShares, cerHours, constantShares, createAllocator, createMatrix, memberFlows, parseCoefficients,
  producerConsumerFlows, ruleDefinitions, ruleNames,
  type AllocationResult, type IntervalMatrix,
} from '../../src/sharing/domain/allocation/index.js';
import { ALLOCATION_RULES } from '../../src/registry/allocation-rules.js';

const Q = 900_000;

/** Builds an input from per-interval rows of [import, export] per member. */
function input(ids: string[], start: number, intervals: [number, number][][]): IntervalMatrix {
  const m = createMatrix(ids, Float64Array.from(intervals, (_, t) => start + t * Q));
  intervals.forEach((row, t) => row.forEach(([imp, exp], i) => {
    m.importWh[t * ids.length + i] = imp;
    m.exportWh[t * ids.length + i] = exp;
  }));
  return m;
}

function column(r: AllocationResult, which: 'fromCommunityWh' | 'toCommunityWh', t: number): number[] {
  return Array.from(r[which].subarray(t * r.members, (t + 1) * r.members));
}

describe('the engine knows every rule a community can choose', () => {
  it('registers exactly the names of registry/allocation-rules.ts', () => {
    expect(new Set(ruleNames())).toEqual(new Set(ALLOCATION_RULES));
    for (const rule of ruleDefinitions()) expect(rule.summary.length).toBeGreaterThan(10);
  });
});

describe('Austria, EEG (energiegemeinschaften.gv.at, "Messung und Aufteilung")', () => {
  // "die Zuordnung hat pro Viertelstunde zu erfolgen und ist mit dem Energieverbrauch der
  // jeweiligen Anlage des teilnehmenden Netzbenutzers in der jeweiligen Viertelstunde begrenzt"
  const ids = ['pv-school', 'pv-farm', 'anna', 'ben', 'cem'];

  it('dynamic key, two producers: in relation to consumption, producers pro rata of feed-in', () => {
    // "Bei dynamischer Aufteilung wird die Energie in Relation zum gemessenen Verbrauch in der
    // jeweiligen Viertelstunde zugeteilt."
    const m = input(ids, Date.UTC(2025, 4, 12, 10, 0), [
      // 10:00 production 3000 + 1000 = 4000 < consumption 1000 + 3000 + 4000 = 8000:
      // everyone gets half of its consumption: 500, 1500, 2000; all production is used.
      [[0, 3000], [0, 1000], [1000, 0], [3000, 0], [4000, 0]],
      // 10:15 production 7500 + 2500 = 10000 > consumption 8000: consumption fully covered;
      // the 8000 used come from the producers 3:1 → 6000 and 2000; 1500 + 500 go to the grid.
      [[0, 7500], [0, 2500], [1000, 0], [3000, 0], [4000, 0]],
    ]);
    const r = createAllocator('at-eeg-dynamic').allocate(m);
    expect(column(r, 'fromCommunityWh', 0)).toEqual([0, 0, 500, 1500, 2000]);
    expect(column(r, 'toCommunityWh', 0)).toEqual([3000, 1000, 0, 0, 0]);
    expect(column(r, 'fromCommunityWh', 1)).toEqual([0, 0, 1000, 3000, 4000]);
    expect(column(r, 'toCommunityWh', 1)).toEqual([6000, 2000, 0, 0, 0]);
    expect(memberFlows(m, r, 1, 0)).toMatchObject({ toCommunityWh: 6000, toGridWh: 1500 });
    expect(memberFlows(m, r, 0, 4)).toMatchObject({ fromCommunityWh: 2000, fromGridWh: 2000 });
    // Who got what from whom at 10:00: each consumer's energy split 3:1 over the producers.
    const flows = producerConsumerFlows(column(r, 'fromCommunityWh', 0), column(r, 'toCommunityWh', 0));
    expect(flows.consumers).toEqual([2, 3, 4]);
    expect(flows.producers).toEqual([0, 1]);
    expect(Array.from(flows.flowWh)).toEqual([375, 125, 1125, 375, 1500, 500]);
  });

  it('static key: fixed shares, what is not consumed is surplus to the grid', () => {
    // "Bei statischer Aufteilung wird jedem Verbraucher ein vorab vereinbarter fixer Anteil
    // der erzeugten Energie zugeordnet. Wird der Anteil in der jeweiligen Viertelstunde nicht
    // verbraucht, gilt er als ins Netz eingespeister Überschuss."
    // Shares 50 / 30 / 20 % of 4000 Wh → 2000, 1200, 800; consumption 1000, 3000, 500
    // → 1000, 1200, 500 = 2700 shared, 1300 to the grid (1000 of Anna's, 300 of Cem's share).
    const m = input(ids, Date.UTC(2025, 4, 12, 11, 0), [[[0, 4000], [0, 0], [1000, 0], [3000, 0], [500, 0]]]);
    const r = createAllocator('at-eeg-static', { shares: constantShares([0, 0, 0.5, 0.3, 0.2]) }).allocate(m);
    expect(column(r, 'fromCommunityWh', 0)).toEqual([0, 0, 1000, 1200, 500]);
    expect(column(r, 'toCommunityWh', 0)).toEqual([2700, 0, 0, 0, 0]);
    expect(memberFlows(m, r, 0, 0).toGridWh).toBe(1300);
    expect(memberFlows(m, r, 0, 3).fromGridWh).toBe(1800);
  });
});

describe('France, autoconsommation collective (Code de l\'énergie; Enedis keys)', () => {
  // Code de l'énergie: "la quantité de production affectée à chaque consommateur final est
  // calculée comme le produit de la quantité produite ... par un coefficient de répartition de
  // la production ; la quantité affectée à chacun de ces consommateurs ne peut être supérieure
  // à sa consommation mesurée."
  const ids = ['ombriere', 'mairie', 'ecole'];

  it('clé par défaut: coefficient = share of the step\'s consumption', () => {
    // part-energie.fr: "Clé Dynamique par Défaut : ... coefficient variable basé sur le prorata
    // des consommations individuelles à chaque intervalle."
    // 900 Wh over consumption 400 + 800 → 900 × 400/1200 = 300 and 900 × 800/1200 = 600.
    const m = input(ids, Date.UTC(2025, 6, 1, 12, 0), [[[0, 900], [400, 0], [800, 0]]]);
    const r = createAllocator('fr-acc-default').allocate(m);
    expect(column(r, 'fromCommunityWh', 0)).toEqual([0, 300, 600]);
  });

  it('clé statique: fixed coefficients, capped at consumption', () => {
    // 60 % / 40 % of 1000 Wh = 600 / 400; consumption 500 / 700 → 500 (100 surplus) and 400.
    const m = input(ids, Date.UTC(2025, 6, 1, 12, 0), [[[0, 1000], [500, 0], [700, 0]]]);
    const r = createAllocator('fr-acc-static', { shares: constantShares([0, 0.6, 0.4]) }).allocate(m);
    expect(column(r, 'fromCommunityWh', 0)).toEqual([0, 500, 400]);
    expect(memberFlows(m, r, 0, 0).toGridWh).toBe(100);
  });

  it('clé dynamique simple: the PMO\'s coefficients per 15-minute step', () => {
    // Enogrid: "Avec la clé de répartition « dynamique simple », l'ensemble de la production va
    // être répartie en fonction des pourcentages calculés par la PMO ... à chaque pas de temps de
    // 15 minutes." Step 1: 70/30 of 1000 = 700/300; step 2: 20/80 of 1000 = 200/800, the
    // school consumes only 500 → 500, 300 surplus.
    const coefficients = parseCoefficients([
      'member_id,timestamp,coefficient',
      'mairie,2025-07-01T12:00:00Z,0.7',
      'ecole,2025-07-01T12:00:00Z,0.3',
      'mairie,2025-07-01T12:15:00Z,0.2',
      'ecole,2025-07-01T12:15:00Z,0.8',
    ].join('\n'), { resolutionMinutes: 15 });
    const m = input(ids, Date.UTC(2025, 6, 1, 12, 0), [
      [[0, 1000], [900, 0], [900, 0]],
      [[0, 1000], [900, 0], [500, 0]],
    ]);
    const r = createAllocator('fr-acc-dynamic-simple', { shares: bindShares(coefficients, m.memberIds) }).allocate(m);
    expect(column(r, 'fromCommunityWh', 0)).toEqual([0, 700, 300]);
    expect(column(r, 'fromCommunityWh', 1)).toEqual([0, 200, 500]);
    expect(memberFlows(m, r, 1, 0).toGridWh).toBe(300);
  });
});

describe('Spain, autoconsumo colectivo (RD 244/2019 Annex I, Orden TED/1247/2021)', () => {
  // Hourly coefficients β per CUPS, adding up to 1 in each hour; each consumer's share of the
  // hour's generation beyond its consumption is its surplus.
  const A = 'ES0031300000000001AB0F';
  const B = 'ES0031300000000002CD0F';

  it('applies the hour\'s coefficients from the official CUPS;hour;coefficient file, hour by hour', () => {
    // 1 June 2025 12:00–13:00 CEST = 10:00–11:00 UTC, elapsed hour 151 × 24 + 11 + 1 = 3636
    // counted from 1 January 00:00 CET (= 31 Dec 23:00 UTC).
    const file = `${A};3636;0,600000\n${B};3636;0,400000\n${A};3637;0,500000\n${B};3637;0,500000\n`;
    const table = parseCoefficients(file, { fileName: 'ES0031300000000001AB0FA000_2025.txt' });
    const m = input(['plant', A, B], Date.UTC(2025, 5, 1, 10, 0), [
      // Four quarters: generation 1000 each (4000 in the hour); A uses 250 each (1000),
      // B 625 each (2500). β: A 0.6 → 2400, B 0.4 → 1600. A is capped at 1000 (1400 surplus),
      // B gets 1600. Spread back by consumption: A 250 per quarter, B 1600 × 625/2500 = 400.
      [[0, 1000], [250, 0], [625, 0]],
      [[0, 1000], [250, 0], [625, 0]],
      [[0, 1000], [250, 0], [625, 0]],
      [[0, 1000], [250, 0], [625, 0]],
    ]);
    const r = createAllocator('es-coefficients', { shares: bindShares(table, m.memberIds) }).allocate(m);
    for (let q = 0; q < 4; q++) {
      expect(column(r, 'fromCommunityWh', q)).toEqual([0, 250, 400]);
      // The plant gave 2600 in the hour, 650 per quarter (in proportion to its export).
      expect(column(r, 'toCommunityWh', q)).toEqual([650, 0, 0]);
    }
  });

  it('settles per hour, not per quarter hour', () => {
    // Hour with generation only in the first quarter (2000) and A consuming only in the last
    // (1000), β_A = 1: per hour A gets min(1000, 2000) = 1000, although no quarter has both.
    const table = parseCoefficients(`${A};3636;1\n`, { year: 2025 });
    const m = input(['plant', A], Date.UTC(2025, 5, 1, 10, 0), [
      [[0, 2000], [0, 0]], [[0, 0], [0, 0]], [[0, 0], [0, 0]], [[0, 0], [1000, 0]],
    ]);
    const r = createAllocator('es-coefficients', { shares: bindShares(table, m.memberIds) }).allocate(m);
    expect(Array.from(r.fromCommunityWh)).toEqual([0, 0, 0, 0, 0, 0, 0, 1000]);
    expect(Array.from(r.toCommunityWh)).toEqual([1000, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('Italy, CER virtual sharing (GSE/ARERA "energia condivisa")', () => {
  // "L'energia elettrica condivisa è, in ogni ora e per l'insieme dei punti di connessione ...,
  // il minimo tra l'energia elettrica immessa ai fini della condivisione e l'energia elettrica
  // prelevata ai fini della condivisione." (cerdinamo.it, FAQ autoconsumo collettivo)
  it('hourly shared energy = min(Σ injected, Σ withdrawn), attributed pro rata of withdrawal', () => {
    // Injection 0, 0, 2000, 2000 (4000 in the hour); withdrawals A 1000 and B 500 per quarter
    // (6000). Shared energy = min(4000, 6000) = 4000 — more than the 3000 a per-quarter minimum
    // would give (0 + 0 + 1500 + 1500). A: 4000 × 4000/6000 = 2666.67 → 2667, B: 1333.33 → 1333.
    const m = input(['impianto', 'anna', 'bruno'], Date.UTC(2025, 6, 1, 10, 0), [
      [[0, 0], [1000, 0], [500, 0]],
      [[0, 0], [1000, 0], [500, 0]],
      [[0, 2000], [1000, 0], [500, 0]],
      [[0, 2000], [1000, 0], [500, 0]],
    ]);
    const r = createAllocator('it-cer').allocate(m);
    const hours = cerHours(m, r);
    expect(Array.from(hours.sharedWh)).toEqual([4000]);
    expect(Array.from(hours.injectedWh)).toEqual([4000]);
    expect(Array.from(hours.withdrawnWh)).toEqual([6000]);
    expect(Array.from(hours.memberWithdrawalSharedWh)).toEqual([0, 2667, 1333]);
    expect(Array.from(hours.memberInjectionSharedWh)).toEqual([4000, 0, 0]);
    // Members keep their physical flows: the quarter-hour figures only spread the hourly
    // attribution (A 2667 over four equal quarters → 667, 667, 667, 666).
    expect([0, 1, 2, 3].map((q) => column(r, 'fromCommunityWh', q)[1])).toEqual([667, 667, 667, 666]);
  });

  it('splits shared energy over plants in commissioning order when asked', () => {
    // GSE: shared energy may be split per plant "a partire dalle immissioni degli impianti di
    // produzione entrati prima in esercizio". Old plant 2000, new plant 2000, withdrawal 3000
    // → shared 3000: old plant 2000, new plant 1000.
    const m = input(['old', 'new', 'casa'], Date.UTC(2025, 6, 1, 10, 0), [[[0, 2000], [0, 2000], [3000, 0]]]);
    const r = createAllocator('it-cer', { producers: { kind: 'priority', order: [0, 1] } }).allocate(m);
    expect(column(r, 'toCommunityWh', 0)).toEqual([2000, 1000, 0]);
    const proportional = createAllocator('it-cer').allocate(m);
    expect(column(proportional, 'toCommunityWh', 0)).toEqual([1500, 1500, 0]);
  });
});
