import type { MarketDispute, Wallet } from '@gridshare/contract/market';
import type { Translate } from '../lib/i18n/index.js';
import { Badge } from './ui.js';

/** How the market's wallet postings and disputes read, on the member's page and the manager's alike. */

function lineName(t: Translate, line: string | null): string {
  if (line === 'sale') return t('market.lineSale');
  if (line === 'purchase') return t('market.linePurchase');
  if (line === 'grid-fee') return t('market.lineGridFee');
  if (line === 'balancing-surplus') return t('market.lineSurplus');
  if (line === 'balancing-shortfall') return t('market.lineShortfall');
  return t('market.kindCorrection');
}

/** What a posting is, as its member reads it. */
export function postingKind(t: Translate, kind: Wallet['postings'][number]['kind'], line: string | null): string {
  if (kind === 'top-up') return t('market.kindTopUp');
  if (kind === 'payout') return t('market.kindPayout');
  if (kind === 'dispute-correction') return t('market.kindDisputeCorrection');
  if (kind === 'transfer') return t('market.kindTransfer');
  if (kind === 'settlement-correction') return t('market.correctionOf', { line: lineName(t, line) });
  return lineName(t, line);
}

/** A dispute's state as a badge. */
export function disputeState(t: Translate, d: MarketDispute) {
  if (d.state === 'open') return <Badge tone="warn">{t('market.disputeOpen')}</Badge>;
  if (d.state === 'rejected') return <Badge tone="neutral">{t('market.disputeRejected')}</Badge>;
  return <Badge tone="good">{t('market.disputeCorrected')}</Badge>;
}

