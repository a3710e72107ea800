import { useState } from 'preact/hooks';
import { ApiError, patch, post, send } from '../../api/client.js';
import { DEVICE_KINDS, type Batch, type Device, type DeviceEvent, type DeviceState, type MeteringPoint, type Rollback, type RotatedKey } from '../../api/types.js';
import { DeviceStateBadge, useDeviceStates } from '../../components/device-state.js';
import { Async, Badge, Empty, ErrorNote, Field } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { formValues, useAction, useApi } from '../../lib/hooks.js';
import { readNdjson } from '../../lib/ndjson.js';
import { ManagePage } from './manage-page.js';

const PAGE = 50;

export default function ManageDevices({ params }: { params: Record<string, string> }) {
  const communityId = params.communityId!;
  const batches = useApi<Batch[]>(`/api/v1/communities/${communityId}/device-batches`);
  const devices = useApi<Device[]>(`/api/v1/communities/${communityId}/devices`);
  const points = useApi<MeteringPoint[]>(`/api/v1/communities/${communityId}/metering-points`);
  const states = useDeviceStates(communityId);
  const reload = () => {
    batches.reload();
    devices.reload();
    states.reload();
  };
  return (
    <ManagePage communityId={communityId} title="Devices">
      {(_, fmt) => (
        <>
          <section class="card" aria-labelledby="provision-heading">
            <h2 id="provision-heading">Provision a batch</h2>
            <ProvisionForm communityId={communityId} onDone={reload} />
          </section>
          <section class="card" aria-labelledby="batches-heading">
            <h2 id="batches-heading">Batches</h2>
            <Async state={batches} what="batches">
              {(list) => list.length === 0 ? <Empty><p>No batch provisioned yet.</p></Empty> : (
                <ul class="rows" aria-label="Batches">{list.map((b) => <BatchRow key={b.id} batch={b} fmt={fmt} onChanged={reload} />)}</ul>
              )}
            </Async>
          </section>
          <section class="card" aria-labelledby="devices-heading">
            <h2 id="devices-heading">All devices</h2>
            <Async state={devices} what="devices">
              {(list) => <DeviceTable devices={list} points={points.data ?? []} states={states} fmt={fmt} onChanged={devices.reload} />}
            </Async>
          </section>
          <DeviceEvents communityId={communityId} fmt={fmt} />
        </>
      )}
    </ManagePage>
  );
}

/** Takeovers of a device's session (a clone has the same key) and refused reconnect storms. */
function DeviceEvents({ communityId, fmt }: { communityId: string; fmt: Formatter }) {
  const events = useApi<DeviceEvent[]>(`/api/v1/communities/${communityId}/device-events?limit=20`, { refreshMs: 60_000 });
  const describe = (e: DeviceEvent) => e.kind === 'session-takeover'
    ? `a second connection from ${e.address ?? 'an unknown address'} took over the session of ${e.previousAddress ?? 'an unknown address'}: possibly a cloned device, or one that reconnected before its old connection timed out`
    : `connections from ${e.address ?? 'an unknown address'} refused: it reconnects too often`;
  return (
    <section class="card" aria-labelledby="device-events-heading">
      <h2 id="device-events-heading">Connection events</h2>
      <Async state={events} what="connection events">
        {(list) => list.length === 0 ? <Empty><p>No device had its session taken over or reconnected too often.</p></Empty> : (
          <ul class="rows" aria-label="Connection events">
            {list.map((e) => (
              <li key={e.id}>
                <div><Badge tone={e.kind === 'session-takeover' ? 'warn' : 'bad'}>{e.kind === 'session-takeover' ? 'session taken over' : 'reconnects refused'}</Badge> <strong>{e.deviceId}</strong> <small class="muted">{fmt.dateTime(e.at)}</small></div>
                <p class="muted">{describe(e)}</p>
              </li>
            ))}
          </ul>
        )}
      </Async>
    </section>
  );
}

interface Progress {
  phase: string;
  done: number;
  total: number;
}

function ProvisionForm({ communityId, onDone }: { communityId: string; onDone: () => void }) {
  const action = useAction();
  const [progress, setProgress] = useState<Progress | undefined>(undefined);
  const [created, setCreated] = useState<Batch | undefined>(undefined);
  const submit = (event: Event) => {
    const v = formValues(event);
    setCreated(undefined);
    setProgress(undefined);
    void action.run(async () => {
      // The server streams one JSON line per step and the batch (or the error) last.
      const response = await send('POST', `/api/v1/communities/${communityId}/device-batches`, {
        body: { count: Number(v.count), kind: v.kind },
        headers: { accept: 'application/x-ndjson' },
      });
      let outcome: { batch?: Batch; error?: string; message?: string } = {};
      await readNdjson(response.body!, (line) => {
        const value = line as { progress?: Progress; batch?: Batch; error?: string; message?: string };
        if (value.progress) setProgress(value.progress);
        else outcome = value;
      });
      if (!outcome.batch) throw new ApiError(500, outcome.error ?? 'internal', outcome.message ?? 'Provisioning ended without a batch.');
      setCreated(outcome.batch);
      onDone();
    });
  };
  return (
    <form onSubmit={submit} class="inline-form">
      <Field id="batch-count" label="Number of devices"><input id="batch-count" name="count" type="number" min="1" max="10000" defaultValue="10" required inputMode="numeric" /></Field>
      <Field id="batch-kind" label="Kind">
        <select id="batch-kind" name="kind">{DEVICE_KINDS.map((k) => <option value={k}>{k}</option>)}</select>
      </Field>
      <button type="submit" disabled={action.busy}>{action.busy ? 'Provisioning…' : 'Provision'}</button>
      {progress && action.busy && (
        <div class="progress">
          <label for="batch-progress">{progress.phase}: {progress.done} of {progress.total}</label>
          <progress id="batch-progress" max={progress.total} value={progress.done} />
        </div>
      )}
      <ErrorNote error={action.error} />
      {created && (
        <p role="status" class="ok">
          Provisioned {created.size} devices.{' '}
          <a href={`/api/v1/device-batches/${created.id}/artefacts.zip`} download>Download the ZIP</a> (config files, QR stickers, manifest).
        </p>
      )}
    </form>
  );
}

function BatchRow({ batch, fmt, onChanged }: { batch: Batch; fmt: Formatter; onChanged: () => void }) {
  const action = useAction();
  const [result, setResult] = useState<Rollback | undefined>(undefined);
  const [force, setForce] = useState(false);
  const rollback = () => {
    if (!window.confirm(`Remove the ${batch.size} devices of this batch with their keys and artefacts?`)) return;
    void action.run(async () => {
      setResult(await post<Rollback>(`/api/v1/device-batches/${batch.id}/rollback`, { force }));
      onChanged();
    });
  };
  const label = `batch of ${fmt.dateTime(batch.createdAt)}`;
  return (
    <li>
      <div>
        <strong>{batch.size} × {batch.kind}</strong> <small class="muted">{fmt.dateTime(batch.createdAt)} · {batch.id}</small>{' '}
        {batch.status === 'active' ? <Badge tone="good">active</Badge> : <Badge tone="neutral">rolled back</Badge>}
      </div>
      {batch.status === 'active' && (
        <div class="row-actions">
          <a class="button secondary" href={`/api/v1/device-batches/${batch.id}/artefacts.zip`} download>Download ZIP<span class="sr-only"> of the {label}</span></a>
          <label class="inline"><input type="checkbox" checked={force} onChange={(e) => setForce(e.currentTarget.checked)} /> also claimed devices and those with readings</label>
          <button type="button" class="danger" disabled={action.busy} onClick={rollback}>Roll back<span class="sr-only"> the {label}</span></button>
        </div>
      )}
      <ErrorNote error={action.error} />
      {result && (
        <p role="status">
          Removed {result.removed.length} device{result.removed.length === 1 ? '' : 's'}.
          {result.kept.length > 0 && ` Kept ${result.kept.map((k) => `${k.deviceId} (${k.reason})`).join(', ')}.`}
        </p>
      )}
    </li>
  );
}

type States = ReturnType<typeof useDeviceStates>;

function DeviceTable({ devices, points, states, fmt, onChanged }: { devices: Device[]; points: MeteringPoint[]; states: States; fmt: Formatter; onChanged: () => void }) {
  const [shown, setShown] = useState(PAGE);
  const pointName = new Map(points.map((p) => [p.id, p.name]));
  if (devices.length === 0) return <Empty><p>No devices yet. Provision a batch above.</p></Empty>;
  return (
    <>
      <div class="table-scroll">
        <table class="devices">
          <caption class="sr-only">Devices of the community</caption>
          <thead><tr><th scope="col">Device</th><th scope="col">Site</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {devices.slice(0, shown).map((d) => (
              <DeviceRow key={d.id} device={d} site={d.meteringPointId ? pointName.get(d.meteringPointId) : undefined}
                state={states.byId.get(d.id)} statesFailed={!!states.error} fmt={fmt} onChanged={onChanged} />
            ))}
          </tbody>
        </table>
      </div>
      {shown < devices.length && (
        <button type="button" class="secondary" onClick={() => setShown(shown + PAGE)}>Show more ({devices.length - shown} left)</button>
      )}
    </>
  );
}

function DeviceRow({ device, site, state, statesFailed, fmt, onChanged }: {
  device: Device; site: string | undefined; state: DeviceState | undefined; statesFailed: boolean; fmt: Formatter; onChanged: () => void;
}) {
  const action = useAction();
  const [rotated, setRotated] = useState<RotatedKey | undefined>(undefined);
  const toggle = () =>
    void action.run(async () => {
      await patch<Device>(`/api/v1/devices/${encodeURIComponent(device.id)}`, { status: device.status === 'active' ? 'disabled' : 'active' });
      onChanged();
    });
  const rotate = (slot: 'primary' | 'secondary') => {
    if (!window.confirm(`Replace the ${slot} key of ${device.id}? The device must get the new connection string.`)) return;
    void action.run(async () => setRotated(await post<RotatedKey>(`/api/v1/devices/${encodeURIComponent(device.id)}/keys/${slot}/rotate`)));
  };
  return (
    <tr data-device-id={device.id}>
      <th scope="row">
        {device.name}<br /><small class="muted">{device.id} · {device.kind}</small>
      </th>
      <td>{site ?? <span class="muted">not bound</span>}</td>
      <td>{device.status === 'disabled' ? <Badge tone="bad">disabled</Badge> : <DeviceStateBadge state={state} failed={statesFailed} fmt={fmt} />}</td>
      <td>
      <div class="row-actions">
        <button type="button" class="secondary" disabled={action.busy} onClick={toggle}>
          {device.status === 'active' ? 'Disable' : 'Enable'}<span class="sr-only"> {device.id}</span>
        </button>
        <button type="button" class="secondary" disabled={action.busy} onClick={() => rotate('primary')}>Rotate primary<span class="sr-only"> key of {device.id}</span></button>
        <button type="button" class="secondary" disabled={action.busy} onClick={() => rotate('secondary')}>Rotate secondary<span class="sr-only"> key of {device.id}</span></button>
      </div>
      <ErrorNote error={action.error} />
      {rotated && (
        <div role="status" class="secret">
          <p>New {rotated.slot} connection string (the other key keeps working until the device is updated):</p>
          <output><code>{rotated.connectionString}</code></output>
        </div>
      )}
      </td>
    </tr>
  );
}
