import { call } from '../api/client.js';
import type { Device, MeteringPoint } from '@gridshare/contract/registry';
import type { Formatter } from '../lib/format.js';
import { ClaimForm } from '../components/claim-form.js';
import { CommandList, ManualCommandForm } from '../components/commands.js';
import { useState } from 'preact/hooks';
import { DeviceStateBadge, useDeviceStates } from '../components/device-state.js';
import { FlexParticipation } from '../components/flex.js';
import { Async, Empty, ErrorNote, Field, Page } from '../components/ui.js';
import { useMemberContext } from '../lib/context.js';
import { useAction, useApi } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';
import { deviceKindName, siteRoleName } from '../lib/names.js';
import { navigate } from '../router.js';
import { useFormat, useSession } from '../session.js';

export default function MemberDevices({ params }: { params: Record<string, string> }) {
  const memberId = params.memberId!;
  const { member, community, points } = useMemberContext(memberId);
  const fmt = useFormat(community.data);
  const { t } = useI18n();
  const devices = useApi('listDevices', member.data ? { params: { id: member.data.communityId } } : null);
  const states = useDeviceStates(member.data?.communityId);
  const { me } = useSession();
  // The flexibility section speaks of the caller's own devices (the API's "my"): not shown to a manager looking at a member.
  const isMe = !!me?.memberships.some((membership) => membership.memberId === memberId);
  const removal = useAction();
  const removeSite = (site: MeteringPoint) => {
    if (!window.confirm(t('site.confirmRemove', { name: site.name }))) return;
    void removal.run(async () => {
      await call('deleteMeteringPoint', { params: { id: site.id } });
      points.reload();
    });
  };
  return (
    <Async state={member} what={t('thing.member')}>
      {(m) => (
        <Page title={t('devices.title', { name: m.displayName })}>
          <Async state={points} what={t('thing.sites')}>
            {(sites) => {
              const ids = new Set(sites.map((s) => s.id));
              return (
                <>
                  <section class="card" aria-labelledby="devices-heading">
                    <h2 id="devices-heading">{t('devices.devices')}</h2>
                    <Async state={devices} what={t('thing.devices')}>
                      {(all) => {
                        const own = all.filter((d) => d.meteringPointId && ids.has(d.meteringPointId));
                        if (own.length === 0) return <Empty><p>{t('devices.none')}</p></Empty>;
                        return (
                          <ul class="rows" aria-label={t('devices.devices')}>
                            {own.map((d) => (
                              <li key={d.id}>
                                <div><strong>{d.name}</strong> <small class="muted">{deviceKindName(d.kind, t)} · {d.id}{d.status === 'disabled' ? ` · ${t('device.disabled')}` : ''}</small></div>
                                <div>{sites.find((s) => s.id === d.meteringPointId)?.name}</div>
                                <DeviceStateBadge state={states.byId.get(d.id)} failed={!!states.error} fmt={fmt} />
                              </li>
                            ))}
                          </ul>
                        );
                      }}
                    </Async>
                  </section>
                  {devices.data && (
                    <MemberCommands communityId={m.communityId} devices={devices.data.filter((d) => d.meteringPointId && ids.has(d.meteringPointId))} fmt={fmt} />
                  )}
                  {isMe && m.state === 'active' && <FlexParticipation communityId={m.communityId} fmt={fmt} />}
                  <section class="card" aria-labelledby="claim-heading">
                    <h2 id="claim-heading">{t('claimPage.title')}</h2>
                    <ClaimForm points={sites} onClaimed={() => devices.reload()} />
                  </section>
                  <section class="card" aria-labelledby="sites-heading">
                    <h2 id="sites-heading">{t('devices.sites')}</h2>
                    {sites.length === 0
                      ? <Empty><p>{t('devices.noSite')}</p></Empty>
                      : (
                        <ul class="rows" aria-label={t('devices.sites')}>
                          {sites.map((s) => (
                            <li key={s.id}>
                              <strong>{s.name}</strong>
                              <small class="muted">
                                {s.gridConnectionId}{s.generationGridConnectionId ? ` · ${t('site.feedIn', { id: s.generationGridConnectionId })}` : ''}
                                {' · '}{siteRoleName(s.role, t)}{s.pvCapacityW ? ` · ${t('site.pv', { power: fmt.peakPower(s.pvCapacityW) })}` : ''}
                              </small>
                              <button type="button" class="secondary" disabled={removal.busy} onClick={() => removeSite(s)}>
                                {t('site.remove')}<span class="sr-only"> {s.name}</span>
                              </button>
                            </li>
                          ))}
                        </ul>
                      )}
                    <ErrorNote error={removal.error} />
                    {m.state === 'active' && <SiteForm communityId={m.communityId} memberId={m.id} onAdded={points.reload} />}
                  </section>
                  {m.state === 'active' && <Membership memberId={m.id} communityName={community.data?.name ?? ''} />}
                </>
              );
            }}
          </Async>
        </Page>
      )}
    </Async>
  );
}

/** The commands sent to the member's devices and how their delivery went; an appliance can be started now. */
function MemberCommands({ communityId, devices, fmt }: { communityId: string; devices: Device[]; fmt: Formatter }) {
  const { t } = useI18n();
  const [version, setVersion] = useState(0);
  if (devices.length === 0) return null;
  return (
    <section class="card" aria-labelledby="commands-heading">
      <h2 id="commands-heading">{t('commands.myTitle')}</h2>
      <p class="muted">{t('commands.myIntro')}</p>
      <ManualCommandForm devices={devices} onIssued={() => setVersion(version + 1)} />
      <CommandList key={version} communityId={communityId} devices={devices} fmt={fmt} />
    </section>
  );
}

/** Leaving ends the member's part in the sharing; their statements and recorded energy stay for billing. */
function Membership({ memberId, communityName }: { memberId: string; communityName: string }) {
  const { t } = useI18n();
  const { refresh } = useSession();
  const action = useAction();
  const leave = () => {
    if (!window.confirm(t('membership.confirmLeave', { community: communityName }))) return;
    void action.run(async () => {
      await call('leaveCommunity', { params: { id: memberId } });
      await refresh();
      navigate('/');
    });
  };
  return (
    <section class="card" aria-labelledby="membership-heading">
      <h2 id="membership-heading">{t('membership.title')}</h2>
      <p class="muted">{t('membership.leaveIntro')}</p>
      <ErrorNote error={action.error} />
      <button type="button" class="secondary" disabled={action.busy} onClick={leave}>{t('membership.leave', { community: communityName })}</button>
    </section>
  );
}

function SiteForm({ communityId, memberId, onAdded }: { communityId: string; memberId: string; onAdded: () => void }) {
  const action = useAction();
  const { t } = useI18n();
  const submit = (event: Event) => {
    action.submit(event, async (v) => {
      await call('createMeteringPoint', {
        params: { id: communityId },
        body: {
          memberId,
          name: v.name!,
          gridConnectionId: v.gridConnectionId!.trim().toUpperCase(),
          role: v.role as MeteringPoint['role'],
          ...(v.generationGridConnectionId?.trim() ? { generationGridConnectionId: v.generationGridConnectionId.trim().toUpperCase() } : {}),
          ...(v.pvCapacityW ? { pvCapacityW: Math.round(Number(v.pvCapacityW) * 1000) } : {}),
        },
      });
      onAdded();
    });
  };
  return (
    <details>
      <summary>{t('site.add')}</summary>
      <form onSubmit={submit}>
        <Field id="site-name" label={t('site.name')}><input id="site-name" name="name" required maxLength={120} /></Field>
        <Field id="site-gc" label={t('site.gridConnectionId')} hint={t('site.gridConnectionIdHint')}>
          <input id="site-gc" name="gridConnectionId" required pattern="[A-Za-z0-9]{6,40}" aria-describedby="site-gc-hint" />
        </Field>
        <Field id="site-role" label={t('site.role')}>
          <select id="site-role" name="role">
            <option value="consumer">{t('site.roleConsumer')}</option>
            <option value="prosumer">{t('site.roleProsumerLong')}</option>
            <option value="producer">{t('site.roleProducer')}</option>
          </select>
        </Field>
        <Field id="site-gen" label={t('site.feedInId')} hint={t('site.feedInIdHint')}>
          <input id="site-gen" name="generationGridConnectionId" pattern="[A-Za-z0-9]{6,40}" aria-describedby="site-gen-hint" />
        </Field>
        <Field id="site-pv" label={t('site.pvPeak')}>
          <input id="site-pv" name="pvCapacityW" type="number" min="0" step="0.1" inputMode="decimal" />
        </Field>
        <ErrorNote error={action.error} />
        <button type="submit" disabled={action.busy}>{t('site.submit')}</button>
      </form>
    </details>
  );
}
