/**
 * What invoices name about a member: their billing details (the member edits their own, managers
 * their community's) and their SEPA direct-debit mandate (managers record it).
 */
import { useState } from 'preact/hooks';
import type { BillingDetails, SepaMandate } from '@gridshare/contract/billing';
import { call } from '../api/client.js';
import type { Formatter } from '../lib/format.js';
import { formValues, useAction } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';
import { memberVatRegimeName } from '../lib/names.js';
import { ErrorNote, Field } from './ui.js';
import { DateInput } from './date-input.js';

type MemberRegime = BillingDetails['vat']['regime'];
type PostalAddress = BillingDetails['address'];
const MEMBER_REGIMES: MemberRegime[] = ['private', 'small-business', 'registered'];

/** A form's text, trimmed; undefined when left empty, so optional fields are left out of the body. */
export const filled = (value: string | undefined): string | undefined => (value?.trim() ? value.trim() : undefined);

export const addressOf = (v: Record<string, string>): PostalAddress => ({
  street: v.street ?? '', postalCode: v.postalCode ?? '', city: v.city ?? '', country: (v.country ?? '').trim().toUpperCase(),
});

/** "Gartengasse 7, 8020 Graz, Austria" in the reader's order of the parts. */
export function AddressText({ address, fmt }: { address: PostalAddress; fmt: Formatter }) {
  const { t } = useI18n();
  return <>{t('billing.addressLine', { street: address.street, postalCode: address.postalCode, city: address.city, country: fmt.country(address.country) })}</>;
}

/** Street, postal code, city and country of a postal address; `prefix` keeps the ids apart where a page has several. */
export function AddressFields({ prefix, address, defaultCountry }: { prefix: string; address: PostalAddress | undefined; defaultCountry: string }) {
  const { t } = useI18n();
  return (
    <>
      <Field id={`${prefix}-street`} label={t('billing.street')}>
        <input id={`${prefix}-street`} name="street" required maxLength={140} autoComplete="street-address" defaultValue={address?.street ?? ''} />
      </Field>
      <Field id={`${prefix}-postal-code`} label={t('billing.postalCode')}>
        <input id={`${prefix}-postal-code`} name="postalCode" required maxLength={20} autoComplete="postal-code" defaultValue={address?.postalCode ?? ''} />
      </Field>
      <Field id={`${prefix}-city`} label={t('billing.city')}>
        <input id={`${prefix}-city`} name="city" required maxLength={140} autoComplete="address-level2" defaultValue={address?.city ?? ''} />
      </Field>
      <Field id={`${prefix}-country`} label={t('billing.country')} hint={t('billing.countryHint')}>
        <input id={`${prefix}-country`} name="country" required minLength={2} maxLength={2} pattern="[A-Za-z]{2}" autoComplete="country"
          aria-describedby={`${prefix}-country-hint`} defaultValue={address?.country ?? defaultCountry} />
      </Field>
    </>
  );
}

/** The name, address and VAT status invoices are made out to, and where credits are paid without a mandate. */
export function BillingDetailsForm({ memberId, details, defaultName, defaultCountry, onSaved }: {
  memberId: string;
  details: BillingDetails | null;
  defaultName: string;
  defaultCountry: string;
  onSaved: () => void;
}) {
  const { t } = useI18n();
  const action = useAction();
  const [saved, setSaved] = useState(false);
  const prefix = `details-${memberId}`;
  const submit = (event: Event) => {
    const v = formValues(event);
    setSaved(false);
    const vatId = filled(v.vatId);
    const payoutIban = filled(v.payoutIban);
    const payoutBic = filled(v.payoutBic);
    void action.run(async () => {
      await call('setBillingDetails', {
        params: { id: memberId },
        body: {
          fullName: v.fullName ?? '',
          address: addressOf(v),
          vat: { regime: v.regime as MemberRegime, ...(vatId ? { vatId } : {}), ...(v.reverseCharge ? { reverseCharge: true } : {}) },
          ...(payoutIban ? { payoutAccount: { iban: payoutIban, ...(payoutBic ? { bic: payoutBic } : {}) } } : {}),
        },
      });
      setSaved(true);
      onSaved();
    });
  };
  return (
    <form onSubmit={submit} aria-label={t('billing.address')}>
      <Field id={`${prefix}-name`} label={t('billing.fullName')}>
        <input id={`${prefix}-name`} name="fullName" required maxLength={140} autoComplete="name" defaultValue={details?.fullName ?? defaultName} />
      </Field>
      <AddressFields prefix={prefix} address={details?.address} defaultCountry={defaultCountry} />
      <Field id={`${prefix}-regime`} label={t('billing.vatRegime')}>
        <select id={`${prefix}-regime`} name="regime">
          {MEMBER_REGIMES.map((r) => <option key={r} value={r} selected={r === (details?.vat.regime ?? 'private')}>{memberVatRegimeName(r, t)}</option>)}
        </select>
      </Field>
      <Field id={`${prefix}-vat-id`} label={t('billing.vatId')} hint={t('billing.memberVatIdHint')}>
        <input id={`${prefix}-vat-id`} name="vatId" maxLength={140} aria-describedby={`${prefix}-vat-id-hint`} defaultValue={details?.vat.vatId ?? ''} />
      </Field>
      <label class="inline">
        <input type="checkbox" name="reverseCharge" defaultChecked={details?.vat.reverseCharge ?? false} /> {t('billing.reverseCharge')}
      </label>
      <Field id={`${prefix}-payout-iban`} label={t('billing.payoutIban')} hint={t('billing.payoutIbanHint')}>
        <input id={`${prefix}-payout-iban`} name="payoutIban" maxLength={42} aria-describedby={`${prefix}-payout-iban-hint`} defaultValue={details?.payoutAccount?.iban ?? ''} />
      </Field>
      <Field id={`${prefix}-payout-bic`} label={t('billing.payoutBic')}>
        <input id={`${prefix}-payout-bic`} name="payoutBic" maxLength={11} defaultValue={details?.payoutAccount?.bic ?? ''} />
      </Field>
      <ErrorNote error={action.error} />
      {saved && <p role="status">{t('billing.saved')}</p>}
      <button type="submit" disabled={action.busy}>{t('billing.saveDetails')}</button>
    </form>
  );
}

/** The mandate in force as "SUN-M-0002, signed 20 Jan 2026", or that there is none. */
export function MandateText({ mandate, fmt }: { mandate: SepaMandate | null; fmt: Formatter }) {
  const { t } = useI18n();
  return <>{mandate ? t('billing.mandateOf', { id: mandate.mandateId, date: fmt.day(mandate.signedOn) }) : t('billing.noMandate')}</>;
}

/** Records the member's signed mandate (replacing the one in force) or ends it; managers only, as the API. */
export function MandateForm({ memberId, memberName, mandate, onSaved }: { memberId: string; memberName: string; mandate: SepaMandate | null; onSaved: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const [saved, setSaved] = useState(false);
  const prefix = `mandate-${memberId}`;
  const submit = (event: Event) => {
    const v = formValues(event);
    setSaved(false);
    const bic = filled(v.bic);
    void action.run(async () => {
      await call('setSepaMandate', {
        params: { id: memberId },
        body: { mandateId: v.mandateId?.trim() ?? '', signedOn: v.signedOn ?? '', iban: v.iban ?? '', ...(bic ? { bic } : {}), accountHolder: v.accountHolder ?? '' },
      });
      setSaved(true);
      onSaved();
    });
  };
  const revoke = () => {
    if (!window.confirm(t('billing.confirmRevoke', { name: memberName }))) return;
    void action.run(async () => {
      await call('revokeSepaMandate', { params: { id: memberId } });
      onSaved();
    });
  };
  return (
    <form onSubmit={submit} aria-label={t('billing.mandate')}>
      <Field id={`${prefix}-id`} label={t('billing.mandateId')}>
        <input id={`${prefix}-id`} name="mandateId" required maxLength={35} defaultValue={mandate?.mandateId ?? ''} />
      </Field>
      <Field id={`${prefix}-signed`} label={t('billing.signedOn')}>
        <DateInput id={`${prefix}-signed`} name="signedOn" required value={mandate?.signedOn ?? ''} />
      </Field>
      <Field id={`${prefix}-iban`} label={t('billing.iban')}>
        <input id={`${prefix}-iban`} name="iban" required maxLength={42} defaultValue={mandate?.iban ?? ''} />
      </Field>
      <Field id={`${prefix}-bic`} label={t('billing.bic')}>
        <input id={`${prefix}-bic`} name="bic" maxLength={11} defaultValue={mandate?.bic ?? ''} />
      </Field>
      <Field id={`${prefix}-holder`} label={t('billing.accountHolder')}>
        <input id={`${prefix}-holder`} name="accountHolder" required maxLength={70} defaultValue={mandate?.accountHolder ?? memberName} />
      </Field>
      <ErrorNote error={action.error} />
      {saved && <p role="status">{t('billing.saved')}</p>}
      <div class="row-actions">
        <button type="submit" disabled={action.busy}>{t('billing.saveMandate')}</button>
        {mandate && <button type="button" class="danger" disabled={action.busy} onClick={revoke}>{t('billing.revokeMandate')}</button>}
      </div>
    </form>
  );
}
