import { useState } from 'preact/hooks';
import { call } from '../../api/client.js';
import type { Community, Invitation, Member, MemberRole, MemberState, MeteringPoint } from '@gridshare/contract/registry';
import { Async, Badge, Empty, ErrorNote, Field } from '../../components/ui.js';
import { NO_VALUE, type Formatter } from '../../lib/format.js';
import { useAction, useApi } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { memberRoleName, memberStateName, siteRoleName } from '../../lib/names.js';
import { midnightOfDateInput } from '../../lib/time.js';
import { memberPath } from '../../paths.js';
import { ManagePage } from './manage-page.js';
import { DateInput } from '../../components/date-input.js';

const TONES: Record<MemberState, 'good' | 'warn' | 'bad' | 'neutral'> = { active: 'good', requested: 'warn', rejected: 'bad', left: 'neutral' };

export default function Members({ params }: { params: Record<string, string> }) {
  const communityId = params.communityId!;
  const members = useApi('listMembers', { params: { id: communityId } });
  const { t } = useI18n();
  return (
    <ManagePage communityId={communityId} title={t('nav.members')}>
      {(community, fmt) => (
        <Async state={members} what={t('thing.members')}>
          {(all) => {
            const requested = all.filter((m) => m.state === 'requested');
            const others = fmt.sortBy(all.filter((m) => m.state !== 'requested'), (m) => m.displayName);
            return (
              <>
                <section class="card" aria-labelledby="requests-heading">
                  <h2 id="requests-heading">{t('members.joinRequests')}</h2>
                  {requested.length === 0
                    ? <Empty><p>{t('members.noRequests')}</p></Empty>
                    : <ul class="rows" aria-label={t('members.joinRequests')}>{requested.map((m) => <JoinRequest key={m.id} member={m} fmt={fmt} onDecided={members.reload} />)}</ul>}
                </section>
                <section class="card" aria-labelledby="members-heading">
                  <h2 id="members-heading">{t('nav.members')}</h2>
                  <div class="table-scroll">
                    <table>
                      <thead>
                        <tr>
                          <th scope="col">{t('members.name')}</th><th scope="col">{t('login.email')}</th><th scope="col">{t('members.role')}</th>
                          <th scope="col">{t('members.state')}</th><th scope="col">{t('members.takesPart')}</th>
                        </tr>
                      </thead>
                      <tbody>
                        {others.map((m) => (
                          <tr key={m.id}>
                            <td>{m.state === 'active' ? <a href={memberPath(m.id)}>{m.displayName}</a> : m.displayName}</td>
                            <td>{m.email}</td>
                            <td>{memberRoleName(m.role, t)}</td>
                            <td><Badge tone={TONES[m.state]}>{memberStateName(m.state, t)}</Badge></td>
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
  const { t } = useI18n();
  const from = m.activeFrom ? fmt.date(m.activeFrom) : null;
  const text = m.leftAt ? `${from ?? '…'} – ${fmt.date(m.leftAt)}` : m.state !== 'active' ? NO_VALUE : from ? t('members.since', { date: from }) : t('members.fromStart');
  if (m.state !== 'active' && m.state !== 'left') return <>{text}</>;
  const submit = (event: Event) => {
    action.submit(event, async (v) => {
      await call('updateMember', { params: { id: m.id }, body: { activeFrom: midnightOfDateInput(v.activeFrom!, community.timeZone).toISOString() } });
      onChanged();
    });
  };
  return (
    <details>
      <summary>{text}<span class="sr-only">{t('members.changeWhen', { name: m.displayName })}</span></summary>
      <form onSubmit={submit} class="inline-form">
        <Field id={`active-from-${m.id}`} label={t('members.takesPartFrom')} hint={t('members.takesPartFromHint', { timeZone: community.timeZone })}>
          <DateInput id={`active-from-${m.id}`} name="activeFrom" required aria-describedby={`active-from-${m.id}-hint`} />
        </Field>
        <button type="submit" disabled={action.busy}>{t('members.save')}</button>
        <ErrorNote error={action.error} />
      </form>
    </details>
  );
}

function JoinRequest({ member, fmt, onDecided }: { member: Member; fmt: Formatter; onDecided: () => void }) {
  const action = useAction();
  const { t } = useI18n();
  const decide = (decision: 'approve' | 'reject') =>
    void action.run(async () => {
      await call(decision === 'approve' ? 'approveMember' : 'rejectMember', { params: { id: member.id } });
      onDecided();
    });
  return (
    <li>
      <div><strong>{member.displayName}</strong> <small class="muted">{member.email} · {t('members.asked', { time: fmt.dateTime(member.requestedAt) })}</small></div>
      {member.joinMessage && <blockquote>{member.joinMessage}</blockquote>}
      <div class="row-actions">
        <button type="button" disabled={action.busy} onClick={() => decide('approve')}>{t('members.approve')}<span class="sr-only"> {member.displayName}</span></button>
        <button type="button" class="danger" disabled={action.busy} onClick={() => decide('reject')}>{t('members.reject')}<span class="sr-only"> {member.displayName}</span></button>
      </div>
      <ErrorNote error={action.error} />
    </li>
  );
}

/** Invitations by email: the person joins by accepting; the answer never tells whether the address has an account. */
function Invitations({ communityId, fmt }: { communityId: string; fmt: Formatter }) {
  const invitations = useApi('listInvitations', { params: { id: communityId }, query: { state: 'pending' } });
  const action = useAction();
  const [sent, setSent] = useState<string | undefined>(undefined);
  const { t } = useI18n();
  const submit = (event: Event) => {
    action.submit(event, async (v) => {
      const invitation = await call('createInvitation', { params: { id: communityId }, body: { email: v.email!, role: v.role as MemberRole } });
      setSent(invitation.email);
      invitations.reload();
    });
  };
  return (
    <section class="card" aria-labelledby="invitations-heading">
      <h2 id="invitations-heading">{t('members.invitations')}</h2>
      <Async state={invitations} what={t('thing.invitations')}>
        {(open) => open.length === 0 ? <Empty><p>{t('members.noInvitations')}</p></Empty> : (
          <ul class="rows" aria-label={t('members.openInvitations')}>
            {open.map((i) => <InvitationRow key={i.id} invitation={i} fmt={fmt} onRevoked={invitations.reload} />)}
          </ul>
        )}
      </Async>
      <details>
        <summary>{t('members.inviteSomeone')}</summary>
        <form onSubmit={submit}>
          <Field id="invite-email" label={t('login.email')} hint={t('members.inviteEmailHint')}>
            <input id="invite-email" name="email" type="email" required aria-describedby="invite-email-hint" onInput={() => setSent(undefined)} />
          </Field>
          <Field id="invite-role" label={t('members.role')}>
            <select id="invite-role" name="role"><option value="member">{t('role.memberTitle')}</option><option value="manager">{t('role.managerTitle')}</option></select>
          </Field>
          <ErrorNote error={action.error} />
          {sent && <p role="status">{t('members.invitationRecorded', { email: sent })}</p>}
          <button type="submit" disabled={action.busy}>{t('members.invite')}</button>
        </form>
      </details>
    </section>
  );
}

function InvitationRow({ invitation, fmt, onRevoked }: { invitation: Invitation; fmt: Formatter; onRevoked: () => void }) {
  const action = useAction();
  const { t } = useI18n();
  const revoke = () => void action.run(async () => {
    await call('revokeInvitation', { params: { id: invitation.id } });
    onRevoked();
  });
  return (
    <li>
      <div><strong>{invitation.email}</strong> <small class="muted">{memberRoleName(invitation.role, t)} · {t('members.invited', { time: fmt.dateTime(invitation.createdAt) })}</small></div>
      <div class="row-actions">
        <button type="button" class="danger" disabled={action.busy} onClick={revoke}>
          {t('members.revoke')}<span class="sr-only"> {t('members.theInvitationTo', { email: invitation.email })}</span>
        </button>
      </div>
      <ErrorNote error={action.error} />
    </li>
  );
}

/** Every site of the community with its owner; the manager marks the community's own battery. */
function Sites({ communityId, members, fmt }: { communityId: string; members: Member[]; fmt: Formatter }) {
  const points = useApi('listMeteringPoints', { params: { id: communityId } });
  const { t } = useI18n();
  const owner = new Map(members.map((m) => [m.id, m.displayName]));
  return (
    <section class="card" aria-labelledby="sites-heading">
      <h2 id="sites-heading">{t('devices.sites')}</h2>
      <p class="muted">{t('members.sitesHint')}</p>
      <Async state={points} what={t('thing.sites')}>
        {(list) => list.length === 0 ? <Empty><p>{t('members.noSites')}</p></Empty> : (
          <div class="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('claim.site')}</th><th scope="col">{t('overview.member')}</th><th scope="col">{t('members.role')}</th>
                  <th scope="col" class="num">{t('members.pv')}</th><th scope="col" class="num">{t('communities.battery')}</th><th scope="col">{t('members.communityBattery')}</th>
                </tr>
              </thead>
              <tbody>{fmt.sortBy(list, (p) => p.name).map((p) => <SiteRow key={p.id} point={p} owner={owner.get(p.memberId) ?? NO_VALUE} fmt={fmt} onChanged={points.reload} />)}</tbody>
            </table>
          </div>
        )}
      </Async>
    </section>
  );
}

function SiteRow({ point, owner, fmt, onChanged }: { point: MeteringPoint; owner: string; fmt: Formatter; onChanged: () => void }) {
  const action = useAction();
  const { t } = useI18n();
  // Shown at once; back to what the server has if it refuses.
  const [checked, setChecked] = useState(point.communityBattery);
  const toggle = (communityBattery: boolean) => {
    setChecked(communityBattery);
    void action.run(async () => {
      try {
        await call('updateMeteringPoint', { params: { id: point.id }, body: { communityBattery } });
      } catch (error) {
        setChecked(point.communityBattery);
        throw error;
      }
      onChanged();
    });
  };
  return (
    <tr data-site-id={point.id}>
      <th scope="row">
        {point.name}<br />
        <small class="muted">{point.gridConnectionId}{point.generationGridConnectionId ? ` · ${t('site.feedIn', { id: point.generationGridConnectionId })}` : ''}</small>
      </th>
      <td>{owner}</td>
      <td>{siteRoleName(point.role, t)}</td>
      <td class="num">{point.pvCapacityW ? fmt.peakPower(point.pvCapacityW) : NO_VALUE}</td>
      <td class="num">{point.batteryCapacityWh ? fmt.energy(point.batteryCapacityWh) : NO_VALUE}</td>
      <td>
        <label class="inline">
          <input type="checkbox" checked={checked} disabled={action.busy} onChange={(e) => toggle(e.currentTarget.checked)} />
          <span class="sr-only">{t('members.isCommunityBattery', { name: point.name })}</span>
        </label>
        <ErrorNote error={action.error} />
      </td>
    </tr>
  );
}
