import { QUARTER_HOUR_MS } from '../../kernel/time.js';
import { energyCode, normaliseMeterCode } from './codes.js';
import { EdaMessageError } from './errors.js';
import { milliWhToWh, parseMilliWh } from './quantity.js';
import { parseOffsetInstant, parseQuarterHour } from './time.js';
import { readXml, type XmlElement, type XmlLimits } from './xml.js';

/**
 * `parseConsumptionRecord`: an EDA ConsumptionRecord message (schema versions 01.30, 01.31,
 * 01.40, 01.41) as plain, checked data. Structure, as in the ebUtilities schema:
 *
 *   ConsumptionRecord
 *     MarketParticipantDirectory  (DocumentMode, Duplicate, SchemaVersion attributes)
 *       RoutingHeader / Sender / MessageAddress, Receiver / MessageAddress, DocumentCreationDateTime
 *       MessageCode               (DATEN_CRMSG for energy communities)
 *     ProcessDirectory
 *       MessageId, ConversationId, ProcessDate?, MeteringPoint (the Zählpunkt)
 *       ECID?                     (the community; from 01.40)
 *       Sequence?                 (from 01.41)
 *       Energy+                   (up to 1000)
 *         MeteringReason?, MeteringPeriodStart, MeteringPeriodEnd, MeteringIntervall (QH),
 *         NumberOfMeteringIntervall
 *         EnergyData+ (MeterCode, UOM attributes)
 *           EP+: DTF, DTT (optional before 01.40), MM (optional before 01.40), BQ
 */

/** Schema versions whose structure this parser was checked against. */
export const SUPPORTED_VERSIONS = ['01.30', '01.31', '01.40', '01.41'] as const;
export type ConsumptionRecordVersion = (typeof SUPPORTED_VERSIONS)[number];

const EBUTILITIES = 'http://www.ebutilities.at/schemata/';
const RECORD_NAMESPACE = /^http:\/\/www\.ebutilities\.at\/schemata\/customerprocesses\/consumptionrecord\/(\d\d)p(\d\d)$/;

/**
 * The metering method (MM, "Ableseart") as sent, and what it says about the value:
 * L1 a real measured value, L2 a reliable substitute value, L3 a provisional substitute that
 * the operator will replace. The numeric methods 01–05 are in the schema but their meaning was
 * not found in public sources: `unspecified`, as is a position without MM (allowed before 01.40).
 */
export type OperatorQuality = 'measured' | 'substitute' | 'unspecified' | 'provisional';
export const METERING_METHODS = ['01', '02', '03', '04', '05', 'L1', 'L2', 'L3'] as const;
export type MeteringMethod = (typeof METERING_METHODS)[number];

export function operatorQuality(method: MeteringMethod | null): OperatorQuality {
  if (method === 'L1') return 'measured';
  if (method === 'L2') return 'substitute';
  if (method === 'L3') return 'provisional';
  return 'unspecified';
}

export interface EnergyPosition {
  /** UTC start of the quarter hour, ms since the epoch. */
  readonly startMs: number;
  /** The quantity exactly as sent, in mWh (6 decimals of a kWh). */
  readonly milliWh: number;
  /** Rounded to whole Wh, half away from zero. */
  readonly wh: number;
  readonly method: MeteringMethod | null;
  readonly quality: OperatorQuality;
}

export interface EnergySeries {
  /** Normalised meter code, e.g. `1-1:2.9.0 G.03`. */
  readonly meterCode: string;
  /** False for codes this module does not know; they are kept, not interpreted. */
  readonly known: boolean;
  /** Positions in time order. */
  readonly positions: readonly EnergyPosition[];
}

export interface EnergyBlock {
  readonly meteringReason: string | null;
  readonly periodStartMs: number;
  readonly periodEndMs: number;
  readonly intervalCount: number;
  readonly series: readonly EnergySeries[];
}

export interface ConsumptionRecord {
  readonly schemaVersion: ConsumptionRecordVersion;
  /** PROD or SIMU (a test message); null when absent. */
  readonly documentMode: string | null;
  readonly duplicate: boolean | null;
  readonly messageCode: string;
  readonly sender: string | null;
  readonly receiver: string | null;
  readonly createdAtMs: number | null;
  readonly messageId: string;
  readonly conversationId: string;
  readonly processDate: string | null;
  /** The Zählpunkt: 33 characters, `AT` and 31 letters or digits. */
  readonly meteringPoint: string;
  /** The community (Gemeinschafts-ID), 33 characters; absent before 01.40. */
  readonly communityId: string | null;
  readonly sequence: string | null;
  readonly energy: readonly EnergyBlock[];
  /** Meter codes present that this module does not interpret. */
  readonly unknownCodes: readonly string[];
}

export type ParseOptions = XmlLimits;

const ZAEHLPUNKT = /^AT[0-9A-Za-z]{31}$/;
const GROUPING_ID = /^[0-9A-Za-z]{1,35}$/;
const MESSAGE_CODE = /^[0-9A-Za-z_]{1,20}$/;

/** Children in an ebUtilities namespace; elements of other namespaces are extensions and ignored. */
function childrenNamed(parent: XmlElement, local: string): XmlElement[] {
  return parent.children.filter((child) => child.local === local && child.uri.startsWith(EBUTILITIES));
}

function optionalChild(parent: XmlElement, local: string, path: string): XmlElement | undefined {
  const found = childrenNamed(parent, local);
  if (found.length > 1) throw new EdaMessageError('repeated_element', `<${local}> occurs ${found.length} times`, `${path}/${local}`);
  return found[0];
}

function child(parent: XmlElement, local: string, path: string): XmlElement {
  const found = optionalChild(parent, local, path);
  if (!found) throw new EdaMessageError('missing_element', `<${local}> is missing`, `${path}/${local}`);
  return found;
}

function leafText(element: XmlElement, path: string): string {
  if (element.children.length > 0) throw new EdaMessageError('malformed_xml', 'expected text, found elements', path);
  return element.text.trim();
}

function optionalText(parent: XmlElement, local: string, path: string): string | null {
  const element = optionalChild(parent, local, path);
  return element ? leafText(element, `${path}/${local}`) : null;
}

function requiredText(parent: XmlElement, local: string, path: string): string {
  return leafText(child(parent, local, path), `${path}/${local}`);
}

function identifier(text: string, pattern: RegExp, what: string, field: string): string {
  if (!pattern.test(text)) throw new EdaMessageError('invalid_value', `${JSON.stringify(text.slice(0, 40))} is not a valid ${what}`, field);
  return text;
}

function schemaVersion(root: XmlElement): ConsumptionRecordVersion {
  const match = RECORD_NAMESPACE.exec(root.uri);
  if (root.local !== 'ConsumptionRecord' || !match) {
    throw new EdaMessageError('not_a_consumption_record', `the root element is <${root.local}> in ${JSON.stringify(root.uri)}, not an ebUtilities ConsumptionRecord`);
  }
  const version = `${match[1]}.${match[2]}`;
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    throw new EdaMessageError('unsupported_version', `ConsumptionRecord ${version} is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`);
  }
  return version as ConsumptionRecordVersion;
}

/** Tracks (meter code, quarter hour) over the whole message: the same pair twice is refused. */
type SeenPositions = Map<string, Set<number>>;

function parsePosition(ep: XmlElement, path: string, block: { start: number; end: number }): EnergyPosition {
  const startMs = parseQuarterHour(requiredText(ep, 'DTF', path), `${path}/DTF`);
  if (startMs < block.start || startMs >= block.end) {
    throw new EdaMessageError('position_outside_period', 'the quarter hour lies outside MeteringPeriodStart–MeteringPeriodEnd', `${path}/DTF`);
  }
  const dtt = optionalText(ep, 'DTT', path);
  if (dtt !== null && parseQuarterHour(dtt, `${path}/DTT`) !== startMs + QUARTER_HOUR_MS) {
    throw new EdaMessageError('position_outside_period', 'DTT is not 15 minutes after DTF', `${path}/DTT`);
  }
  const mm = optionalText(ep, 'MM', path);
  if (mm !== null && !(METERING_METHODS as readonly string[]).includes(mm)) {
    throw new EdaMessageError('invalid_value', `${JSON.stringify(mm.slice(0, 10))} is not a metering method (${METERING_METHODS.join(', ')})`, `${path}/MM`);
  }
  const method = mm as MeteringMethod | null;
  const milliWh = parseMilliWh(requiredText(ep, 'BQ', path), `${path}/BQ`);
  return { startMs, milliWh, wh: milliWhToWh(milliWh), method, quality: operatorQuality(method) };
}

function parseSeries(data: XmlElement, path: string, block: { start: number; end: number; count: number }, seen: SeenPositions): EnergySeries {
  const meterCode = normaliseMeterCode(data.attributes.get('MeterCode') ?? '');
  if (meterCode === undefined) throw new EdaMessageError('invalid_value', 'MeterCode is missing or not a meter code', `${path}/@MeterCode`);
  const unit = data.attributes.get('UOM')?.trim();
  if (unit !== 'KWH') throw new EdaMessageError('unsupported_unit', `UOM ${JSON.stringify(unit ?? '')} is not KWH`, `${path}/@UOM`);
  const known = energyCode(meterCode) !== undefined;
  const eps = childrenNamed(data, 'EP');
  if (eps.length !== block.count) {
    throw new EdaMessageError('count_mismatch', `${eps.length} positions for ${meterCode}, NumberOfMeteringIntervall says ${block.count}`, path);
  }
  const seenStarts = seen.get(meterCode) ?? new Set<number>();
  seen.set(meterCode, seenStarts);
  const positions = eps.map((ep, k) => {
    const position = parsePosition(ep, `${path}/EP[${k + 1}]`, block);
    if (position.milliWh < 0 && known) {
      throw new EdaMessageError('negative_quantity', `${meterCode} cannot be negative`, `${path}/EP[${k + 1}]/BQ`);
    }
    if (seenStarts.has(position.startMs)) {
      throw new EdaMessageError('duplicate_position', `${meterCode} for ${new Date(position.startMs).toISOString()} occurs twice`, `${path}/EP[${k + 1}]`);
    }
    seenStarts.add(position.startMs);
    return position;
  });
  positions.sort((a, b) => a.startMs - b.startMs);
  return { meterCode, known, positions };
}

function parseEnergy(energy: XmlElement, path: string, seen: SeenPositions): EnergyBlock {
  const start = parseQuarterHour(requiredText(energy, 'MeteringPeriodStart', path), `${path}/MeteringPeriodStart`);
  const end = parseQuarterHour(requiredText(energy, 'MeteringPeriodEnd', path), `${path}/MeteringPeriodEnd`);
  const interval = requiredText(energy, 'MeteringIntervall', path);
  if (interval !== 'QH') {
    throw new EdaMessageError('unsupported_interval', `MeteringIntervall ${JSON.stringify(interval.slice(0, 10))}: only quarter hours (QH) are supported`, `${path}/MeteringIntervall`);
  }
  const countText = requiredText(energy, 'NumberOfMeteringIntervall', path);
  const count = /^\d{1,7}$/.test(countText) ? Number(countText) : Number.NaN;
  if (!(count >= 1)) throw new EdaMessageError('invalid_value', `${JSON.stringify(countText.slice(0, 20))} is not a number of intervals`, `${path}/NumberOfMeteringIntervall`);
  if (end - start !== count * QUARTER_HOUR_MS) {
    throw new EdaMessageError('period_mismatch', `the period holds ${(end - start) / QUARTER_HOUR_MS} quarter hours, NumberOfMeteringIntervall says ${count}`, `${path}/NumberOfMeteringIntervall`);
  }
  const blocks = childrenNamed(energy, 'EnergyData');
  if (blocks.length === 0) throw new EdaMessageError('missing_element', '<EnergyData> is missing', `${path}/EnergyData`);
  const series = blocks.map((data, k) => parseSeries(data, `${path}/EnergyData[${k + 1}]`, { start, end, count }, seen));
  return { meteringReason: optionalText(energy, 'MeteringReason', path), periodStartMs: start, periodEndMs: end, intervalCount: count, series };
}

/**
 * Parses and checks one ConsumptionRecord message. Refuses, with an `EdaMessageError` naming
 * the reason and the place, anything that is not exactly a well-formed quarter-hour record:
 * malformed or oversized XML, a DOCTYPE, another message type or schema version, missing or
 * repeated elements, times without offset or off the quarter-hour grid, intervals other than
 * QH, units other than KWH, quantities that are not decimals (NaN, exponents, commas), negative
 * or implausibly large energies, position counts that differ from NumberOfMeteringIntervall,
 * positions outside their period and the same code for the same quarter hour twice.
 */
export function parseConsumptionRecord(xml: string | Uint8Array, options: ParseOptions = {}): ConsumptionRecord {
  const root = readXml(xml, options);
  const version = schemaVersion(root);
  const mpd = child(root, 'MarketParticipantDirectory', 'ConsumptionRecord');
  const declared = mpd.attributes.get('SchemaVersion')?.trim();
  if (declared !== undefined && declared !== version) {
    throw new EdaMessageError('unsupported_version', `SchemaVersion ${JSON.stringify(declared.slice(0, 10))} differs from the namespace's ${version}`, 'MarketParticipantDirectory/@SchemaVersion');
  }
  const duplicate = mpd.attributes.get('Duplicate')?.trim();
  const routing = optionalChild(mpd, 'RoutingHeader', 'MarketParticipantDirectory');
  const address = (party: string) => {
    const element = routing ? optionalChild(routing, party, 'MarketParticipantDirectory/RoutingHeader') : undefined;
    return element ? optionalText(element, 'MessageAddress', `MarketParticipantDirectory/RoutingHeader/${party}`) : null;
  };
  const created = routing ? optionalText(routing, 'DocumentCreationDateTime', 'MarketParticipantDirectory/RoutingHeader') : null;

  const pd = child(root, 'ProcessDirectory', 'ConsumptionRecord');
  const path = 'ProcessDirectory';
  const meteringPoint = identifier(requiredText(pd, 'MeteringPoint', path), ZAEHLPUNKT, 'Zählpunkt (AT and 31 letters or digits)', `${path}/MeteringPoint`);
  const ecid = optionalText(pd, 'ECID', path);
  const seen: SeenPositions = new Map();
  const energies = childrenNamed(pd, 'Energy');
  if (energies.length === 0) throw new EdaMessageError('missing_element', '<Energy> is missing', `${path}/Energy`);
  const energy = energies.map((element, k) => parseEnergy(element, `${path}/Energy[${k + 1}]`, seen));
  const unknownCodes = [...seen.keys()].filter((code) => energyCode(code) === undefined).sort();

  return {
    schemaVersion: version,
    documentMode: mpd.attributes.get('DocumentMode')?.trim() ?? null,
    duplicate: duplicate === undefined ? null : duplicate === 'true' || duplicate === '1',
    messageCode: identifier(requiredText(mpd, 'MessageCode', 'MarketParticipantDirectory'), MESSAGE_CODE, 'message code', 'MarketParticipantDirectory/MessageCode'),
    sender: address('Sender'),
    receiver: address('Receiver'),
    createdAtMs: created === null ? null : parseOffsetInstant(created, 'MarketParticipantDirectory/RoutingHeader/DocumentCreationDateTime'),
    messageId: identifier(requiredText(pd, 'MessageId', path), GROUPING_ID, 'message id', `${path}/MessageId`),
    conversationId: identifier(requiredText(pd, 'ConversationId', path), GROUPING_ID, 'conversation id', `${path}/ConversationId`),
    processDate: optionalText(pd, 'ProcessDate', path),
    meteringPoint,
    communityId: ecid === null ? null : identifier(ecid, ZAEHLPUNKT, 'community id (ECID)', `${path}/ECID`),
    sequence: optionalText(pd, 'Sequence', path),
    energy,
    unknownCodes,
  };
}
