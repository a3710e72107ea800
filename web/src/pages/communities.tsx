import { useState } from 'preact/hooks';
import { get, post } from '../api/client.js';
import type { CommunityListing, Comparison, Member, ReceivedInvitation } from '../api/types.js';
import { Badge, Empty, ErrorNote, Field, Loading, Page } from '../components/ui.js';
import { formatter } from '../lib/format.js';
import { formValues, useAction, useApi } from '../lib/hooks.js';
import { ruleName } from '../lib/rules.js';
import { navigate } from '../router.js';
import { memberPath } from '../routes.js';
import { useSession } from '../session.js';

const MAX_COMPARED = 5;

export default function Communities() {
  const { me, invitations, refresh } = useSession();
  const [query, setQuery] = useState('');
  const results = useApi<CommunityListing[]>(`/api/v1/communities?${query}`);
  const [selected, setSelected] = useState<string[]>([]);
  const [comparison, setComparison] = useState<Comparison[] | undefined>(undefined);
  const compare = useAction();
  const stateOf = (communityId: string) => me?.memberships.find((m) => m.communityId === communityId)?.state;

  const search = (event: Event) => {
    const v = formValues(event);
    setQuery(new URLSearchParams(Object.entries(v).filter(([, value]) => value.trim() !== '')).toString());
  };
  const toggle = (id: string, on: boolean) => setSelected((s) => (on ? [...s, id].slice(-MAX_COMPARED) : s.filter((x) => x !== id)));
  const runCompare = () =>
    void compare.run(async () => setComparison(await get<Comparison[]>(`/api/v1/communities/compare?${selected.map((id) => `ids=${id}`).join('&')}`)));

  return (
    <Page title="Communities">
      {invitations.length > 0 && <Invitations invitations={invitations} onDecided={refresh} />}
      <form class="card search" role="search" onSubmit={search}>
        <Field id="search-q" label="Name"><input id="search-q" name="q" type="search" /></Field>
        <Field id="search-postcode" label="Postcode"><input id="search-postcode" name="postcode" pattern="[A-Za-z0-9 \-]{1,16}" /></Field>
        <Field id="search-grid" label="Grid area"><input id="search-grid" name="gridArea" /></Field>
        <button type="submit">Search</button>
      </form>
      <section aria-labelledby="results-heading">
        <h2 id="results-heading">Found</h2>
        {results.error ? <ErrorNote error={results.error} />
          : !results.data ? <Loading what="communities" />
          : results.data.length === 0 ? <Empty><p>No community matches. Try fewer words or another postcode.</p></Empty>
          : (
            <ul class="rows" aria-label="Communities found">
              {results.data.map((c) => (
                <li key={c.id}>
                  <div>
                    <strong>{c.name}</strong>{' '}
                    <small class="muted">{[c.postcode, c.gridArea, `${c.memberCount} member${c.memberCount === 1 ? '' : 's'}`, c.distanceKm !== null ? `${c.distanceKm.toFixed(1)} km` : null].filter(Boolean).join(' · ')}</small>
                  </div>
                  {c.description && <p class="muted">{c.description}</p>}
                  <div class="row-actions">
                    <label class="inline">
                      <input type="checkbox" checked={selected.includes(c.id)} onChange={(e) => toggle(c.id, e.currentTarget.checked)} /> Compare
                    </label>
                    <JoinButton community={c} state={stateOf(c.id)} onJoined={refresh} />
                  </div>
                </li>
              ))}
            </ul>
          )}
        <button type="button" disabled={selected.length < 2 || compare.busy} onClick={runCompare}>
          Compare {selected.length > 0 ? `${selected.length} selected` : ''}
        </button>
        <ErrorNote error={compare.error} />
      </section>
      {comparison && <ComparisonTable rows={comparison} />}
    </Page>
  );
}

/** Invitations to the person's email: accepting makes them a member at once. */
function Invitations({ invitations, onDecided }: { invitations: ReceivedInvitation[]; onDecided: () => Promise<void> }) {
  return (
    <section class="card" aria-labelledby="invitations-heading">
      <h2 id="invitations-heading">Invitations</h2>
      <ul class="rows" aria-label="Invitations">
        {invitations.map((invitation) => <InvitationRow key={invitation.id} invitation={invitation} onDecided={onDecided} />)}
      </ul>
    </section>
  );
}

function InvitationRow({ invitation, onDecided }: { invitation: ReceivedInvitation; onDecided: () => Promise<void> }) {
  const action = useAction();
  const { community, role } = invitation;
  const accept = () => void action.run(async () => {
    const member = await post<Member>(`/api/v1/invitations/${invitation.id}/accept`);
    await onDecided();
    navigate(memberPath(member.id));
  });
  const decline = () => void action.run(async () => {
    await post(`/api/v1/invitations/${invitation.id}/decline`);
    await onDecided();
  });
  return (
    <li>
      <div><strong>{community.name}</strong> <small class="muted">invites you as {role === 'manager' ? 'a manager' : 'a member'}</small></div>
      {community.description && <p class="muted">{community.description}</p>}
      <div class="row-actions">
        <button type="button" disabled={action.busy} onClick={accept}>Accept<span class="sr-only"> the invitation to {community.name}</span></button>
        <button type="button" class="secondary" disabled={action.busy} onClick={decline}>Decline<span class="sr-only"> the invitation to {community.name}</span></button>
      </div>
      <ErrorNote error={action.error} />
    </li>
  );
}

function JoinButton({ community, state, onJoined }: { community: CommunityListing; state: string | undefined; onJoined: () => Promise<void> }) {
  const action = useAction();
  const [asking, setAsking] = useState(false);
  if (state === 'active') return <Badge tone="good">member</Badge>;
  if (state === 'requested') return <Badge tone="warn">request sent</Badge>;
  if (!community.isPublic) return null;
  if (!asking) return <button type="button" class="secondary" onClick={() => setAsking(true)}>Request to join<span class="sr-only"> {community.name}</span></button>;
  const submit = (event: Event) => {
    const { message } = formValues(event);
    void action.run(async () => {
      await post<Member>(`/api/v1/communities/${community.id}/join-requests`, message ? { message } : {});
      await onJoined();
    });
  };
  return (
    <form onSubmit={submit} class="join">
      <Field id={`join-${community.id}`} label={`Message to the managers of ${community.name} (optional)`}>
        <textarea id={`join-${community.id}`} name="message" maxLength={1000} rows={2} />
      </Field>
      <ErrorNote error={action.error} />
      <button type="submit" disabled={action.busy}>Send request</button>
    </form>
  );
}

function ComparisonTable({ rows }: { rows: Comparison[] }) {
  const line = (label: string, cell: (c: Comparison) => string) => (
    <tr><th scope="row">{label}</th>{rows.map((c) => <td>{cell(c)}</td>)}</tr>
  );
  const fmt = (c: Comparison) => formatter({ locale: c.community.locale, currency: c.community.currency, timeZone: c.community.timeZone });
  return (
    <section class="card" aria-labelledby="compare-heading">
      <h2 id="compare-heading">Side by side</h2>
      <div class="table-scroll">
        <table>
          <thead><tr><td /> {rows.map((c) => <th scope="col">{c.community.name}</th>)}</tr></thead>
          <tbody>
            {line('Members', (c) => fmt(c).count(c.memberCount))}
            {line('Producers', (c) => fmt(c).count(c.producerCount))}
            {line('PV capacity', (c) => `${fmt(c).power(c.productionCapacityW)}p`)}
            {line('Battery', (c) => fmt(c).energy(c.batteryCapacityWh))}
            {line('Grid price', (c) => (c.prices ? `${fmt(c).money(c.prices.grid)}/kWh` : '–'))}
            {line('Community price', (c) => (c.prices ? `${fmt(c).money(c.prices.community)}/kWh` : '–'))}
            {line('Feed-in price', (c) => (c.prices ? `${fmt(c).money(c.prices.feedIn)}/kWh` : '–'))}
            {line('Renewable share', (c) => fmt(c).percent(c.renewableShare))}
            {line('Allocation rule', (c) => ruleName(c.community.allocationRule))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
