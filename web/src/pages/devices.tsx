import { post } from '../api/client.js';
import type { Device, MeteringPoint } from '../api/types.js';
import { ClaimForm } from '../components/claim-form.js';
import { DeviceStateBadge, useDeviceStates } from '../components/device-state.js';
import { Async, Empty, ErrorNote, Field, Page } from '../components/ui.js';
import { useMemberContext } from '../lib/context.js';
import { useAction, useApi } from '../lib/hooks.js';
import { useFormat } from '../session.js';

export default function MemberDevices({ params }: { params: Record<string, string> }) {
  const memberId = params.memberId!;
  const { member, community, points } = useMemberContext(memberId);
  const fmt = useFormat(community.data);
  const devices = useApi<Device[]>(member.data ? `/api/v1/communities/${member.data.communityId}/devices` : null);
  const states = useDeviceStates(member.data?.communityId);
  return (
    <Async state={member} what="member">
      {(m) => (
        <Page title={`Devices of ${m.displayName}`}>
          <Async state={points} what="sites">
            {(sites) => {
              const ids = new Set(sites.map((s) => s.id));
              return (
                <>
                  <section class="card" aria-labelledby="devices-heading">
                    <h2 id="devices-heading">Devices</h2>
                    <Async state={devices} what="devices">
                      {(all) => {
                        const own = all.filter((d) => d.meteringPointId && ids.has(d.meteringPointId));
                        if (own.length === 0) return <Empty><p>No device is connected yet. Claim your meter reader below with the code on its sticker.</p></Empty>;
                        return (
                          <ul class="rows" aria-label="Devices">
                            {own.map((d) => (
                              <li key={d.id}>
                                <div><strong>{d.name}</strong> <small class="muted">{d.kind} · {d.id}{d.status === 'disabled' ? ' · disabled' : ''}</small></div>
                                <div>{sites.find((s) => s.id === d.meteringPointId)?.name}</div>
                                <DeviceStateBadge state={states.byId.get(d.id)} failed={!!states.error} fmt={fmt} />
                              </li>
                            ))}
                          </ul>
                        );
                      }}
                    </Async>
                  </section>
                  <section class="card" aria-labelledby="claim-heading">
                    <h2 id="claim-heading">Claim a device</h2>
                    <ClaimForm points={sites} onClaimed={() => devices.reload()} />
                  </section>
                  <section class="card" aria-labelledby="sites-heading">
                    <h2 id="sites-heading">Sites</h2>
                    {sites.length === 0
                      ? <Empty><p>No site yet. A site is the place with your electricity meter.</p></Empty>
                      : (
                        <ul class="rows" aria-label="Sites">
                          {sites.map((s) => (
                            <li key={s.id}>
                              <strong>{s.name}</strong>
                              <small class="muted">{s.gridConnectionId}{s.generationGridConnectionId ? ` · feed-in ${s.generationGridConnectionId}` : ''} · {s.role}{s.pvCapacityW ? ` · PV ${fmt.power(s.pvCapacityW)}p` : ''}</small>
                            </li>
                          ))}
                        </ul>
                      )}
                    {m.state === 'active' && <SiteForm communityId={m.communityId} memberId={m.id} onAdded={points.reload} />}
                  </section>
                </>
              );
            }}
          </Async>
        </Page>
      )}
    </Async>
  );
}

function SiteForm({ communityId, memberId, onAdded }: { communityId: string; memberId: string; onAdded: () => void }) {
  const action = useAction();
  const submit = (event: Event) => {
    action.submit(event, async (v) => {
      await post<MeteringPoint>(`/api/v1/communities/${communityId}/metering-points`, {
        memberId,
        name: v.name,
        gridConnectionId: v.gridConnectionId!.trim().toUpperCase(),
        role: v.role,
        ...(v.generationGridConnectionId?.trim() ? { generationGridConnectionId: v.generationGridConnectionId.trim().toUpperCase() } : {}),
        ...(v.pvCapacityW ? { pvCapacityW: Math.round(Number(v.pvCapacityW) * 1000) } : {}),
      });
      onAdded();
    });
  };
  return (
    <details>
      <summary>Add a site</summary>
      <form onSubmit={submit}>
        <Field id="site-name" label="Name"><input id="site-name" name="name" required maxLength={120} /></Field>
        <Field id="site-gc" label="Grid connection id" hint="The metering point number on your bill: an EAN or Zählpunkt">
          <input id="site-gc" name="gridConnectionId" required pattern="[A-Za-z0-9]{6,40}" aria-describedby="site-gc-hint" />
        </Field>
        <Field id="site-role" label="Role">
          <select id="site-role" name="role">
            <option value="consumer">Consumer</option>
            <option value="prosumer">Prosumer (consumes and produces)</option>
            <option value="producer">Producer</option>
          </select>
        </Field>
        <Field id="site-gen" label="Feed-in id (optional)" hint="Where the grid operator gives what you feed in its own number (Austria: the generation Zählpunkt)">
          <input id="site-gen" name="generationGridConnectionId" pattern="[A-Za-z0-9]{6,40}" aria-describedby="site-gen-hint" />
        </Field>
        <Field id="site-pv" label="PV peak power (kWp, optional)">
          <input id="site-pv" name="pvCapacityW" type="number" min="0" step="0.1" inputMode="decimal" />
        </Field>
        <ErrorNote error={action.error} />
        <button type="submit" disabled={action.busy}>Add site</button>
      </form>
    </details>
  );
}
