import { useState } from 'preact/hooks';
import { del, patch, post } from '../../api/client.js';
import type { Community, Invitation, Member, MemberState, MeteringPoint } from '../../api/types.js';
import { Async, Badge, Empty, ErrorNote, Field } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { useAction, useApi } from '../../lib/hooks.js';
import { midnightOfDateInput } from '../../lib/time.js';
import { memberPath } from '../../routes.js';
import { ManagePage } from './manage-page.js';

const TONES: Record<MemberState, 'good' | 'warn' | 'bad' | 'neutral'> = { active: 'good', requested: 'warn', rejected: 'bad', left: 'neutral' };

export default function Members({ params }: { params: Record<string, string> }) {
  const communityId = params.communityId!;
  const members = useApi<Member[]>(`/api/v1/communities/${communityId}/members`);
  return (
    <ManagePage communityId={communityId} title="Members">
      {(community, fmt) => (
        <Async state={members} what="members">
          {(all) => {
            const requested = all.filter((m) => m.state === 'requested');
            const others = all.filter((m) => m.state !== 'requested');
            return (
              <>
                <section class="card" aria-labelledby="requests-heading">
                  <h2 id="requests-heading">Join requests</h2>
                  {requested.length === 0
                    ? <Empty><p>No one is waiting to join.</p></Empty>
                    : <ul class="rows" aria-label="Join requests">{requested.map((m) => <JoinRequest key={m.id} member={m} fmt={fmt} onDecided={members.reload} />)}</ul>}
                </section>
                <section class="card" aria-labelledby="members-heading">
                  <h2 id="members-heading">Members</h2>
                  <div class="table-scroll">
                    <table>
                      <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">State</th><th scope="col">Takes part</th></tr></thead>
                      <tbody>
                        {others.map((m) => (
                          <tr key={m.id}>
                            <td>{m.state === 'active' ? <a href={memberPath(m.id)}>{m.displayName}</a> : m.displayName}</td>
                            <td>{m.email}</td>
                            <td>{m.role}</td>
                            <td><Badge tone={TONES[m.state]}>{m.state}</Badge></td>
                            <td><Participation member={m} community={community} fmt={fmt} onChanged={members.reload} /></td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                </section>
                <Invitations communityId={communityId} fmt={fmt} />
                <Sites communityId={communityId} members={all} fmt={fmt} />
              </>
            );
          }}
        </Async>
      )}
    </ManagePage>
  );
}

/** The member's part in the sharing, e.g. "since 1 Mar 2026" or "1 Mar 2026 – 5 Jun 2026", and its start for managers to move. */
function Participation({ member: m, community, fmt, onChanged }: { member: Member; community: Community; fmt: Formatter; onChanged: () => void }) {
  const action = useAction();
  const from = m.activeFrom ? fmt.date(m.activeFrom) : null;
  const text = m.leftAt ? `${from ?? '…'} – ${fmt.date(m.leftAt)}` : m.state !== 'active' ? '–' : from ? `since ${from}` : 'from the start';
  if (m.state !== 'active' && m.state !== 'left') return <>{text}</>;
  const submit = (event: Event) => {
    action.submit(event, async (v) => {
      await patch<Member>(`/api/v1/members/${m.id}`, { activeFrom: midnightOfDateInput(v.activeFrom!, community.timeZone).toISOString() });
      onChanged();
    });
  };
  return (
    <details>
      <summary>{text}<span class="sr-only">: change when {m.displayName} takes part</span></summary>
      <form onSubmit={submit} class="inline-form">
        <Field id={`active-from-${m.id}`} label="Takes part from" hint={`Start of that day in ${community.timeZone}, e.g. when the grid operator activated the metering point`}>
          <input id={`active-from-${m.id}`} name="activeFrom" type="date" required aria-describedby={`active-from-${m.id}-hint`} />
        </Field>
        <button type="submit" disabled={action.busy}>Save</button>
        <ErrorNote error={action.error} />
      </form>
    </details>
  );
}

function JoinRequest({ member, fmt, onDecided }: { member: Member; fmt: Formatter; onDecided: () => void }) {
  const action = useAction();
  const decide = (decision: 'approve' | 'reject') =>
    void action.run(async () => {
      await post<Member>(`/api/v1/members/${member.id}/${decision}`);
      onDecided();
    });
  return (
    <li>
      <div><strong>{member.displayName}</strong> <small class="muted">{member.email} · asked {fmt.dateTime(member.requestedAt)}</small></div>
      {member.joinMessage && <blockquote>{member.joinMessage}</blockquote>}
      <div class="row-actions">
        <button type="button" disabled={action.busy} onClick={() => decide('approve')}>Approve<span class="sr-only"> {member.displayName}</span></button>
        <button type="button" class="danger" disabled={action.busy} onClick={() => decide('reject')}>Reject<span class="sr-only"> {member.displayName}</span></button>
      </div>
      <ErrorNote error={action.error} />
    </li>
  );
}

/** Invitations by email: the person joins by accepting; the answer never tells whether the address has an account. */
function Invitations({ communityId, fmt }: { communityId: string; fmt: Formatter }) {
  const invitations = useApi<Invitation[]>(`/api/v1/communities/${communityId}/invitations?state=pending`);
  const action = useAction();
  const [sent, setSent] = useState<string | undefined>(undefined);
  const submit = (event: Event) => {
    action.submit(event, async (v) => {
      const invitation = await post<Invitation>(`/api/v1/communities/${communityId}/invitations`, { email: v.email, role: v.role });
      setSent(invitation.email);
      invitations.reload();
    });
  };
  return (
    <section class="card" aria-labelledby="invitations-heading">
      <h2 id="invitations-heading">Invitations</h2>
      <Async state={invitations} what="invitations">
        {(open) => open.length === 0 ? <Empty><p>No open invitation.</p></Empty> : (
          <ul class="rows" aria-label="Open invitations">
            {open.map((i) => <InvitationRow key={i.id} invitation={i} fmt={fmt} onRevoked={invitations.reload} />)}
          </ul>
        )}
      </Async>
      <details>
        <summary>Invite someone</summary>
        <form onSubmit={submit}>
          <Field id="invite-email" label="Email" hint="They see the invitation once they log in with this address, or sign up with it">
            <input id="invite-email" name="email" type="email" required aria-describedby="invite-email-hint" onInput={() => setSent(undefined)} />
          </Field>
          <Field id="invite-role" label="Role">
            <select id="invite-role" name="role"><option value="member">Member</option><option value="manager">Manager</option></select>
          </Field>
          <ErrorNote error={action.error} />
          {sent && <p role="status">Invitation to {sent} recorded.</p>}
          <button type="submit" disabled={action.busy}>Invite</button>
        </form>
      </details>
    </section>
  );
}

function InvitationRow({ invitation, fmt, onRevoked }: { invitation: Invitation; fmt: Formatter; onRevoked: () => void }) {
  const action = useAction();
  const revoke = () => void action.run(async () => {
    await del(`/api/v1/invitations/${invitation.id}`);
    onRevoked();
  });
  return (
    <li>
      <div><strong>{invitation.email}</strong> <small class="muted">{invitation.role} · invited {fmt.dateTime(invitation.createdAt)}</small></div>
      <div class="row-actions">
        <button type="button" class="danger" disabled={action.busy} onClick={revoke}>Revoke<span class="sr-only"> the invitation to {invitation.email}</span></button>
      </div>
      <ErrorNote error={action.error} />
    </li>
  );
}

/** Every site of the community with its owner; the manager marks the community's own battery. */
function Sites({ communityId, members, fmt }: { communityId: string; members: Member[]; fmt: Formatter }) {
  const points = useApi<MeteringPoint[]>(`/api/v1/communities/${communityId}/metering-points`);
  const owner = new Map(members.map((m) => [m.id, m.displayName]));
  return (
    <section class="card" aria-labelledby="sites-heading">
      <h2 id="sites-heading">Sites</h2>
      <p class="muted">A community battery's stored grid energy is never passed on as community energy.</p>
      <Async state={points} what="sites">
        {(list) => list.length === 0 ? <Empty><p>No site registered yet.</p></Empty> : (
          <div class="table-scroll">
            <table>
              <thead><tr><th scope="col">Site</th><th scope="col">Member</th><th scope="col">Role</th><th scope="col" class="num">PV</th><th scope="col" class="num">Battery</th><th scope="col">Community battery</th></tr></thead>
              <tbody>{list.map((p) => <SiteRow key={p.id} point={p} owner={owner.get(p.memberId) ?? '–'} fmt={fmt} onChanged={points.reload} />)}</tbody>
            </table>
          </div>
        )}
      </Async>
    </section>
  );
}

function SiteRow({ point, owner, fmt, onChanged }: { point: MeteringPoint; owner: string; fmt: Formatter; onChanged: () => void }) {
  const action = useAction();
  // Shown at once; back to what the server has if it refuses.
  const [checked, setChecked] = useState(point.communityBattery);
  const toggle = (communityBattery: boolean) => {
    setChecked(communityBattery);
    void action.run(async () => {
      try {
        await patch<MeteringPoint>(`/api/v1/metering-points/${point.id}`, { communityBattery });
      } catch (error) {
        setChecked(point.communityBattery);
        throw error;
      }
      onChanged();
    });
  };
  return (
    <tr data-site-id={point.id}>
      <th scope="row">{point.name}<br /><small class="muted">{point.gridConnectionId}{point.generationGridConnectionId ? ` · feed-in ${point.generationGridConnectionId}` : ''}</small></th>
      <td>{owner}</td>
      <td>{point.role}</td>
      <td class="num">{point.pvCapacityW ? `${fmt.power(point.pvCapacityW)}p` : '–'}</td>
      <td class="num">{point.batteryCapacityWh ? fmt.energy(point.batteryCapacityWh) : '–'}</td>
      <td>
        <label class="inline">
          <input type="checkbox" checked={checked} disabled={action.busy} onChange={(e) => toggle(e.currentTarget.checked)} />
          <span class="sr-only">{point.name} is the community battery</span>
        </label>
        <ErrorNote error={action.error} />
      </td>
    </tr>
  );
}
