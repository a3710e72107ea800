/**
 * flex/: flexibility for the grid operator over UFTP 3.1 (Shapeshifter), with the community as
 * aggregator (AGR). Phase 1 is the pure protocol core; see README.md for the domain API and
 * what phase 2 adds.
 */
export { UftpEncodeError, UftpTransportError, type TransportRefusal } from './domain/uftp/errors.js';
export { readXml, writeXml, PAYLOAD_LIMITS, ENVELOPE_LIMITS, type XmlNode, type XmlLimits } from './domain/uftp/xml.js';
export * from './domain/uftp/messages.js';
export type { LocalDate, Hundredths } from './domain/uftp/values.js';
export {
  decodeBase64, generateSigningKey, parsePublicKey, readSignedMessage, seal, secretKeyBytes, signingKeyFromSecret, unseal, writeSignedMessage,
  type SignedMessage, type SigningKey,
} from './domain/uftp/envelope.js';
export {
  fingerprintOf, isSimplyAnswered, openSignedMessage, readPayload, respondTo, responseHeader, schemaVersionOf, sealMessage, SCHEMA_VERSIONS, WRITTEN_VERSION,
  type IncomingMessage, type Participant, type ResponseIds, type SchemaValidator, type SchemaVersion, type SealedMessage, type SimplyAnswered,
} from './domain/uftp/inbound.js';
export { ispAt, ispStartMs, layOut, perIsp, periodGrid, periodOf, periodsBetween, sameUtcOffsets, toRanges, type PeriodGrid } from './domain/isp.js';
export { REJECTION_PHRASES, rejection, rejectionReasonText, type Rejection, type RejectionCode } from './domain/rejection-reasons.js';
export * from './domain/rejections.js';
export { chosenOption, orderMismatches, scaledOption } from './domain/matching.js';
export {
  answerFlexSettlement, averagePower, ispSettlement, reviewOrderSettlement, settleOrder, toFlexOrderSettlement,
  type OrderSettlement, type OrderSettlementInput, type ReviewTolerances, type SettlementTerms,
} from './domain/settlement.js';
export { addSplits, contributionWh, shareRemuneration, type MemberIspEnergy, type MemberReward, type RewardSplit, type SharingRule } from './domain/rewards.js';
export { defaultSchemaDirectory, loadUftpSchemas, SCHEMA_DIRECTORY_VARIABLE, VENDORED_SCHEMA_DIRECTORY, type LoadedSchemas } from './uftp-schemas.js';

export { registerUftpCommands } from './commands.js';
export { registerDsoSimCommand } from './dso-sim/commands.js';
export { DsoSimulator, type DsoSimulatorOptions, type RequestSchedule } from './dso-sim/simulator.js';

// Phase 2: the transport (tables, endpoint, outbox) and the managers' address book.
export { flexKeyStore } from './store.js';
export { FLEX_OUTBOX_JOB, UftpTransport, type TransportOptions } from './transport.js';
export { FlexAdmin, UFTP_ENDPOINT_PATH } from './service.js';
export { flexOutboxJob } from './job.js';
export { FlexContracts } from './contracts.js';
export {
  afterAction, checkContract, CONTRACT_STATES, formatPrice, SERVICE_TYPES,
  type AvailabilityWindow, type ContractInput, type ContractState, type ContractTerms, type ServiceType,
} from './domain/contracts.js';
export { flexRoutes } from './routes.js';
export { judgeAttempt, retryDelayMs, RETRY_FIRST_MS, RETRY_MAX_MS, RETRY_WINDOW_MS, type AttemptOutcome, type AttemptResult } from './domain/delivery.js';

// The settle phase: FlexSettlements answered per order (transport → settle.ts); members' baselines
// (recorded by the plan phase) and rewards (what billing puts on statements).
export { SETTLEMENT_TOLERANCES } from './settle.js';
export { replaceMemberBaselines as recordMemberBaselines, rewardsOfPeriods as flexRewardsOfPeriods, type MemberBaseline, type StoredReward } from './store.js';
// Plan and validate: the portfolio, D-Prognoses, answering FlexRequests with offers.
export { FlexPortfolio } from './portfolio.js';
export { FLEX_PORTFOLIO_QUERY_JOB, FlexPortfolioQueries, flexPortfolioQueryJob, PORTFOLIO_QUERY_INTERVAL_MS } from './portfolio-query.js';
export { FLEX_PROGNOSIS_JOB, FlexPrognoses, flexPrognosisJob, PROGNOSIS_LEAD_MS } from './prognosis.js';
export { FLEX_VALIDATE_JOB, FlexValidation, flexValidateJob, MAX_PLAN_STEPS } from './validate.js';
export { FlexOperation } from './operate.js';
export { FlexReports } from './reports.js';
export { FlexActivations } from './activations.js';
export { changedMaterially, dPrognosis, MIN_FLEX_W, offerFor, ORDER_LEAD_MS, PROGNOSIS_CHANGE_MIN_W, PROGNOSIS_CHANGE_SHARE, prognosisPowers, requestTargets, type OfferInput, type OfferOutcome, type StepTarget } from './domain/offer.js';
export { connectionKey, meanOver, nextPeriodGate, stepsOfIsps, withinWindows } from './domain/portfolio.js';
export { offerByMessageId, type StoredOffer } from './store/portfolio.js';
