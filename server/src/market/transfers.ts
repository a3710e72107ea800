import type { Queryable } from '../platform/store/db.js';
import type { Publish } from '../platform/events/index.js';
import { ConflictError } from '../kernel/errors.js';
import { formatNano } from '../kernel/money.js';
import { walletAccount, walletTransfer, type Posting } from './domain/ledger.js';
import { postToLedger } from './service.js';
import { accountBalances, lockLedger } from './store.js';

export interface WalletPayment {
  readonly fromMemberId: string;
  readonly toMemberId: string;
  /** In the currency's minor unit (cents), > 0. */
  readonly amountMinor: bigint;
  /** The currency's minor digits (2 for EUR). */
  readonly digits: number;
  /** What is paid for, kept on the posting (privacy: `data-offer:<offer id>`). */
  readonly reference: string;
}

/**
 * One payment from a member's wallet to another's, in the caller's transaction: under the
 * community's ledger lock, refused (409, nothing posted) when the payer's wallet holds less than
 * the amount — a wallet is never overdrawn by a payment. Returns the posting (its sequence is the
 * payment's id in the ledger); rolled back with the caller's transaction should that fail later.
 * A payment that takes the payer below the low-balance threshold is announced like any posting's.
 */
export async function payBetweenWallets(tx: Queryable, publish: Publish, communityId: string, payment: WalletPayment, nowMs: number): Promise<Posting> {
  const draft = walletTransfer(payment.fromMemberId, payment.toMemberId, payment.amountMinor, payment.digits, payment.reference);
  await lockLedger(tx, communityId);
  const balance = (await accountBalances(tx, communityId)).get(walletAccount(payment.fromMemberId)) ?? 0n;
  if (balance < draft.amount) throw new ConflictError(`the wallet holds ${formatNano(balance)}, less than the ${formatNano(draft.amount)} to pay`);
  const [posting] = await postToLedger(tx, communityId, [draft], nowMs, publish);
  return posting!;
}
