import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiUrl, call } from '../api/client.js';
import type { Consent, DataOffer, ErasureRequest } from '@gridshare/contract/privacy';
import type { MeteringPoint } from '@gridshare/contract/registry';
import { Async, Badge, Empty, ErrorNote, Field, Page } from '../components/ui.js';
import { useMemberContext } from '../lib/context.js';
import type { Formatter } from '../lib/format.js';
import { useAction, useApi } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';
import {
  ACCESSOR_KINDS, CATEGORY_NAMES, CONSENT_STATES, nameOf, OFFER_AUDIENCES, OFFER_STATES, PURPOSE_DESCRIPTIONS, PURPOSE_TITLES, QUANTITY_NAMES, RESOLUTION_NAMES,
} from '../lib/privacy.js';
import { midnightOfDateInput } from '../lib/time.js';
import { useFormat } from '../session.js';
import { DateInput } from '../components/date-input.js';

/** A member's privacy: what the community does with their data, their consents, who read their data, their export, erasure. */
export default function Privacy({ params }: { params: Record<string, string> }) {
  const memberId = params.memberId!;
  const { member, community, points } = useMemberContext(memberId);
  const fmt = useFormat(community.data);
  const { t } = useI18n();
  return (
    <Async state={member} what={t('thing.member')}>
      {(m) => (
        <Page title={t('privacy.title')}>
          <Register communityId={m.communityId} />
          {community.data && (
            <Async state={points} what={t('thing.sites')}>
              {(sites) => (
                <>
                  <Consents memberId={memberId} sites={sites} timeZone={community.data!.timeZone} fmt={fmt} />
                  <DataOffers memberId={memberId} sites={sites} timeZone={community.data!.timeZone} fmt={fmt} />
                </>
              )}
            </Async>
          )}
          <AccessLog memberId={memberId} fmt={fmt} />
          <DataExport memberId={memberId} fmt={fmt} />
          <Erasure memberId={memberId} fmt={fmt} />
        </Page>
      )}
    </Async>
  );
}

export function Register({ communityId }: { communityId: string }) {
  const { t } = useI18n();
  const register = useApi('processingRegister', { params: { id: communityId } });
  return (
    <section class="card" aria-labelledby="register-heading">
      <h2 id="register-heading">{t('privacy.registerTitle')}</h2>
      <p class="muted">{t('privacy.registerIntro')}</p>
      <Async state={register} what={t('privacy.registerTitle')}>
        {(r) => (
          <dl class="register">
            {r.activities.map((a) => (
              <div key={a.purpose}>
                <dt>{nameOf(PURPOSE_TITLES, a.purpose, t)} <small class="muted">{t('privacy.legalBases', { bases: a.legalBases.join(', ') })}</small></dt>
                <dd>{nameOf(PURPOSE_DESCRIPTIONS, a.purpose, t)}</dd>
              </div>
            ))}
          </dl>
        )}
      </Async>
    </section>
  );
}

function Consents({ memberId, sites, timeZone, fmt }: { memberId: string; sites: MeteringPoint[]; timeZone: string; fmt: Formatter }) {
  const { t } = useI18n();
  const consents = useApi('memberConsents', { params: { id: memberId } });
  const revoke = useAction();
  // A token re-issued for a recipient that lost theirs, shown once like the first.
  const [reissued, setReissued] = useState<{ label: string; token: string } | undefined>(undefined);
  return (
    <section class="card" aria-labelledby="consents-heading">
      <h2 id="consents-heading">{t('privacy.consentsTitle')}</h2>
      <p class="muted">{t('privacy.consentsIntro')}</p>
      <Async state={consents} what={t('privacy.consentsTitle')}>
        {(c) => (
          <>
            {c.given.length === 0
              ? <Empty><p>{t('privacy.noConsents')}</p></Empty>
              : (
                <ul class="rows" aria-label={t('privacy.consentsGiven')}>
                  {c.given.map((g) => (
                    <ConsentRow key={g.id} consent={g} fmt={fmt} sites={sites}>
                      {g.state === 'active' && (
                        <button type="button" disabled={revoke.busy} onClick={() => void revoke.run(async () => {
                          await call('revokeConsent', { params: { id: g.id } });
                          consents.reload();
                        })}>{t('privacy.revoke')}<span class="sr-only"> {g.recipient.label}</span></button>
                      )}
                      {g.state === 'active' && g.recipient.kind !== 'member' && (
                        <button type="button" disabled={revoke.busy} onClick={() => void revoke.run(async () => {
                          const again = await call('reissueRecipientToken', { params: { id: g.id } });
                          setReissued({ label: g.recipient.label, token: again.recipientToken ?? '' });
                        })}>{t('privacy.reissueToken')}<span class="sr-only"> {g.recipient.label}</span></button>
                      )}
                    </ConsentRow>
                  ))}
                </ul>
              )}
            <ErrorNote error={revoke.error} />
            {reissued && <TokenOnce message={t('privacy.recipientTokenReissued', { recipient: reissued.label })} token={reissued.token} />}
            {c.received.length > 0 && (
              <>
                <h3>{t('privacy.consentsReceived')}</h3>
                <ul class="rows" aria-label={t('privacy.consentsReceived')}>
                  {c.received.map((g) => <ConsentRow key={g.id} consent={g} fmt={fmt} sites={[]} />)}
                </ul>
              </>
            )}
          </>
        )}
      </Async>
      {sites.length > 0 && <GrantForm memberId={memberId} sites={sites} timeZone={timeZone} onGranted={consents.reload} />}
    </section>
  );
}

function ConsentRow({ consent: g, fmt, sites, children }: { consent: Consent; fmt: Formatter; sites: MeteringPoint[]; children?: ComponentChildren }) {
  const { t } = useI18n();
  const points = g.scope.meteringPoints.map((id) => sites.find((s) => s.id === id)?.name ?? id).join(', ');
  return (
    <li>
      <div>
        <strong>{g.recipient.label}</strong>{' '}
        <Badge tone={g.state === 'active' ? 'good' : 'neutral'}>{nameOf(CONSENT_STATES, g.state, t)}</Badge>
        <br /><small class="muted">{t('privacy.consentScope', { points, quantities: g.scope.quantities.map((q) => nameOf(QUANTITY_NAMES, q, t)).join(', '), resolution: nameOf(RESOLUTION_NAMES, g.scope.resolution, t), until: fmt.date(g.validUntil) })}</small>
        <br /><small>{g.purpose.statement}</small>
      </div>
      {children && <div class="actions">{children}</div>}
    </li>
  );
}

function GrantForm({ memberId, sites, timeZone, onGranted }: { memberId: string; sites: MeteringPoint[]; timeZone: string; onGranted: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  // A recipient that is not a member reads with a token of its own, shown only in this answer.
  const [token, setToken] = useState<{ label: string; token: string } | undefined>(undefined);
  const submit = (event: Event) => action.submit(event, async (v) => {
    setToken(undefined);
    const granted = await call('grantConsent', {
      params: { id: memberId },
      body: {
        recipient: { kind: v.recipientKind as Consent['recipient']['kind'], id: v.recipientId ?? '', label: v.recipientLabel ?? '' },
        scope: {
          meteringPoints: [v.meteringPoint ?? ''], quantities: [v.quantity as Consent['scope']['quantities'][number]],
          resolution: v.resolution as Consent['scope']['resolution'], from: midnightOfDateInput(v.from ?? '', timeZone).toISOString(), to: null,
        },
        purpose: { code: v.purpose as Consent['purpose']['code'], statement: v.statement ?? '' },
        validUntil: midnightOfDateInput(v.validUntil ?? '', timeZone).toISOString(),
      },
    });
    if (granted.recipientToken) setToken({ label: granted.recipient.label, token: granted.recipientToken });
    onGranted();
  });
  return (
    <form onSubmit={submit} aria-labelledby="grant-heading">
      <h3 id="grant-heading">{t('privacy.grantTitle')}</h3>
      <div class="inline-form">
        <Field id="recipientKind" label={t('privacy.recipientKind')}>
          <select id="recipientKind" name="recipientKind">
            <option value="member">{t('privacy.recipient.member')}</option>
            <option value="researcher">{t('privacy.recipient.researcher')}</option>
            <option value="grid-operator">{t('privacy.recipient.grid-operator')}</option>
            <option value="app">{t('privacy.recipient.app')}</option>
          </select>
        </Field>
        <Field id="recipientId" label={t('privacy.recipientId')}><input id="recipientId" name="recipientId" required /></Field>
        <Field id="recipientLabel" label={t('privacy.recipientLabel')}><input id="recipientLabel" name="recipientLabel" required maxLength={200} /></Field>
        <Field id="meteringPoint" label={t('privacy.site')}>
          <select id="meteringPoint" name="meteringPoint">{sites.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}</select>
        </Field>
        <Field id="quantity" label={t('privacy.quantityLabel')}>
          <select id="quantity" name="quantity">
            {Object.keys(QUANTITY_NAMES).map((q) => <option key={q} value={q}>{nameOf(QUANTITY_NAMES, q, t)}</option>)}
          </select>
        </Field>
        <Field id="resolution" label={t('privacy.resolutionLabel')}>
          <select id="resolution" name="resolution">
            {/* Daily by default: the least a recipient needs to see is the most a member keeps. */}
            {Object.keys(RESOLUTION_NAMES).map((r) => <option key={r} value={r} selected={r === '1d'}>{nameOf(RESOLUTION_NAMES, r, t)}</option>)}
          </select>
        </Field>
        <Field id="from" label={t('privacy.dataFrom')}><DateInput id="from" name="from" required /></Field>
        <Field id="validUntil" label={t('privacy.validUntil')}><DateInput id="validUntil" name="validUntil" required /></Field>
        <Field id="purpose" label={t('privacy.purposeCode')}>
          <select id="purpose" name="purpose">
            <option value="energy-advice">{t('privacy.consentPurpose.energy-advice')}</option>
            <option value="peer-comparison">{t('privacy.consentPurpose.peer-comparison')}</option>
            <option value="research">{t('privacy.consentPurpose.research')}</option>
            <option value="grid-planning">{t('privacy.consentPurpose.grid-planning')}</option>
            <option value="app-service">{t('privacy.consentPurpose.app-service')}</option>
            <option value="other">{t('privacy.consentPurpose.other')}</option>
          </select>
        </Field>
        <Field id="statement" label={t('privacy.statement')}><input id="statement" name="statement" required maxLength={500} /></Field>
        <button type="submit" disabled={action.busy}>{t('privacy.grant')}</button>
        <ErrorNote error={action.error} />
      </div>
      {token && <TokenOnce message={t('privacy.recipientTokenOnce', { recipient: token.label })} token={token.token} />}
    </form>
  );
}

/** The purposes a taker states, each with its catalog key. */
const PURPOSE_OPTIONS = [
  ['energy-advice', 'privacy.consentPurpose.energy-advice'], ['peer-comparison', 'privacy.consentPurpose.peer-comparison'],
  ['research', 'privacy.consentPurpose.research'], ['grid-planning', 'privacy.consentPurpose.grid-planning'],
  ['app-service', 'privacy.consentPurpose.app-service'], ['other', 'privacy.consentPurpose.other'],
] as const;

/** Data offers: the member's own (publish, withdraw) and other members' open ones (accept, paid from the wallet when priced). */
function DataOffers({ memberId, sites, timeZone, fmt }: { memberId: string; sites: MeteringPoint[]; timeZone: string; fmt: Formatter }) {
  const { t } = useI18n();
  const offers = useApi('memberDataOffers', { params: { id: memberId } });
  const action = useAction();
  return (
    <section class="card" aria-labelledby="offers-heading">
      <h2 id="offers-heading">{t('privacy.offersTitle')}</h2>
      <p class="muted">{t('privacy.offersIntro')}</p>
      <Async state={offers} what={t('privacy.offersTitle')}>
        {(o) => (
          <>
            <h3>{t('privacy.offersMine')}</h3>
            {o.mine.length === 0 ? <Empty><p>{t('privacy.offersNoneMine')}</p></Empty> : (
              <ul class="rows" aria-label={t('privacy.offersMine')}>
                {o.mine.map((offer) => (
                  <OfferRow key={offer.id} offer={offer} fmt={fmt} sites={sites}>
                    <small>{t('privacy.offerTakers', { count: offer.takers ?? 0 })}</small>
                    {offer.state === 'open' && (
                      <button type="button" disabled={action.busy} onClick={() => void action.run(async () => {
                        await call('withdrawDataOffer', { params: { id: offer.id } });
                        offers.reload();
                      })}>{t('privacy.offerWithdraw')}<span class="sr-only"> {offer.description}</span></button>
                    )}
                  </OfferRow>
                ))}
              </ul>
            )}
            <h3>{t('privacy.offersAvailable')}</h3>
            {o.available.length === 0 ? <Empty><p>{t('privacy.offersNoneAvailable')}</p></Empty> : (
              <ul class="rows" aria-label={t('privacy.offersAvailable')}>
                {o.available.map((offer) => (
                  <OfferRow key={offer.id} offer={offer} fmt={fmt} sites={[]}>
                    {offer.taken
                      ? <Badge tone="good">{t('privacy.offerTaken')}</Badge>
                      : <AcceptForm memberId={memberId} offer={offer} onAccepted={offers.reload} />}
                  </OfferRow>
                ))}
              </ul>
            )}
          </>
        )}
      </Async>
      <ErrorNote error={action.error} />
      {sites.length > 0 && <OfferForm memberId={memberId} sites={sites} timeZone={timeZone} onPublished={offers.reload} />}
    </section>
  );
}

function OfferRow({ offer, fmt, sites, children }: { offer: DataOffer; fmt: Formatter; sites: MeteringPoint[]; children?: ComponentChildren }) {
  const { t } = useI18n();
  const points = offer.scope.meteringPoints.map((id) => sites.find((s) => s.id === id)?.name ?? id).join(', ');
  const price = /^0(\.0+)?$/.test(offer.price) ? t('privacy.offerFree') : fmt.money(offer.price);
  return (
    <li>
      <div>
        <strong>{offer.description}</strong>{' '}
        <Badge tone={offer.state === 'open' ? 'good' : 'neutral'}>{nameOf(OFFER_STATES, offer.state, t)}</Badge>
        <br /><small class="muted">{t('privacy.offerTerms', {
          points, quantities: offer.scope.quantities.map((q) => nameOf(QUANTITY_NAMES, q, t)).join(', '), resolution: nameOf(RESOLUTION_NAMES, offer.scope.resolution, t),
          price, days: offer.grantValidityDays, until: fmt.date(offer.openUntil), audience: nameOf(OFFER_AUDIENCES, offer.audience, t),
        })}</small>
      </div>
      {children && <div class="actions">{children}</div>}
    </li>
  );
}

/** Accept an offer as the member: the purpose stated (the catalogue uses it too). */
export function AcceptForm({ memberId, offer, onAccepted }: { memberId: string; offer: Pick<DataOffer, 'id' | 'description'>; onAccepted: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const submit = (event: Event) => action.submit(event, async (v) => {
    await call('acceptDataOffer', {
      params: { id: offer.id },
      body: { memberId, purpose: { code: v.purpose as Consent['purpose']['code'], statement: v.statement ?? '' } },
    });
    onAccepted();
  });
  const id = (name: string) => `${name}-${offer.id}`;
  return (
    <form onSubmit={submit} class="inline-form" aria-label={t('privacy.offerAccept')}>
      <Field id={id('purpose')} label={t('privacy.purposeCode')}>
        <select id={id('purpose')} name="purpose">
          {PURPOSE_OPTIONS.map(([code, key]) => <option key={code} value={code}>{t(key)}</option>)}
        </select>
      </Field>
      <Field id={id('statement')} label={t('privacy.statement')}><input id={id('statement')} name="statement" required maxLength={500} /></Field>
      <button type="submit" disabled={action.busy}>{t('privacy.offerAccept')}<span class="sr-only"> {offer.description}</span></button>
      <ErrorNote error={action.error} />
    </form>
  );
}

function OfferForm({ memberId, sites, timeZone, onPublished }: { memberId: string; sites: MeteringPoint[]; timeZone: string; onPublished: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const submit = (event: Event) => action.submit(event, async (v) => {
    await call('publishDataOffer', {
      params: { id: memberId },
      body: {
        scope: {
          meteringPoints: [v.offerPoint ?? ''], quantities: [v.offerQuantity as Consent['scope']['quantities'][number]],
          resolution: v.offerResolution as Consent['scope']['resolution'], from: midnightOfDateInput(v.offerFrom ?? '', timeZone).toISOString(), to: null,
        },
        description: v.offerDescription ?? '', audience: v.offerAudience as DataOffer['audience'], price: v.offerPrice ?? '',
        grantValidityDays: Number(v.offerDays), openUntil: midnightOfDateInput(v.offerOpenUntil ?? '', timeZone).toISOString(),
      },
    });
    onPublished();
  });
  return (
    <form onSubmit={submit} aria-labelledby="offer-heading">
      <h3 id="offer-heading">{t('privacy.offerPublishTitle')}</h3>
      <div class="inline-form">
        <Field id="offerDescription" label={t('privacy.offerDescription')}><input id="offerDescription" name="offerDescription" required maxLength={1000} /></Field>
        <Field id="offerPoint" label={t('privacy.site')}>
          <select id="offerPoint" name="offerPoint">{sites.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}</select>
        </Field>
        <Field id="offerQuantity" label={t('privacy.quantityLabel')}>
          <select id="offerQuantity" name="offerQuantity">
            {Object.keys(QUANTITY_NAMES).map((q) => <option key={q} value={q}>{nameOf(QUANTITY_NAMES, q, t)}</option>)}
          </select>
        </Field>
        <Field id="offerResolution" label={t('privacy.resolutionLabel')}>
          <select id="offerResolution" name="offerResolution">
            {Object.keys(RESOLUTION_NAMES).map((r) => <option key={r} value={r} selected={r === '1d'}>{nameOf(RESOLUTION_NAMES, r, t)}</option>)}
          </select>
        </Field>
        <Field id="offerFrom" label={t('privacy.dataFrom')}><DateInput id="offerFrom" name="offerFrom" required /></Field>
        <Field id="offerAudience" label={t('privacy.offerAudience')}>
          <select id="offerAudience" name="offerAudience">
            {Object.keys(OFFER_AUDIENCES).map((a) => <option key={a} value={a} selected={a === 'members'}>{nameOf(OFFER_AUDIENCES, a, t)}</option>)}
          </select>
        </Field>
        <Field id="offerPrice" label={t('privacy.offerPrice')}><input id="offerPrice" name="offerPrice" inputMode="decimal" pattern="\d{1,6}(\.\d{1,2})?" defaultValue="0" required /></Field>
        <Field id="offerDays" label={t('privacy.offerDays')}><input id="offerDays" name="offerDays" type="number" min={1} max={1830} defaultValue="365" required /></Field>
        <Field id="offerOpenUntil" label={t('privacy.offerOpenUntil')}><DateInput id="offerOpenUntil" name="offerOpenUntil" required /></Field>
        <button type="submit" disabled={action.busy}>{t('privacy.offerPublish')}</button>
        <ErrorNote error={action.error} />
      </div>
    </form>
  );
}

/** The member's export, made by the server's export job: progress while it runs, the download once done (until its file expires). */
function DataExport({ memberId, fmt }: { memberId: string; fmt: Formatter }) {
  const { t } = useI18n();
  const action = useAction();
  const [polling, setPolling] = useState(false);
  const jobs = useApi('memberExportJobs', { params: { id: memberId } }, polling ? { refreshMs: 1_000 } : {});
  const latest = jobs.data?.[0];
  const active = latest?.state === 'queued' || latest?.state === 'running';
  useEffect(() => setPolling(active), [active]);
  return (
    <section class="card" aria-labelledby="export-heading">
      <h2 id="export-heading">{t('privacy.exportTitle')}</h2>
      <p class="muted">{t('privacy.exportIntro')}</p>
      {latest && active && (
        <div role="status">
          {latest.itemsTotal === null
            ? <p>{t('privacy.exportWaiting')}</p>
            : <p>{t('privacy.exportProgress', { done: latest.itemsDone, total: latest.itemsTotal })}</p>}
          <progress aria-label={t('privacy.exportTitle')} value={latest.itemsDone} max={latest.itemsTotal ?? undefined} />
        </div>
      )}
      {latest?.state === 'done' && (
        <p>
          <a class="button" href={apiUrl('exportJobFile', { params: { id: latest.id } })} download>{t('privacy.exportDownload')}</a>{' '}
          <small class="muted">{t('privacy.exportReady', { when: fmt.dateTime(latest.finishedAt!), until: fmt.date(latest.expiresAt!) })}</small>
        </p>
      )}
      {latest?.state === 'failed' && <p class="error">{t('privacy.exportFailed', { error: latest.error ?? '' })}</p>}
      {!active && (
        <p>
          <button type="button" disabled={action.busy} onClick={() => void action.run(async () => {
            await call('requestMemberExportJob', { params: { id: memberId } });
            jobs.reload();
          })}>{t('privacy.exportStart')}</button>
        </p>
      )}
      <ErrorNote error={action.error ?? jobs.error} />
    </section>
  );
}

/** A recipient token, shown the once it exists in the clear. */
function TokenOnce({ message, token }: { message: string; token: string }) {
  const { t } = useI18n();
  return (
    <div role="status" class="ok">
      <p>{message}</p>
      <p><code aria-label={t('privacy.recipientToken')}>{token}</code></p>
    </div>
  );
}

function AccessLog({ memberId, fmt }: { memberId: string; fmt: Formatter }) {
  const { t } = useI18n();
  const log = useApi('memberAccessLog', { params: { id: memberId } });
  const column = { when: t('privacy.logWhen'), who: t('privacy.logWho'), what: t('privacy.logWhat'), why: t('privacy.logWhy') };
  return (
    <section class="card" aria-labelledby="log-heading">
      <h2 id="log-heading">{t('privacy.logTitle')}</h2>
      <p class="muted">{t('privacy.logIntro')}</p>
      <Async state={log} what={t('privacy.logTitle')}>
        {(entries) => entries.length === 0 ? <Empty><p>{t('privacy.logNone')}</p></Empty> : (
          <div class="table-scroll">
            <table class="stack">
              <caption class="sr-only">{t('privacy.logTitle')}</caption>
              <thead><tr><th scope="col">{column.when}</th><th scope="col">{column.who}</th><th scope="col">{column.what}</th><th scope="col">{column.why}</th></tr></thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.id}>
                    <td data-label={column.when}>{fmt.dateTime(e.at)}</td>
                    <td data-label={column.who}>{nameOf(ACCESSOR_KINDS, e.accessorKind, t)}: {e.accessor}</td>
                    <td data-label={column.what}>{nameOf(CATEGORY_NAMES, e.category, t)}{e.periodFrom && e.periodTo ? ` (${fmt.dateTime(e.periodFrom)} – ${fmt.dateTime(e.periodTo)})` : ''}</td>
                    <td data-label={column.why}>{nameOf(PURPOSE_TITLES, e.purpose, t)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
    </section>
  );
}

function Erasure({ memberId, fmt }: { memberId: string; fmt: Formatter }) {
  const { t } = useI18n();
  const action = useAction();
  const [confirming, setConfirming] = useState(false);
  const [requested, setRequested] = useState<ErasureRequest | undefined>(undefined);
  return (
    <section class="card" aria-labelledby="erasure-heading">
      <h2 id="erasure-heading">{t('privacy.erasureTitle')}</h2>
      <p class="muted">{t('privacy.erasureIntro')}</p>
      {requested
        ? <p role="status" class="ok">{t('privacy.erasureRequested', { when: fmt.dateTime(requested.requestedAt) })}</p>
        : confirming
          ? (
            <p>
              <button type="button" class="danger" disabled={action.busy} onClick={() => void action.run(async () => {
                setRequested(await call('requestErasure', { params: { id: memberId } }));
              })}>{t('privacy.erasureConfirm')}</button>{' '}
              <button type="button" onClick={() => setConfirming(false)}>{t('privacy.erasureCancel')}</button>
            </p>
          )
          : <p><button type="button" onClick={() => setConfirming(true)}>{t('privacy.erasureStart')}</button></p>}
      <ErrorNote error={action.error} />
    </section>
  );
}
