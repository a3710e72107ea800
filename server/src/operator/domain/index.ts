/**
 * Austrian operator-import mode (issue 5): read the grid operator's allocation from EDA
 * ConsumptionRecord messages, map it to per-Zählpunkt quarter-hour figures, and reconcile those
 * with Gridshare's own metered data. Pure: no I/O. See README.md beside this file.
 *
 *   parseConsumptionRecord(xml)            → ConsumptionRecord       (one message, checked)
 *   operatorFigures(records)               → OperatorFigure[]        (per Zählpunkt and quarter hour)
 *   operatorAllocationRows(figures, …)     → rows for storeOperatorAllocations
 *   reconcile(figures, metered, tolerance) → Reconciliation          (differences and summaries)
 *   messageCodes / mergeCodes / storedFigure                          (codes as the import service stores them)
 */
export { parseConsumptionRecord, SUPPORTED_VERSIONS } from './consumption-record.js';
export type {
  ConsumptionRecord, ConsumptionRecordVersion, EnergyBlock, EnergyPosition, EnergySeries, MeteringMethod,
  OperatorQuality, ParseOptions,
} from './consumption-record.js';
export { ENERGY_CODES, energyCode } from './codes.js';
export type { EnergyCode, EnergyCodeRole } from './codes.js';
export { EdaInputError, EdaMessageError } from './errors.js';
export type { EdaErrorReason } from './errors.js';
export { figureFromCodes, operatorAllocationRows, operatorFigures } from './figures.js';
export type { OperatorAllocationRow, OperatorFigure } from './figures.js';
export { DIFFERENCE_KINDS, METERED_ALLOWANCE_WH, reconcile } from './reconcile.js';
export type {
  CommunitySummary, Difference, DifferenceKind, MeteredInterval, PointRole, PointSummary, Reconciliation, Tolerance,
} from './reconcile.js';
export { mergeCodes, messageCodes, parseStoredCodes, storedFigure } from './stored-codes.js';
export type { StoredCode, StoredCodes } from './stored-codes.js';
