import { useState } from 'preact/hooks';
import type { BillingProfile, MemberBillingDetails } from '@gridshare/contract/billing';
import type { Community } from '@gridshare/contract/registry';
import { call } from '../../api/client.js';
import { AddressFields, addressOf, AddressText, BillingDetailsForm, filled, MandateForm, MandateText } from '../../components/billing.js';
import { Async, Badge, Empty, ErrorNote, Field } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { formValues, useAction, useApi } from '../../lib/hooks.js';
import type { MessageKey } from '../../lib/i18n/index.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { communityVatRegimeName } from '../../lib/names.js';
import { ManagePage } from './manage-page.js';

type VatCountry = BillingProfile['vat']['country'];
type Regime = BillingProfile['vat']['regime'];
const VAT_COUNTRIES: VatCountry[] = ['AT', 'DE', 'FR', 'ES', 'IT', 'NL', 'BE'];
const REGIMES: Regime[] = ['registered', 'small-business', 'not-registered'];
/** The ids of the profile form's address fields start so. */
const PROFILE_IDS = 'profile';
const isVatCountry = (code: string | null | undefined): code is VatCountry => (VAT_COUNTRIES as (string | null | undefined)[]).includes(code);
type Rates = NonNullable<BillingProfile['vat']['rates']>;
type Component = keyof Rates;
/** The tariff components a rate can be set for, with their labels. */
const RATE_LABELS: Record<Component, MessageKey> = {
  'community-energy': 'billing.vatRate.community-energy',
  'grid-fee-reduction': 'billing.vatRate.grid-fee-reduction',
  'community-sales': 'billing.vatRate.community-sales',
};
/** What the API takes: percent from 0 to 100, at most two decimals. */
const RATE = /^(\d{1,2}(\.\d{1,2})?|100)$/;

/**
 * The rates typed in the form ("7,5" with a decimal comma too), or the first component whose rate
 * is no percentage the API takes. Empty fields are left out: the country's standard rate applies.
 */
/** A stored rate ("7.5", at most two decimals) as the reader writes it ("7,5"); empty where none is set. */
const rateText = (rate: string | undefined, fmt: Formatter) => (rate === undefined ? '' : fmt.count(Number(rate)));

function ratesOf(v: Record<string, string>): { rates: Rates } | { invalid: Component } {
  const rates: Rates = {};
  for (const component of Object.keys(RATE_LABELS) as Component[]) {
    const typed = (v[`rate-${component}`] ?? '').trim().replace(',', '.');
    if (typed === '') continue;
    if (!RATE.test(typed)) return { invalid: component };
    rates[component] = typed;
  }
  return { rates };
}

/** The community as seller on its invoices, and the members as buyers: addresses and mandates. */
export default function Billing({ params }: { params: Record<string, string> }) {
  const communityId = params.communityId!;
  const { t } = useI18n();
  return (
    <ManagePage communityId={communityId} title={t('billing.title')}>
      {(community, fmt) => (
        <>
          <ProfileCard community={community} fmt={fmt} />
          <MembersCard community={community} fmt={fmt} />
        </>
      )}
    </ManagePage>
  );
}

function ProfileCard({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const profile = useApi('getBillingProfile', { params: { id: community.id } });
  return (
    <section class="card" aria-labelledby="profile-heading">
      <h2 id="profile-heading">{t('billing.profile')}</h2>
      <p class="muted">{t('billing.profileIntro')}</p>
      <Async state={profile} what={t('thing.billingProfile')}>
        {(p) => (
          <>
            {p === null && <p class="muted" data-testid="no-billing-profile">{t('billing.noProfile')}</p>}
            <ProfileForm community={community} profile={p} fmt={fmt} onSaved={profile.reload} />
          </>
        )}
      </Async>
    </section>
  );
}

function ProfileForm({ community, profile, fmt, onSaved }: { community: Community; profile: BillingProfile | null; fmt: Formatter; onSaved: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const [saved, setSaved] = useState(false);
  const vatCountry = profile?.vat.country ?? (isVatCountry(community.country) ? community.country : 'AT');
  const submit = (event: Event) => {
    const v = formValues(event);
    setSaved(false);
    const registrationNumber = filled(v.registrationNumber);
    const vatId = filled(v.vatId);
    const bic = filled(v.bic);
    const accountHolder = filled(v.accountHolder);
    const creditorId = filled(v.creditorId);
    const checked = ratesOf(v);
    void action.run(async () => {
      if ('invalid' in checked) throw new Error(t('billing.vatRateInvalid', { component: t(RATE_LABELS[checked.invalid]) }));
      const { rates } = checked;
      await call('setBillingProfile', {
        params: { id: community.id },
        body: {
          legalName: v.legalName ?? '',
          address: addressOf(v),
          ...(registrationNumber ? { registrationNumber } : {}),
          vat: { country: v.vatCountry as VatCountry, regime: v.regime as Regime, ...(vatId ? { vatId } : {}), ...(Object.keys(rates).length > 0 ? { rates } : {}) },
          bank: { iban: v.iban ?? '', ...(bic ? { bic } : {}), ...(accountHolder ? { accountHolder } : {}) },
          ...(creditorId ? { creditorId } : {}),
          invoicePrefix: (v.invoicePrefix ?? '').trim(),
          paymentTermDays: Number(v.paymentTermDays),
        },
      });
      setSaved(true);
      onSaved();
    });
  };
  return (
    <form onSubmit={submit} aria-label={t('billing.profile')}>
      <Field id="profile-legal-name" label={t('billing.legalName')}>
        <input id="profile-legal-name" name="legalName" required maxLength={140} autoComplete="organization" defaultValue={profile?.legalName ?? community.name} />
      </Field>
      <AddressFields prefix={PROFILE_IDS} address={profile?.address} defaultCountry={community.country ?? vatCountry} />
      <Field id="profile-registration" label={t('billing.registrationNumber')}>
        <input id="profile-registration" name="registrationNumber" maxLength={140} defaultValue={profile?.registrationNumber ?? ''} />
      </Field>
      <Field id="profile-vat-country" label={t('billing.vatCountry')}>
        <select id="profile-vat-country" name="vatCountry">
          {fmt.sortBy(VAT_COUNTRIES, fmt.country).map((c) => <option key={c} value={c} selected={c === vatCountry}>{fmt.country(c)}</option>)}
        </select>
      </Field>
      <Field id="profile-regime" label={t('billing.vatRegime')}>
        <select id="profile-regime" name="regime">
          {REGIMES.map((r) => <option key={r} value={r} selected={r === (profile?.vat.regime ?? 'registered')}>{communityVatRegimeName(r, t)}</option>)}
        </select>
      </Field>
      <Field id="profile-vat-id" label={t('billing.vatId')} hint={t('billing.vatIdHint')}>
        <input id="profile-vat-id" name="vatId" maxLength={140} aria-describedby="profile-vat-id-hint" defaultValue={profile?.vat.vatId ?? ''} />
      </Field>
      <fieldset aria-describedby="profile-rates-hint">
        <legend>{t('billing.vatRates')}</legend>
        <small id="profile-rates-hint" class="muted">{t('billing.vatRatesHint')}</small>
        {(Object.keys(RATE_LABELS) as Component[]).map((component) => (
          <Field key={component} id={`profile-rate-${component}`} label={t(RATE_LABELS[component])}>
            <input id={`profile-rate-${component}`} name={`rate-${component}`} inputMode="decimal" maxLength={6}
              defaultValue={rateText(profile?.vat.rates?.[component], fmt)} />
          </Field>
        ))}
      </fieldset>
      <Field id="profile-iban" label={t('billing.iban')}>
        <input id="profile-iban" name="iban" required maxLength={42} defaultValue={profile?.bank.iban ?? ''} />
      </Field>
      <Field id="profile-bic" label={t('billing.bic')}>
        <input id="profile-bic" name="bic" maxLength={11} defaultValue={profile?.bank.bic ?? ''} />
      </Field>
      <Field id="profile-holder" label={t('billing.accountHolder')}>
        <input id="profile-holder" name="accountHolder" maxLength={140} defaultValue={profile?.bank.accountHolder ?? ''} />
      </Field>
      <Field id="profile-creditor" label={t('billing.creditorId')} hint={t('billing.creditorIdHint')}>
        <input id="profile-creditor" name="creditorId" maxLength={35} aria-describedby="profile-creditor-hint" defaultValue={profile?.creditorId ?? ''} />
      </Field>
      <Field id="profile-prefix" label={t('billing.invoicePrefix')} hint={t('billing.invoicePrefixHint')}>
        <input id="profile-prefix" name="invoicePrefix" maxLength={11} pattern="[A-Z0-9]{0,10}-?" aria-describedby="profile-prefix-hint" defaultValue={profile?.invoicePrefix ?? ''} />
      </Field>
      <Field id="profile-term" label={t('billing.paymentTerm')}>
        <input id="profile-term" name="paymentTermDays" type="number" required min={0} max={365} step={1} defaultValue={String(profile?.paymentTermDays ?? 14)} />
      </Field>
      <ErrorNote error={action.error} />
      {saved && <p role="status">{t('billing.saved')}</p>}
      <button type="submit" disabled={action.busy}>{t('billing.saveProfile')}</button>
    </form>
  );
}

function MembersCard({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  // One request for all: who invoices are made out to (members who are or were in; not a manager without a site of their own).
  const members = useApi('communityBillingDetails', { params: { id: community.id } });
  return (
    <section class="card" aria-labelledby="members-billing-heading">
      <h2 id="members-billing-heading">{t('billing.members')}</h2>
      <p class="muted">{t('billing.membersIntro')}</p>
      <Async state={members} what={t('thing.members')}>
        {(all) => {
          const billed = fmt.sortBy(all, (m) => m.displayName);
          return billed.length === 0 ? <Empty><p>{t('billing.noMembers')}</p></Empty> : (
            <ul class="rows" aria-label={t('billing.members')}>
              {billed.map((m) => <MemberBilling key={m.memberId} entry={m} community={community} fmt={fmt} onSaved={members.reload} />)}
            </ul>
          );
        }}
      </Async>
    </section>
  );
}

function MemberBilling({ entry, community, fmt, onSaved }: { entry: MemberBillingDetails; community: Community; fmt: Formatter; onSaved: () => void }) {
  const { t } = useI18n();
  const { memberId, displayName, details, mandate } = entry;
  return (
    <li data-member-id={memberId}>
      <div>
        <strong>{displayName}</strong>
        <div data-testid="billing-address">
          {details ? <AddressText address={details.address} fmt={fmt} /> : <Badge tone="warn">{t('billing.noAddress')}</Badge>}
        </div>
        <small class="muted" data-testid="billing-mandate">{t('billing.mandate')}: <MandateText mandate={mandate} fmt={fmt} /></small>
      </div>
      <details>
        <summary>{t('billing.edit', { name: displayName })}</summary>
        <h3>{t('billing.address')}</h3>
        <BillingDetailsForm memberId={memberId} details={details} defaultName={displayName}
          defaultCountry={community.country ?? ''} onSaved={onSaved} />
        <h3>{t('billing.mandate')}</h3>
        <MandateForm memberId={memberId} memberName={details?.fullName ?? displayName} mandate={mandate} onSaved={onSaved} />
      </details>
    </li>
  );
}
