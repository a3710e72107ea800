import { useState } from 'preact/hooks';
import { call, type Call } from '../api/client.js';
import { MAX_COMPARED, type CommunityListing, type Comparison } from '@gridshare/contract/discovery';
import type { ReceivedInvitation } from '@gridshare/contract/registry';
import { Badge, Empty, ErrorNote, Field, Loading, Page } from '../components/ui.js';
import { formatter, NO_VALUE } from '../lib/format.js';
import { formValues, useAction, useApi } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';
import { ruleName } from '../lib/rules.js';
import { navigate } from '../router.js';
import { memberPath } from '../paths.js';
import { useFormat, useSession } from '../session.js';

export default function Communities() {
  const { me, invitations, refresh } = useSession();
  const { t } = useI18n();
  const fmt = useFormat(undefined);
  const [query, setQuery] = useState<Call<'searchCommunities'>['query']>({});
  const results = useApi('searchCommunities', { query });
  const [selected, setSelected] = useState<string[]>([]);
  const [comparison, setComparison] = useState<Comparison[] | undefined>(undefined);
  const compare = useAction();
  const stateOf = (communityId: string) => me?.memberships.find((m) => m.communityId === communityId)?.state;

  const search = (event: Event) => {
    const v = formValues(event);
    setQuery(Object.fromEntries(Object.entries(v).filter(([, value]) => value.trim() !== '')));
  };
  const toggle = (id: string, on: boolean) => setSelected((s) => (on ? [...s, id].slice(-MAX_COMPARED) : s.filter((x) => x !== id)));
  const runCompare = () =>
    void compare.run(async () => setComparison(await call('compareCommunities', { query: { ids: selected } })));

  return (
    <Page title={t('communities.title')}>
      {invitations.length > 0 && <Invitations invitations={invitations} onDecided={refresh} />}
      <form class="card search" role="search" onSubmit={search}>
        <Field id="search-q" label={t('communities.name')}><input id="search-q" name="q" type="search" /></Field>
        <Field id="search-postcode" label={t('communities.postcode')}><input id="search-postcode" name="postcode" pattern="[A-Za-z0-9 \-]{1,16}" /></Field>
        <Field id="search-grid" label={t('communities.gridArea')}><input id="search-grid" name="gridArea" /></Field>
        <button type="submit">{t('communities.search')}</button>
      </form>
      <section aria-labelledby="results-heading">
        <h2 id="results-heading">{t('communities.found')}</h2>
        {results.error ? <ErrorNote error={results.error} />
          : !results.data ? <Loading what={t('thing.communities')} />
          : results.data.length === 0 ? <Empty><p>{t('communities.noMatch')}</p></Empty>
          : (
            <ul class="rows" aria-label={t('communities.foundList')}>
              {results.data.map((c) => (
                <li key={c.id}>
                  <div>
                    <strong>{c.name}</strong>{' '}
                    <small class="muted">{[c.postcode, c.gridArea, t('communities.memberCount', { count: c.memberCount }), c.distanceKm !== null ? fmt.distance(c.distanceKm) : null].filter(Boolean).join(' · ')}</small>
                  </div>
                  {c.description && <p class="muted">{c.description}</p>}
                  <div class="row-actions">
                    <label class="inline">
                      <input type="checkbox" checked={selected.includes(c.id)} onChange={(e) => toggle(c.id, e.currentTarget.checked)} /> {t('communities.compareOne')}
                    </label>
                    <JoinButton community={c} state={stateOf(c.id)} onJoined={refresh} />
                  </div>
                </li>
              ))}
            </ul>
          )}
        <button type="button" disabled={selected.length < 2 || compare.busy} onClick={runCompare}>
          {t('communities.compare', { count: selected.length })}
        </button>
        <ErrorNote error={compare.error} />
      </section>
      {comparison && <ComparisonTable rows={comparison} />}
    </Page>
  );
}

/** Invitations to the person's email: accepting makes them a member at once. */
function Invitations({ invitations, onDecided }: { invitations: ReceivedInvitation[]; onDecided: () => Promise<void> }) {
  const { t } = useI18n();
  return (
    <section class="card" aria-labelledby="invitations-heading">
      <h2 id="invitations-heading">{t('communities.invitations')}</h2>
      <ul class="rows" aria-label={t('communities.invitations')}>
        {invitations.map((invitation) => <InvitationRow key={invitation.id} invitation={invitation} onDecided={onDecided} />)}
      </ul>
    </section>
  );
}

function InvitationRow({ invitation, onDecided }: { invitation: ReceivedInvitation; onDecided: () => Promise<void> }) {
  const action = useAction();
  const { t } = useI18n();
  const { community, role } = invitation;
  const accept = () => void action.run(async () => {
    const member = await call('acceptInvitation', { params: { id: invitation.id } });
    await onDecided();
    navigate(memberPath(member.id));
  });
  const decline = () => void action.run(async () => {
    await call('declineInvitation', { params: { id: invitation.id } });
    await onDecided();
  });
  const which = <span class="sr-only"> {t('communities.theInvitationTo', { community: community.name })}</span>;
  return (
    <li>
      <div><strong>{community.name}</strong> <small class="muted">{t('communities.invitesYouAs', { role })}</small></div>
      {community.description && <p class="muted">{community.description}</p>}
      <div class="row-actions">
        <button type="button" disabled={action.busy} onClick={accept}>{t('communities.accept')}{which}</button>
        <button type="button" class="secondary" disabled={action.busy} onClick={decline}>{t('communities.decline')}{which}</button>
      </div>
      <ErrorNote error={action.error} />
    </li>
  );
}

function JoinButton({ community, state, onJoined }: { community: CommunityListing; state: string | undefined; onJoined: () => Promise<void> }) {
  const action = useAction();
  const { t } = useI18n();
  const [asking, setAsking] = useState(false);
  if (state === 'active') return <Badge tone="good">{t('communities.isMember')}</Badge>;
  if (state === 'requested') return <Badge tone="warn">{t('communities.requestSent')}</Badge>;
  if (!community.isPublic) return null;
  if (!asking) return <button type="button" class="secondary" onClick={() => setAsking(true)}>{t('communities.requestToJoin')}<span class="sr-only"> {community.name}</span></button>;
  const submit = (event: Event) => {
    const { message } = formValues(event);
    void action.run(async () => {
      await call('requestToJoin', { params: { id: community.id }, body: message ? { message } : {} });
      await onJoined();
    });
  };
  return (
    <form onSubmit={submit} class="join">
      <Field id={`join-${community.id}`} label={t('communities.joinMessage', { community: community.name })}>
        <textarea id={`join-${community.id}`} name="message" maxLength={1000} rows={2} />
      </Field>
      <ErrorNote error={action.error} />
      <button type="submit" disabled={action.busy}>{t('communities.sendRequest')}</button>
    </form>
  );
}

function ComparisonTable({ rows }: { rows: Comparison[] }) {
  const { t, locale } = useI18n();
  const line = (label: string, cell: (c: Comparison) => string) => (
    <tr><th scope="row">{label}</th>{rows.map((c) => <td>{cell(c)}</td>)}</tr>
  );
  // Each community's prices in its own currency, all written the reader's way.
  const fmt = (c: Comparison) => formatter({ locale, currency: c.community.currency, timeZone: c.community.timeZone });
  return (
    <section class="card" aria-labelledby="compare-heading">
      <h2 id="compare-heading">{t('communities.sideBySide')}</h2>
      <div class="table-scroll">
        <table>
          <thead><tr><td /> {rows.map((c) => <th scope="col">{c.community.name}</th>)}</tr></thead>
          <tbody>
            {line(t('communities.members'), (c) => fmt(c).count(c.memberCount))}
            {line(t('communities.producers'), (c) => fmt(c).count(c.producerCount))}
            {line(t('communities.pvCapacity'), (c) => fmt(c).peakPower(c.productionCapacityW))}
            {line(t('communities.battery'), (c) => fmt(c).energy(c.batteryCapacityWh))}
            {line(t('communities.gridPrice'), (c) => (c.prices ? fmt(c).pricePerKWh(c.prices.grid) : NO_VALUE))}
            {line(t('communities.communityPrice'), (c) => (c.prices ? fmt(c).pricePerKWh(c.prices.community) : NO_VALUE))}
            {line(t('communities.feedInPrice'), (c) => (c.prices ? fmt(c).pricePerKWh(c.prices.feedIn) : NO_VALUE))}
            {line(t('communities.renewableShare'), (c) => fmt(c).percent(c.renewableShare))}
            {line(t('communities.allocationRule'), (c) => ruleName(c.community.allocationRule, t))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
