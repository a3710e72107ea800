import type { Community } from '@gridshare/contract/registry';
import { FLEX_SERVICE_TYPES, UFTP_ROLES, type FlexContract, type FlexOfferView, type FlexOrderSettlementView, type FlexParticipant, type FlexPrognosisDay } from '@gridshare/contract/flex';
import { useState } from 'preact/hooks';
import { ApiError, call } from '../../api/client.js';
import { Async, Badge, Empty, ErrorNote, Field, Stat } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { useAction, useApi, type Loaded } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { flexContractStateName, flexDirectionName, flexDispositionName, flexServiceName } from '../../lib/names.js';
import { ManagePage } from './manage-page.js';
import { DateInput } from '../../components/date-input.js';

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const;
/** Whom a community trades flexibility with: the grid operator first (the form's default), the CRO it registers with. */
const PARTICIPANT_ROLES = [...UFTP_ROLES].filter((role) => role !== 'AGR').reverse();
const DISPOSITION_TONES = { Accepted: 'good', Disputed: 'bad' } as const;
const listOf = (text: string | undefined) => (text ?? '').split(/[\s,]+/).map((s) => s.trim()).filter((s) => s.length > 0);

/**
 * Flexibility for the grid operator (UFTP): the community's identity as aggregator, its address
 * book, contracts, congestion points, the day's prognosis against the meters, offers and orders,
 * settlements and the messages exchanged.
 */
export default function FlexPage({ params }: { params: Record<string, string> }) {
  const { t } = useI18n();
  return (
    <ManagePage communityId={params.communityId!} title={t('nav.flex')}>
      {(c, fmt) => <FlexSections community={c} fmt={fmt} />}
    </ManagePage>
  );
}

/** The address book is read once for the page: a grid operator added there is at once one a contract can be made with. */
function FlexSections({ community, fmt }: { community: Community; fmt: Formatter }) {
  const participants = useApi('flexParticipants', { params: { id: community.id } });
  return (
    <>
      <Identity community={community} />
      <AddressBook community={community} participants={participants} />
      <Contracts community={community} fmt={fmt} participants={participants.data ?? []} />
      <Portfolio community={community} />
      <Prognosis community={community} fmt={fmt} />
      <Offers community={community} fmt={fmt} participants={participants.data ?? []} />
      <Settlements community={community} fmt={fmt} />
      <Messages community={community} fmt={fmt} />
    </>
  );
}

function Identity({ community }: { community: Community }) {
  const { t } = useI18n();
  const identity = useApi('flexIdentity', { params: { id: community.id } });
  const action = useAction();
  const save = (event: Event) => action.submit(event, async (v) => {
    await call('setFlexIdentity', { params: { id: community.id }, body: { domain: v.domain!, timeZone: v.timeZone!, ispDurationMinutes: Number(v.ispDurationMinutes) } });
    identity.reload();
  });
  const missing = identity.error instanceof ApiError && identity.error.notFound;
  if (identity.error && !missing) return <ErrorNote error={identity.error} />;
  const current = identity.data;
  return (
    <section class="card" aria-labelledby="flex-identity-heading">
      <h2 id="flex-identity-heading">{t('manageFlex.identity')}</h2>
      {missing && <p>{t('manageFlex.noIdentity')}</p>}
      {current && (
        <dl class="facts">
          <dt>{t('manageFlex.publicKey')}</dt><dd><code>{current.publicKey}</code></dd>
          <dt>{t('manageFlex.endpoint')}</dt><dd><code>{current.endpoint}</code></dd>
        </dl>
      )}
      {(current || missing) && (
        <form onSubmit={save} key={current?.domain ?? 'new'}>
          <Field id="flex-domain" label={t('manageFlex.domain')}><input id="flex-domain" name="domain" defaultValue={current?.domain ?? ''} required /></Field>
          <Field id="flex-zone" label={t('manageFlex.timeZone')}><input id="flex-zone" name="timeZone" defaultValue={current?.timeZone ?? community.timeZone} required /></Field>
          <Field id="flex-isp" label={t('manageFlex.ispMinutes')}>
            <select id="flex-isp" name="ispDurationMinutes">{[5, 15, 30, 60].map((m) => <option value={String(m)} selected={m === (current?.ispDurationMinutes ?? 15)}>{m}</option>)}</select>
          </Field>
          <button type="submit" disabled={action.busy}>{t('manageFlex.saveIdentity')}</button>
          <ErrorNote error={action.error} />
        </form>
      )}
    </section>
  );
}

function AddressBook({ community, participants }: { community: Community; participants: Loaded<FlexParticipant[]> }) {
  const { t } = useI18n();
  const action = useAction();
  const add = (event: Event) => action.submit(event, async (v) => {
    await call('addFlexParticipant', {
      params: { id: community.id },
      body: { domain: v.domain!, role: v.role as FlexParticipant['role'], endpoint: v.endpoint!, publicKeys: [v.publicKey!], barred: false, congestionPoints: listOf(v.congestionPoints) },
    });
    participants.reload();
  });
  const remove = (p: FlexParticipant) => {
    if (!window.confirm(t('manageFlex.confirmRemove', { domain: p.domain }))) return;
    void action.run(async () => {
      await call('removeFlexParticipant', { params: { id: p.id } });
      participants.reload();
    });
  };
  return (
    <section class="card" aria-labelledby="flex-book-heading">
      <h2 id="flex-book-heading">{t('manageFlex.addressBook')}</h2>
      <Async state={participants} what={t('manageFlex.addressBook')}>
        {(list) => list.length === 0 ? <Empty><p>{t('manageFlex.noParticipants')}</p></Empty> : (
          <ul class="rows" aria-label={t('manageFlex.addressBook')}>
            {list.map((p) => (
              <li key={p.id}>
                <div><strong>{p.domain}</strong> <Badge tone="neutral">{p.role}</Badge> {p.barred && <Badge tone="bad">{t('manageFlex.barred')}</Badge>}</div>
                <div><small class="muted">{p.endpoint}</small></div>
                <div>{p.congestionPoints.join(', ')}</div>
                <button type="button" class="secondary" onClick={() => remove(p)} disabled={action.busy}>{t('manageFlex.remove')}</button>
              </li>
            ))}
          </ul>
        )}
      </Async>
      <form onSubmit={add}>
        <h3>{t('manageFlex.addParticipant')}</h3>
        <Field id="flex-p-domain" label={t('manageFlex.domain')}><input id="flex-p-domain" name="domain" required /></Field>
        <Field id="flex-p-role" label={t('manageFlex.role')}>
          <select id="flex-p-role" name="role">{PARTICIPANT_ROLES.map((role) => <option value={role}>{role}</option>)}</select>
        </Field>
        <Field id="flex-p-endpoint" label={t('manageFlex.endpoint')}><input id="flex-p-endpoint" name="endpoint" type="url" required /></Field>
        <Field id="flex-p-key" label={t('manageFlex.publicKey')}><input id="flex-p-key" name="publicKey" required /></Field>
        <Field id="flex-p-points" label={t('manageFlex.congestionPoints')} hint={t('manageFlex.listHint')}><input id="flex-p-points" name="congestionPoints" aria-describedby="flex-p-points-hint" /></Field>
        <button type="submit" disabled={action.busy}>{t('manageFlex.add')}</button>
        <ErrorNote error={action.error} />
      </form>
    </section>
  );
}

function Contracts({ community, fmt, participants }: { community: Community; fmt: Formatter; participants: FlexParticipant[] }) {
  const { t } = useI18n();
  const contracts = useApi('flexContracts', { params: { id: community.id } });
  const action = useAction();
  const create = (event: Event) => action.submit(event, async (v) => {
    const weekdays = WEEKDAYS.filter((d) => new FormData(event.target as HTMLFormElement).getAll('weekday').includes(String(d)));
    await call('createFlexContract', {
      params: { id: community.id },
      body: {
        participantId: v.participantId!, congestionPoints: listOf(v.congestionPoints), serviceType: v.serviceType as FlexContract['serviceType'],
        validFrom: v.validFrom!, validTo: v.validTo!, windows: [{ weekdays, from: v.from!, to: v.to! }],
        capacityRemuneration: v.capacityRemuneration!, volumeRemuneration: v.volumeRemuneration!, penaltyRate: v.penaltyRate!,
        communityFeePercent: v.communityFeePercent!, directOrders: v.directOrders === 'on',
      },
    });
    contracts.reload();
  });
  const act = (contract: FlexContract, what: 'activate' | 'end') => void action.run(async () => {
    await call(what === 'activate' ? 'activateFlexContract' : 'endFlexContract', { params: { id: contract.id } });
    contracts.reload();
  });
  const tone = (state: FlexContract['state']) => state === 'active' ? 'good' : state === 'draft' ? 'warn' : 'neutral';
  const dsos = participants.filter((p) => p.role === 'DSO');
  return (
    <section class="card" aria-labelledby="flex-contracts-heading">
      <h2 id="flex-contracts-heading">{t('manageFlex.contracts')}</h2>
      <Async state={contracts} what={t('manageFlex.contracts')}>
        {(list) => list.length === 0 ? <Empty><p>{t('manageFlex.noContracts')}</p></Empty> : (
          <ul class="rows" aria-label={t('manageFlex.contracts')}>
            {list.map((c) => (
              <li key={c.id}>
                <div><strong>{flexServiceName(c.serviceType, t)}</strong> <Badge tone={tone(c.state)}>{flexContractStateName(c.state, t)}</Badge></div>
                <div>{fmt.day(c.validFrom)} – {fmt.day(c.validTo)} · {c.congestionPoints.join(', ')}</div>
                <div><small class="muted">{t('manageFlex.terms', {
                  capacity: fmt.money(c.capacityRemuneration), volume: fmt.pricePerKWh(c.volumeRemuneration), penalty: fmt.pricePerKWh(c.penaltyRate),
                })}</small></div>
                <div><small class="muted">{t('manageFlex.communityFeeOf', { fee: fmt.count(Number(c.communityFeePercent)) })}</small></div>
                {c.directOrders && <div><small class="muted">{t('manageFlex.directOrdersAllowed')}</small></div>}
                <div>{t('manageFlex.participation', { devices: c.participation.devices, power: fmt.power(c.participation.allowedPowerW) })}</div>
                <div>
                  {c.state === 'draft' && <button type="button" onClick={() => act(c, 'activate')} disabled={action.busy}>{t('manageFlex.activate')}</button>}
                  {c.state !== 'ended' && <button type="button" class="secondary" onClick={() => act(c, 'end')} disabled={action.busy}>{t('manageFlex.end')}</button>}
                </div>
              </li>
            ))}
          </ul>
        )}
      </Async>
      {dsos.length > 0 && (
        <form onSubmit={create}>
          <h3>{t('manageFlex.newContract')}</h3>
          <Field id="flex-c-dso" label={t('manageFlex.dso')}>
            <select id="flex-c-dso" name="participantId">{dsos.map((p) => <option value={p.id}>{p.domain}</option>)}</select>
          </Field>
          <Field id="flex-c-points" label={t('manageFlex.congestionPoints')} hint={t('manageFlex.listHint')}><input id="flex-c-points" name="congestionPoints" required /></Field>
          <Field id="flex-c-service" label={t('manageFlex.serviceType')}>
            <select id="flex-c-service" name="serviceType">
              {FLEX_SERVICE_TYPES.map((s) => <option value={s}>{flexServiceName(s, t)}</option>)}
            </select>
          </Field>
          <Field id="flex-c-from" label={t('manageFlex.validFrom')}><DateInput id="flex-c-from" name="validFrom" required /></Field>
          <Field id="flex-c-to" label={t('manageFlex.validTo')}><DateInput id="flex-c-to" name="validTo" required /></Field>
          <fieldset>
            <legend>{t('manageFlex.window')}</legend>
            {WEEKDAYS.map((d) => (
              <label key={d}><input type="checkbox" name="weekday" value={String(d)} defaultChecked={d <= 5} /> {fmt.weekday(d)}</label>
            ))}
            <Field id="flex-c-wfrom" label={t('manageFlex.windowFrom')}><input id="flex-c-wfrom" name="from" type="time" defaultValue="07:00" required /></Field>
            <Field id="flex-c-wto" label={t('manageFlex.windowTo')}><input id="flex-c-wto" name="to" type="time" defaultValue="21:00" required /></Field>
          </fieldset>
          <Field id="flex-c-capacity" label={t('manageFlex.capacityRemuneration')}><input id="flex-c-capacity" name="capacityRemuneration" inputMode="decimal" required /></Field>
          <Field id="flex-c-volume" label={t('manageFlex.volumeRemuneration')}><input id="flex-c-volume" name="volumeRemuneration" inputMode="decimal" required /></Field>
          <Field id="flex-c-penalty" label={t('manageFlex.penaltyRate')}><input id="flex-c-penalty" name="penaltyRate" inputMode="decimal" required /></Field>
          <Field id="flex-c-fee" label={t('manageFlex.communityFee')} hint={t('manageFlex.communityFeeHint')}>
            <input id="flex-c-fee" name="communityFeePercent" type="number" min="0" max="100" step="0.01" defaultValue="0" aria-describedby="flex-c-fee-hint" required />
          </Field>
          <label><input type="checkbox" name="directOrders" /> {t('manageFlex.directOrders')}</label>
          <button type="submit" disabled={action.busy}>{t('manageFlex.createContract')}</button>
        </form>
      )}
      <ErrorNote error={action.error} />
    </section>
  );
}

function Portfolio({ community }: { community: Community }) {
  const { t } = useI18n();
  const portfolio = useApi('flexPortfolio', { params: { id: community.id } });
  return (
    <section class="card" aria-labelledby="flex-portfolio-heading">
      <h2 id="flex-portfolio-heading">{t('manageFlex.portfolio')}</h2>
      <Async state={portfolio} what={t('manageFlex.portfolio')}>
        {(list) => list.length === 0 ? <Empty><p>{t('manageFlex.noPortfolio')}</p></Empty> : (
          <ul class="rows" aria-label={t('manageFlex.portfolio')}>
            {list.map((p) => (
              <li key={p.id}>
                <div><strong>{p.entityAddress}</strong> <small class="muted">{p.dsoDomain}</small></div>
                <div>{t('manageFlex.connections', { count: p.connections.length, matched: p.matchedMeteringPoints })}</div>
                <div><small class="muted">{t('manageFlex.gate', { time: p.prognosisGate })}</small></div>
              </li>
            ))}
          </ul>
        )}
      </Async>
    </section>
  );
}

function Prognosis({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const [period, setPeriod] = useState<string | undefined>(undefined);
  const day = useApi('flexPrognosis', { params: { id: community.id }, query: period ? { period } : {} }, { refreshMs: 60_000 });
  const view = (d: FlexPrognosisDay) => (
    <>
      <Field id="flex-prognosis-day" label={t('manageFlex.day')}>
        {/* Only a whole day is asked for: a half-typed one keeps the day shown. */}
        <DateInput id="flex-prognosis-day" value={d.period} onValue={(day) => day && setPeriod(day)} />
      </Field>
      {d.congestionPoints.length === 0 ? <Empty><p>{t('manageFlex.noPrognosis')}</p></Empty> : d.congestionPoints.map((p) => (
        <div class="table-scroll" key={`${p.dsoDomain} ${p.congestionPoint}`}>
          <table class="stack">
            <caption>{t('manageFlex.prognosisCaption', { point: p.congestionPoint, revision: p.revision, sent: fmt.dateTime(p.sentAt) })}</caption>
            <thead><tr><th scope="col">{t('manageFlex.isp')}</th><th scope="col" class="num">{t('manageFlex.prognosisW')}</th><th scope="col" class="num">{t('manageFlex.actualW')}</th></tr></thead>
            <tbody>
              {p.isps.map((i) => (
                <tr key={i.isp}>
                  <td data-label={t('manageFlex.isp')}>{fmt.time(i.start)}</td>
                  <td data-label={t('manageFlex.prognosisW')} class="num">{fmt.power(i.prognosisW)}</td>
                  <td data-label={t('manageFlex.actualW')} class="num">{i.actualW === null ? '' : fmt.power(i.actualW)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </>
  );
  const missing = day.error instanceof ApiError && day.error.notFound;
  return (
    <section class="card" aria-labelledby="flex-prognosis-heading">
      <h2 id="flex-prognosis-heading">{t('manageFlex.prognosis')}</h2>
      {missing ? <p>{t('manageFlex.noIdentity')}</p> : <Async state={day} what={t('manageFlex.prognosis')}>{view}</Async>}
    </section>
  );
}

function Offers({ community, fmt, participants }: { community: Community; fmt: Formatter; participants: FlexParticipant[] }) {
  const { t } = useI18n();
  const offers = useApi('flexOffers', { params: { id: community.id } }, { refreshMs: 60_000 });
  const [order, setOrder] = useState<string | undefined>(undefined);
  const action = useAction();
  const offer = useAction();
  const dsos = participants.filter((p) => p.role === 'DSO');
  // An unsolicited offer: one range of ISPs and the deviation toward which the plan moves in them (W, + = more consumption).
  const make = (event: Event) => offer.submit(event, async (v) => {
    const [participantId, congestionPoint] = JSON.parse(v.point!) as [string, string];
    await call('offerFlexUnsolicited', {
      params: { id: community.id },
      body: {
        participantId, congestionPoint, period: v.period!,
        isps: [{ start: Number(v.start), duration: Number(v.duration), minPower: Number(v.minPower), maxPower: Number(v.maxPower) }],
      },
    });
    offers.reload();
  });
  const revoke = (o: FlexOfferView) => void action.run(async () => {
    await call('revokeFlexOffer', { params: { id: community.id, messageId: o.messageId } });
    offers.reload();
  });
  return (
    <section class="card" aria-labelledby="flex-offers-heading">
      <h2 id="flex-offers-heading">{t('manageFlex.offers')}</h2>
      <Async state={offers} what={t('manageFlex.offers')}>
        {(list) => list.length === 0 ? <Empty><p>{t('manageFlex.noOffers')}</p></Empty> : (
          <ul class="rows" aria-label={t('manageFlex.offers')}>
            {list.map((o) => (
              <li key={o.messageId}>
                <div>
                  <strong>{fmt.day(o.period)}</strong> · {o.congestionPoint} <Badge tone={o.state === 'ordered' ? 'good' : o.state === 'rejected' || o.state === 'failed' ? 'bad' : 'neutral'}>{o.state}</Badge>
                  {o.requestMessageId === null && <> <Badge tone="neutral">{t('manageFlex.unsolicited')}</Badge></>}
                </div>
                <div><small class="muted">{t('manageFlex.offerCost', { devices: o.devices, plan: fmt.money(o.planCost), baseline: fmt.money(o.baselineCost) })}</small></div>
                <div>
                  {['queued', 'sent', 'accepted'].includes(o.state) && <button type="button" class="secondary" onClick={() => revoke(o)} disabled={action.busy}>{t('manageFlex.revoke')}</button>}
                  {o.orderMessageId && <button type="button" onClick={() => setOrder(o.orderMessageId ?? undefined)}>{t('manageFlex.showDelivery')}</button>}
                </div>
              </li>
            ))}
          </ul>
        )}
      </Async>
      <ErrorNote error={action.error} />
      {order && <Delivery community={community} orderMessageId={order} fmt={fmt} />}
      {dsos.some((p) => p.congestionPoints.length > 0) && (
        <form onSubmit={make} aria-labelledby="flex-offer-heading">
          <h3 id="flex-offer-heading">{t('manageFlex.newOffer')}</h3>
          <p><small class="muted">{t('manageFlex.newOfferHint')}</small></p>
          <Field id="flex-o-point" label={t('manageFlex.offerPoint')}>
            <select id="flex-o-point" name="point">
              {dsos.flatMap((p) => p.congestionPoints.map((cp) => <option key={`${p.id} ${cp}`} value={JSON.stringify([p.id, cp])}>{cp} · {p.domain}</option>))}
            </select>
          </Field>
          <Field id="flex-o-period" label={t('manageFlex.offerPeriod')}><DateInput id="flex-o-period" name="period" required /></Field>
          <Field id="flex-o-start" label={t('manageFlex.offerStart')} hint={t('manageFlex.offerStartHint')}>
            <input id="flex-o-start" name="start" type="number" min="1" max="100" step="1" required aria-describedby="flex-o-start-hint" />
          </Field>
          <Field id="flex-o-duration" label={t('manageFlex.offerDuration')}><input id="flex-o-duration" name="duration" type="number" min="1" max="100" step="1" defaultValue="4" required /></Field>
          <Field id="flex-o-min" label={t('manageFlex.offerMinPower')} hint={t('manageFlex.offerPowerHint')}>
            <input id="flex-o-min" name="minPower" type="number" step="1" required aria-describedby="flex-o-min-hint" />
          </Field>
          <Field id="flex-o-max" label={t('manageFlex.offerMaxPower')}><input id="flex-o-max" name="maxPower" type="number" step="1" required /></Field>
          <button type="submit" disabled={offer.busy}>{t('manageFlex.makeOffer')}</button>
          <ErrorNote error={offer.error} />
        </form>
      )}
    </section>
  );
}

/** How an ordered offer's order is delivered, per ISP. */
function Delivery({ community, orderMessageId, fmt }: { community: Community; orderMessageId: string; fmt: Formatter }) {
  const { t } = useI18n();
  const delivery = useApi('flexOrderDelivery', { params: { id: community.id, messageId: orderMessageId } }, { refreshMs: 60_000 });
  return (
    <Async state={delivery} what={t('manageFlex.delivery')}>
      {(d) => (
        <div class="table-scroll">
          <table class="stack">
            <caption>{t('manageFlex.deliveryCaption', { reference: d.orderReference, state: d.state })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('manageFlex.isp')}</th><th scope="col" class="num">{t('manageFlex.baselineW')}</th><th scope="col" class="num">{t('manageFlex.orderedW')}</th>
                <th scope="col" class="num">{t('manageFlex.byHandW')}</th><th scope="col" class="num">{t('manageFlex.actualW')}</th><th scope="col" class="num">{t('manageFlex.deliveredW')}</th><th scope="col" class="num">{t('manageFlex.deficiencyW')}</th>
              </tr>
            </thead>
            <tbody>
              {d.isps.map((i) => (
                <tr key={i.isp}>
                  <td data-label={t('manageFlex.isp')}>{fmt.count(i.isp)}</td>
                  <td data-label={t('manageFlex.baselineW')} class="num">{fmt.power(i.baselineW)}</td>
                  <td data-label={t('manageFlex.orderedW')} class="num">{fmt.power(i.orderedW)}</td>
                  <td data-label={t('manageFlex.byHandW')} class="num">{fmt.power(i.byHandW)}</td>
                  <td data-label={t('manageFlex.actualW')} class="num">{i.actualW === null ? '' : fmt.power(i.actualW)}</td>
                  <td data-label={t('manageFlex.deliveredW')} class="num">{i.deliveredW === null ? '' : fmt.power(i.deliveredW)}</td>
                  <td data-label={t('manageFlex.deficiencyW')} class="num">{i.deficiencyW === null ? '' : fmt.power(i.deficiencyW)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Async>
  );
}

function Settlements({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const settlements = useApi('flexSettlements', { params: { id: community.id } });
  const row = (s: FlexOrderSettlementView) => (
    <tr key={s.id}>
      <td data-label={t('manageFlex.order')}>{s.orderReference}</td>
      <td data-label={t('manageFlex.day')}>{fmt.day(s.period)}</td>
      <td data-label={t('manageFlex.dsoNet')} class="num">{fmt.money(s.dso.net)}</td>
      <td data-label={t('manageFlex.ourNet')} class="num">{s.ours ? fmt.money(s.ours.net) : ''}</td>
      <td data-label={t('manageFlex.disposition')}>
        <Badge tone={DISPOSITION_TONES[s.disposition]}>{flexDispositionName(s.disposition, t)}</Badge> {s.disputeReason && <small>{s.disputeReason}</small>}
      </td>
      <td data-label={t('manageFlex.rewards')} class="num">{t('manageFlex.rewardsOf', { members: s.rewards.members, total: fmt.money(s.rewards.total) })}</td>
    </tr>
  );
  return (
    <section class="card" aria-labelledby="flex-settlements-heading">
      <h2 id="flex-settlements-heading">{t('manageFlex.settlements')}</h2>
      <Async state={settlements} what={t('manageFlex.settlements')}>
        {(list) => list.length === 0 ? <Empty><p>{t('manageFlex.noSettlements')}</p></Empty> : (
          <div class="table-scroll">
            <table class="stack">
              <caption>{t('manageFlex.settlementsCaption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('manageFlex.order')}</th><th scope="col">{t('manageFlex.day')}</th><th scope="col" class="num">{t('manageFlex.dsoNet')}</th>
                  <th scope="col" class="num">{t('manageFlex.ourNet')}</th><th scope="col">{t('manageFlex.disposition')}</th><th scope="col" class="num">{t('manageFlex.rewards')}</th>
                </tr>
              </thead>
              <tbody>{list.map(row)}</tbody>
            </table>
          </div>
        )}
      </Async>
    </section>
  );
}

function Messages({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const messages = useApi('flexMessages', { params: { id: community.id }, query: { limit: 50 } }, { refreshMs: 60_000 });
  return (
    <section class="card" aria-labelledby="flex-messages-heading">
      <h2 id="flex-messages-heading">{t('manageFlex.messages')}</h2>
      <Async state={messages} what={t('manageFlex.messages')}>
        {(list) => list.length === 0 ? <Empty><p>{t('manageFlex.noMessages')}</p></Empty> : (
          <>
            <dl class="stats">
              <Stat label={t('manageFlex.messagesIn')} value={fmt.count(list.filter((m) => m.direction === 'in').length)} />
              <Stat label={t('manageFlex.messagesRejected')} value={fmt.count(list.filter((m) => m.state === 'rejected').length)} />
            </dl>
            <div class="table-scroll">
              <table class="stack">
                <caption>{t('manageFlex.messagesCaption')}</caption>
                <thead><tr><th scope="col">{t('manageFlex.at')}</th><th scope="col">{t('manageFlex.direction')}</th><th scope="col">{t('manageFlex.type')}</th><th scope="col">{t('manageFlex.messageState')}</th></tr></thead>
                <tbody>
                  {list.map((m) => (
                    <tr key={m.id}>
                      <td data-label={t('manageFlex.at')}>{fmt.dateTime(m.at)}</td>
                      <td data-label={t('manageFlex.direction')}>{flexDirectionName(m.direction, t)}</td>
                      <td data-label={t('manageFlex.type')}>{m.type}</td>
                      <td data-label={t('manageFlex.messageState')}>{m.state}{m.rejectionReason ? ` · ${m.rejectionReason}` : ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </Async>
    </section>
  );
}
