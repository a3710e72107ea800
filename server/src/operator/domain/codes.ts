/**
 * The energy codes (MeterCode, OBIS-like) that Austrian grid operators send to an energy
 * community in ConsumptionRecord messages (process CR_MSG, message DATEN_CRMSG). Meanings and
 * sources are in README.md beside this file. Every Zählpunkt is either a consumption point or a
 * generation (feed-in) point; a prosumer has one of each.
 *
 * Codes not listed here are kept as they are (in `raw`) and reported as unknown: operators add
 * codes (the T and R variants came in 2024), and refusing a whole day of data for a code we do
 * not use would be worse than carrying it along.
 */
export type EnergyCodeRole = 'consumption' | 'generation';

export interface EnergyCode {
  readonly code: string;
  readonly role: EnergyCodeRole;
  /** Short English name used in output. */
  readonly name: string;
  /** The German label of the EDA energy-data report, as found in the sources. */
  readonly label: string;
}

export const CONSUMPTION_TOTAL = '1-1:1.9.0 G.01';
export const CONSUMPTION_PARTICIPATING = '1-1:1.9.0 G.01T';
export const COMMUNITY_SHARE = '1-1:2.9.0 G.02';
export const OWN_COVERAGE = '1-1:2.9.0 G.03';
export const OWN_COVERAGE_RENEWABLE = '1-1:2.9.0 G.03R';
export const GENERATION_TOTAL = '1-1:2.9.0 G.01';
export const GENERATION_PARTICIPATING = '1-1:2.9.0 G.01T';
export const SURPLUS = '1-1:2.9.0 P.01';
export const SURPLUS_PARTICIPATING = '1-1:2.9.0 P.01T';

const CODES: readonly EnergyCode[] = [
  { code: CONSUMPTION_TOTAL, role: 'consumption', name: 'consumption', label: 'Gesamtverbrauch lt. Messung' },
  { code: CONSUMPTION_PARTICIPATING, role: 'consumption', name: 'participating consumption', label: 'Verbrauch lt. Messung entsprechend dem Teilnahmefaktor je ZP und EC-ID' },
  { code: COMMUNITY_SHARE, role: 'consumption', name: 'community share', label: 'Anteil gemeinschaftliche Erzeugung' },
  { code: OWN_COVERAGE, role: 'consumption', name: 'own coverage', label: 'Eigendeckung gemeinschaftliche Erzeugung' },
  { code: OWN_COVERAGE_RENEWABLE, role: 'consumption', name: 'own coverage, renewable', label: 'Eigendeckung aus erneuerbarer Energie' },
  { code: GENERATION_TOTAL, role: 'generation', name: 'generation', label: 'Gesamte gemeinschaftliche Erzeugung' },
  { code: GENERATION_PARTICIPATING, role: 'generation', name: 'participating generation', label: 'Erzeugung lt. Messung entsprechend dem Teilnahmefaktor und EC-ID' },
  { code: SURPLUS, role: 'generation', name: 'community surplus', label: 'Gesamt/Überschusserzeugung, Gemeinschaftsüberschuss' },
  { code: SURPLUS_PARTICIPATING, role: 'generation', name: 'remaining surplus', label: 'Restüberschuss bei EG und je ZP' },
];

const BY_CODE = new Map(CODES.map((entry) => [entry.code, entry]));

export const ENERGY_CODES: readonly EnergyCode[] = CODES;

export function energyCode(code: string): EnergyCode | undefined {
  return BY_CODE.get(code);
}

/**
 * A meter code as sent, with runs of blanks collapsed: `1-1:1.9.0  G.01` is `1-1:1.9.0 G.01`.
 * At most 25 printable ASCII characters (the schema's limit), or undefined.
 */
export function normaliseMeterCode(text: string): string | undefined {
  const code = text.trim().replace(/\s+/g, ' ');
  return code.length > 0 && code.length <= 25 && /^[\x21-\x7e ]+$/.test(code) ? code : undefined;
}
