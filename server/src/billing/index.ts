/** billing: the public surface other capabilities and the composition root use. */
export { billingRoutes } from './routes.js';
export { registerSepaCommands } from './commands.js';
export { memberStatementList, pseudonymiseStatements } from './store.js';
export { eraseBillingMasterData, endBillingRetention, type BillingErasure, type BillingRetention } from './erasure.js';
export { memberSavings, closedSettlement, issuedStatement, runSettlement, closeSettlement, settlementGaps, type IssuedStatement, type Settlement } from './settlements.js';
export { PERSONAL_STATEMENT_FIELDS, type StatementDocument } from './domain/statement.js';
export { statementEmail, settlementStatementIds, type StatementEmail } from './email.js';
export { PAYMENT_REMINDER_JOB, paymentReminderJob } from './reminders.js';
