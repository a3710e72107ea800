import { useState } from 'preact/hooks';
import type { BillingProfile } from '@gridshare/contract/billing';
import type { Community, Member } from '@gridshare/contract/registry';
import { call } from '../../api/client.js';
import { AddressFields, addressOf, AddressText, BillingDetailsForm, filled, MandateForm, MandateText } from '../../components/billing.js';
import { Async, Badge, Empty, ErrorNote, Field } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { formValues, useAction, useApi } from '../../lib/hooks.js';
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
    void action.run(async () => {
      await call('setBillingProfile', {
        params: { id: community.id },
        body: {
          legalName: v.legalName ?? '',
          address: addressOf(v),
          ...(registrationNumber ? { registrationNumber } : {}),
          // Rates per tariff component are kept as they were: this form does not edit them.
          vat: { country: v.vatCountry as VatCountry, regime: v.regime as Regime, ...(vatId ? { vatId } : {}), ...(profile?.vat.rates ? { rates: profile.vat.rates } : {}) },
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
  const members = useApi('listMembers', { params: { id: community.id } });
  return (
    <section class="card" aria-labelledby="members-billing-heading">
      <h2 id="members-billing-heading">{t('billing.members')}</h2>
      <p class="muted">{t('billing.membersIntro')}</p>
      <Async state={members} what={t('thing.members')}>
        {(all) => {
          // Members who left may still be billed for the months they took part in.
          const billed = fmt.sortBy(all.filter((m) => m.state === 'active' || m.state === 'left'), (m) => m.displayName);
          return billed.length === 0 ? <Empty><p>{t('billing.noMembers')}</p></Empty> : (
            <ul class="rows" aria-label={t('billing.members')}>
              {billed.map((m) => <MemberBilling key={m.id} member={m} community={community} fmt={fmt} />)}
            </ul>
          );
        }}
      </Async>
    </section>
  );
}

function MemberBilling({ member, community, fmt }: { member: Member; community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const billing = useApi('getBillingDetails', { params: { id: member.id } });
  return (
    <li data-member-id={member.id}>
      <Async state={billing} what={t('billing.address')}>
        {({ details, mandate }) => (
          <>
            <div>
              <strong>{member.displayName}</strong>
              <div data-testid="billing-address">
                {details ? <AddressText address={details.address} fmt={fmt} /> : <Badge tone="warn">{t('billing.noAddress')}</Badge>}
              </div>
              <small class="muted" data-testid="billing-mandate">{t('billing.mandate')}: <MandateText mandate={mandate} fmt={fmt} /></small>
            </div>
            <details>
              <summary>{t('billing.edit', { name: member.displayName })}</summary>
              <h3>{t('billing.address')}</h3>
              <BillingDetailsForm memberId={member.id} details={details} defaultName={member.displayName}
                defaultCountry={community.country ?? ''} onSaved={billing.reload} />
              <h3>{t('billing.mandate')}</h3>
              <MandateForm memberId={member.id} memberName={details?.fullName ?? member.displayName} mandate={mandate} onSaved={billing.reload} />
            </details>
          </>
        )}
      </Async>
    </li>
  );
}
