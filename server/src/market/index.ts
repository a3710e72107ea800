/** market: the public surface other capabilities and the composition root use — its pure core (domain/), its CLI command, job and routes. */
export * from './domain/index.js';

export { registerMarketCommands } from './commands.js';
export { MARKET_JOB, marketJob, subscribeMarket, type MarketJob, type MarketJobOptions } from './job.js';
export { marketRoutes } from './routes.js';
export { catchUpSlots, fundWallet, openMarket, setAgentLimits, settleDueSlots } from './service.js';
export { tradesOfSlot } from './store.js';
export { marketStatementFacts, type MarketStatementFacts, type MarketStatementKind, type MarketStatementLine } from './statements.js';
export { fileDispute, settleDispute } from './disputes.js';
export { communityPayouts, decideOnPayout, requestDuePayouts } from './payouts.js';
export { memberWallet, walletPosting, type RecordedPostings } from './views.js';
export { marketPostings, settlementRun, type RecordedLine, type RecordedPosting, type SettlementRunRecord } from './record.js';
export { payBetweenWallets, type WalletPayment } from './transfers.js';
