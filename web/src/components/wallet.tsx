import type { MarketDispute, Wallet } from '@gridshare/contract/market';
import type { Translate } from '../lib/i18n/index.js';
import type { Formatter } from '../lib/format.js';
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

/**
 * What a settlement movement pays, in the community's time zone: its period (first slot … end of the
 * last) and how many settlement lines — a day's lines of one kind since movements are netted per
 * kind; an older movement paid one line of one slot and shows that slot. Empty for other movements.
 */
export function postingPeriod(t: Translate, fmt: Formatter, p: Pick<Wallet['postings'][number], 'slotStart' | 'slotEnd' | 'lines'>): string {
  if (p.slotStart === null) return '';
  if (p.slotEnd === null) return fmt.dateTime(p.slotStart);
  const period = fmt.span(p.slotStart, p.slotEnd, true);
  return p.lines === null ? period : t('market.periodLines', { period, count: p.lines });
}

/** A dispute's state as a badge. */
export function disputeState(t: Translate, d: MarketDispute) {
  if (d.state === 'open') return <Badge tone="warn">{t('market.disputeOpen')}</Badge>;
  if (d.state === 'rejected') return <Badge tone="neutral">{t('market.disputeRejected')}</Badge>;
  return <Badge tone="good">{t('market.disputeCorrected')}</Badge>;
}

