import type { InvoiceSummary } from '@gridshare/contract/billing';
import type { MessageKey } from '../lib/i18n/index.js';
import { useI18n } from '../lib/i18n/provider.js';
import { Badge } from './ui.js';

type Status = InvoiceSummary['payment']['status'];

export const PAYMENT_LABELS: Record<Status, MessageKey> = {
  open: 'payment.open', paid: 'payment.paid', partial: 'payment.partial', failed: 'payment.failed',
};
const TONES = { open: 'neutral', paid: 'good', partial: 'warn', failed: 'bad' } as const;

/** An invoice's payment status as a badge. */
export function PaymentBadge({ status }: { status: Status }) {
  const { t } = useI18n();
  return <Badge tone={TONES[status]}>{t(PAYMENT_LABELS[status])}</Badge>;
}
