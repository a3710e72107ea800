import { useState } from 'preact/hooks';
import { ApiError, apiUrl, call, send } from '../../api/client.js';
import { type Community, DEVICE_KINDS, DEVICE_ROLES, type Device, type DeviceKind, type DeviceRole, type MeteringPoint } from '@gridshare/contract/registry';
import { BATCH_NAME_MAX, type Batch, type Rollback, type RotatedKey } from '@gridshare/contract/provisioning';
import type { AgentHealth, DeviceEvent, DeviceState } from '@gridshare/contract/ingest';
import { DeviceStateBadge, useDeviceStates } from '../../components/device-state.js';
import { Async, Badge, Empty, ErrorNote, Field } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { formValues, useAction, useApi } from '../../lib/hooks.js';
import type { MessageKey, Translate } from '../../lib/i18n/index.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { deviceKindName, deviceRoleName } from '../../lib/names.js';
import { readNdjson } from '../../lib/ndjson.js';
import { ManagePage } from './manage-page.js';

const PAGE = 50;

/** The offline threshold's range (the API's, registry migration 0202): a minute to 30 days. */
const OFFLINE_MINUTES = { min: 1, max: 43_200 } as const;

/**
 * How long a device may stay silent before its member (or, for a device on no member's site, the
 * managers) is told it is offline; empty: no one is told.
 */
function DeviceAlertSettings({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const action = useAction();
  const [saved, setSaved] = useState(false);
  const [current, setCurrent] = useState(community.deviceOfflineMinutes);
  const range = { min: fmt.count(OFFLINE_MINUTES.min), max: fmt.count(OFFLINE_MINUTES.max) };
  const submit = (event: Event) => {
    event.preventDefault();
    const text = String(new FormData(event.currentTarget as HTMLFormElement).get('deviceOfflineMinutes') ?? '').trim();
    const minutes = text === '' ? null : Number(text);
    setSaved(false);
    void action.run(async () => {
      if (minutes !== null && !(Number.isInteger(minutes) && minutes >= OFFLINE_MINUTES.min && minutes <= OFFLINE_MINUTES.max)) {
        throw new Error(t('deviceAlerts.range', { min: range.min, max: range.max }));
      }
      const updated = await call('updateCommunity', { params: { id: community.id }, body: { deviceOfflineMinutes: minutes } });
      setCurrent(updated.deviceOfflineMinutes);
      setSaved(true);
    });
  };
  return (
    <section class="card" aria-labelledby="device-alerts-heading">
      <h2 id="device-alerts-heading">{t('deviceAlerts.title')}</h2>
      <form class="inline-form" onSubmit={submit} noValidate>
        <Field id="device-offline-minutes" label={t('deviceAlerts.minutes')} hint={t('deviceAlerts.hint', { min: range.min, max: range.max })}>
          <input id="device-offline-minutes" name="deviceOfflineMinutes" type="number" inputMode="numeric" min={OFFLINE_MINUTES.min} max={OFFLINE_MINUTES.max} step={1}
            defaultValue={current === null ? '' : String(current)} aria-describedby="device-offline-minutes-hint" />
        </Field>
        <button type="submit" disabled={action.busy}>{t('deviceAlerts.save')}</button>
        <ErrorNote error={action.error} />
        {saved && <p role="status" class="ok">{t('deviceAlerts.saved')}</p>}
      </form>
    </section>
  );
}

export default function ManageDevices({ params }: { params: Record<string, string> }) {
  const communityId = params.communityId!;
  const batches = useApi('listBatches', { params: { id: communityId } });
  const devices = useApi('listDevices', { params: { id: communityId } });
  const points = useApi('listMeteringPoints', { params: { id: communityId } });
  const states = useDeviceStates(communityId);
  const { t } = useI18n();
  const reload = () => {
    batches.reload();
    devices.reload();
    states.reload();
  };
  return (
    <ManagePage communityId={communityId} title={t('nav.devices')}>
      {(community, fmt) => (
        <>
          <DeviceAlertSettings community={community} fmt={fmt} />
          <section class="card" aria-labelledby="provision-heading">
            <h2 id="provision-heading">{t('provision.title')}</h2>
            <ProvisionForm communityId={communityId} batches={batches.data ?? []} onDone={reload} />
          </section>
          <section class="card" aria-labelledby="batches-heading">
            <h2 id="batches-heading">{t('provision.batches')}</h2>
            <Async state={batches} what={t('thing.batches')}>
              {(list) => list.length === 0 ? <Empty><p>{t('provision.noBatch')}</p></Empty> : (
                <ul class="rows" aria-label={t('provision.batches')}>{list.map((b) => <BatchRow key={b.id} batch={b} fmt={fmt} onChanged={reload} />)}</ul>
              )}
            </Async>
          </section>
          <section class="card" aria-labelledby="devices-heading">
            <h2 id="devices-heading">{t('provision.allDevices')}</h2>
            <Async state={devices} what={t('thing.devices')}>
              {(list) => <DeviceTable devices={list} points={points.data ?? []} states={states} fmt={fmt} onChanged={devices.reload} />}
            </Async>
          </section>
          <DeviceEvents communityId={communityId} fmt={fmt} />
          <AgentHealthList communityId={communityId} fmt={fmt} />
        </>
      )}
    </ManagePage>
  );
}

/** Takeovers of a device's session (a clone has the same key) and refused reconnect storms. */
function DeviceEvents({ communityId, fmt }: { communityId: string; fmt: Formatter }) {
  const events = useApi('deviceEvents', { params: { id: communityId }, query: { limit: 20 } }, { refreshMs: 60_000 });
  const { t } = useI18n();
  const address = (value: string | null) => value ?? t('deviceEvents.unknownAddress');
  const describe = (e: DeviceEvent) => e.kind === 'session-takeover'
    ? t('deviceEvents.takeover', { address: address(e.address), previousAddress: address(e.previousAddress) })
    : t('deviceEvents.reconnectsLimited', { address: address(e.address) });
  return (
    <section class="card" aria-labelledby="device-events-heading">
      <h2 id="device-events-heading">{t('deviceEvents.title')}</h2>
      <Async state={events} what={t('thing.connectionEvents')}>
        {(list) => list.length === 0 ? <Empty><p>{t('deviceEvents.none')}</p></Empty> : (
          <ul class="rows" aria-label={t('deviceEvents.title')}>
            {list.map((e) => (
              <li key={e.id}>
                <div>
                  {e.kind === 'session-takeover'
                    ? <Badge tone="warn">{t('deviceEvents.takeoverBadge')}</Badge>
                    : <Badge tone="bad">{t('deviceEvents.reconnectsLimitedBadge')}</Badge>}{' '}
                  <strong>{e.deviceId}</strong> <small class="muted">{fmt.dateTime(e.at)}</small>
                </div>
                <p class="muted">{describe(e)}</p>
              </li>
            ))}
          </ul>
        )}
      </Async>
    </section>
  );
}

const TRANSPORTS: Record<AgentHealth['transport'], MessageKey> = {
  mqtt: 'agentHealth.transport.mqtt', http: 'agentHealth.transport.http', offline: 'agentHealth.transport.offline',
};

/** The last heartbeat of each device that runs gridshare agent: a dead reader, a dead meter, a loose cable or a blocked uplink. */
function AgentHealthList({ communityId, fmt }: { communityId: string; fmt: Formatter }) {
  const health = useApi('agentHealth', { params: { id: communityId } }, { refreshMs: 60_000 });
  const { t } = useI18n();
  return (
    <section class="card" aria-labelledby="agent-health-heading">
      <h2 id="agent-health-heading">{t('agentHealth.title')}</h2>
      <Async state={health} what={t('thing.agentHealth')}>
        {(list) => list.length === 0 ? <Empty><p>{t('agentHealth.none')}</p></Empty> : (
          <table class="agents">
            <thead>
              <tr>
                <th scope="col">{t('agentHealth.device')}</th>
                <th scope="col">{t('agentHealth.version')}</th>
                <th scope="col">{t('agentHealth.heardFrom')}</th>
                <th scope="col">{t('agentHealth.uptime')}</th>
                <th scope="col">{t('agentHealth.uplink')}</th>
                <th scope="col">{t('agentHealth.queue')}</th>
                <th scope="col">{t('agentHealth.lastFrame')}</th>
                <th scope="col">{t('agentHealth.framesPerMinute')}</th>
                <th scope="col">{t('agentHealth.checksumErrors')}</th>
              </tr>
            </thead>
            <tbody>
              {list.map((h) => (
                <tr key={h.deviceId}>
                  <th scope="row">{h.deviceId}{h.controlMode === 'safe' && <> <Badge tone="warn">{t('agentHealth.safeMode')}</Badge></>}</th>
                  <td>{h.version}</td>
                  <td>{fmt.ago(h.receivedAt)}</td>
                  <td>{t('agentHealth.uptimeValue', { hours: fmt.count(Math.floor(h.uptimeSeconds / 3_600)) })}</td>
                  <td>{h.transport === 'mqtt' ? t(TRANSPORTS[h.transport]) : <Badge tone="warn">{t(TRANSPORTS[h.transport])}</Badge>}</td>
                  <td>{t('agentHealth.queueValue', { readings: fmt.count(h.queueReadings), messages: fmt.count(h.queueMessages) })}</td>
                  <td>{h.lastFrameAt === null ? t('agentHealth.noFrame') : fmt.ago(h.lastFrameAt)}</td>
                  <td>{fmt.count(h.framesPerMinute)}</td>
                  <td>{h.checksumErrors > 0 ? <Badge tone="warn">{fmt.count(h.checksumErrors)}</Badge> : fmt.count(h.checksumErrors)}</td>
                </tr>
              ))}
            </tbody>
          </table>
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

/** The steps the server reports while it provisions (server/src/provisioning/service.ts Progress); another shows as sent. */
const PHASES: Partial<Record<string, MessageKey>> = { keys: 'provision.phaseKeys', artefacts: 'provision.phaseArtefacts', database: 'provision.phaseDatabase' };
const phaseName = (phase: string, t: Translate) => {
  const key = PHASES[phase];
  return key ? t(key) : phase;
};

/** `batches`: the community's batches as last read; the download offer goes once its batch is rolled back. */
function ProvisionForm({ communityId, batches, onDone }: { communityId: string; batches: readonly Batch[]; onDone: () => void }) {
  const action = useAction();
  const [progress, setProgress] = useState<Progress | undefined>(undefined);
  const [created, setCreated] = useState<Batch | undefined>(undefined);
  const { t, language } = useI18n();
  const submit = (event: Event) => {
    const nameInput = (event.currentTarget as HTMLFormElement).elements.namedItem('name') as HTMLInputElement;
    const v = formValues(event);
    setCreated(undefined);
    setProgress(undefined);
    void action.run(async () => {
      // The server streams one JSON line per step and the batch (or the error) last.
      const name = v.name?.trim();
      const response = await send('provisionBatch', { params: { id: communityId }, body: { count: Number(v.count), kind: v.kind as DeviceKind, ...(name ? { name } : {}) } }, {
        headers: { accept: 'application/x-ndjson' },
      });
      let outcome: { batch?: Batch; error?: string; message?: string } = {};
      await readNdjson(response.body!, (line) => {
        const value = line as { progress?: Progress; batch?: Batch; error?: string; message?: string };
        if (value.progress) setProgress(value.progress);
        else outcome = value;
      });
      if (!outcome.batch) throw new ApiError(500, outcome.error ?? 'internal', outcome.message ?? t('provision.noOutcome'));
      setCreated(outcome.batch);
      // The next batch gets a name of its own (or its number); count and kind stay for another like it.
      nameInput.value = '';
      onDone();
    });
  };
  return (
    <form onSubmit={submit} class="inline-form">
      <Field id="batch-name" label={t('provision.name')} hint={t('provision.nameHint')}>
        <input id="batch-name" name="name" type="text" maxLength={BATCH_NAME_MAX} aria-describedby="batch-name-hint" />
      </Field>
      <Field id="batch-count" label={t('provision.count')}><input id="batch-count" name="count" type="number" min="1" max="10000" defaultValue="10" required inputMode="numeric" /></Field>
      <Field id="batch-kind" label={t('provision.kind')}>
        <select id="batch-kind" name="kind">{DEVICE_KINDS.map((k) => <option value={k}>{deviceKindName(k, t)}</option>)}</select>
      </Field>
      <button type="submit" disabled={action.busy}>{action.busy ? t('provision.provisioning') : t('provision.submit')}</button>
      {progress && action.busy && (
        <div class="progress">
          <label for="batch-progress">
            {t('provision.progress', { phase: phaseName(progress.phase, t), done: progress.done, total: progress.total })}
          </label>
          <progress id="batch-progress" max={progress.total} value={progress.done} />
        </div>
      )}
      <ErrorNote error={action.error} />
      {created && batches.find((b) => b.id === created.id)?.status !== 'rolled-back' && (
        <p role="status" class="ok">
          {t.rich('provision.done', {
            count: created.size,
            name: created.name,
            a: (chunks) => <a href={apiUrl('batchArtefacts', { params: { id: created.id } })} download>{chunks}</a>,
            sheet: (chunks) => <a href={apiUrl('batchStickers', { params: { id: created.id }, query: { lang: language } })} download>{chunks}</a>,
          })}
        </p>
      )}
    </form>
  );
}

function BatchRow({ batch, fmt, onChanged }: { batch: Batch; fmt: Formatter; onChanged: () => void }) {
  const action = useAction();
  const [result, setResult] = useState<Rollback | undefined>(undefined);
  const [force, setForce] = useState(false);
  const [renaming, setRenaming] = useState(false);
  const { t, language } = useI18n();
  const rollback = () => {
    if (!window.confirm(t('provision.confirmRollback', { count: batch.size }))) return;
    void action.run(async () => {
      setResult(await call('rollbackBatch', { params: { id: batch.id }, body: { force } }));
      onChanged();
    });
  };
  const rename = (event: Event) => {
    const { name } = formValues(event);
    void action.run(async () => {
      await call('renameBatch', { params: { id: batch.id }, body: { name: name ?? '' } });
      setRenaming(false);
      onChanged();
    });
  };
  const nameId = `batch-name-${batch.id}`;
  return (
    <li data-batch-id={batch.id}>
      <div>
        <strong>{batch.name}</strong> · {batch.size} × {deviceKindName(batch.kind, t)} <small class="muted">{fmt.dateTime(batch.createdAt)} · {batch.id}</small>{' '}
        {batch.status === 'active' ? <Badge tone="good">{t('provision.active')}</Badge> : <Badge tone="neutral">{t('provision.rolledBack')}</Badge>}
      </div>
      {renaming ? (
        <form class="inline-form" onSubmit={rename}>
          <Field id={nameId} label={t('provision.newName', { batch: batch.name })}>
            <input id={nameId} name="name" type="text" required maxLength={BATCH_NAME_MAX} defaultValue={batch.name} />
          </Field>
          <button type="submit" disabled={action.busy}>{t('provision.saveName')}</button>
          <button type="button" class="secondary" onClick={() => setRenaming(false)}>{t('provision.cancel')}</button>
        </form>
      ) : (
        <div class="row-actions">
          <button type="button" class="secondary" onClick={() => setRenaming(true)}>
            {t('provision.rename')}<span class="sr-only"> {batch.name}</span>
          </button>
          {batch.status === 'active' && (
            <>
              <a class="button secondary" href={apiUrl('batchArtefacts', { params: { id: batch.id } })} download>
                {t('provision.downloadZip')}<span class="sr-only"> {t('provision.ofBatch', { batch: batch.name })}</span>
              </a>
              <a class="button secondary" href={apiUrl('batchStickers', { params: { id: batch.id }, query: { lang: language } })} download>
                {t('provision.downloadStickers')}<span class="sr-only"> {t('provision.ofBatch', { batch: batch.name })}</span>
              </a>
              <label class="inline"><input type="checkbox" checked={force} onChange={(e) => setForce(e.currentTarget.checked)} /> {t('provision.force')}</label>
              <button type="button" class="danger" disabled={action.busy} onClick={rollback}>
                {t('provision.rollBack')}<span class="sr-only"> {batch.name}</span>
              </button>
            </>
          )}
        </div>
      )}
      <ErrorNote error={action.error} />
      {result && (
        <p role="status">
          {t('provision.removed', { count: result.removed.length })}
          {result.kept.length > 0 && ` ${t('provision.kept', { devices: result.kept.map((k) => t('provision.keptDevice', { id: k.deviceId, reason: k.reason })).join(', ') })}`}
        </p>
      )}
    </li>
  );
}

type States = ReturnType<typeof useDeviceStates>;

function DeviceTable({ devices, points, states, fmt, onChanged }: { devices: Device[]; points: MeteringPoint[]; states: States; fmt: Formatter; onChanged: () => void }) {
  const [shown, setShown] = useState(PAGE);
  const { t } = useI18n();
  const pointName = new Map(points.map((p) => [p.id, p.name]));
  if (devices.length === 0) return <Empty><p>{t('provision.noDevices')}</p></Empty>;
  return (
    <>
      <div class="table-scroll">
        <table class="devices">
          <caption class="sr-only">{t('provision.devicesCaption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('provision.device')}</th><th scope="col">{t('claim.site')}</th><th scope="col">{t('members.state')}</th><th scope="col">{t('provision.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {devices.slice(0, shown).map((d) => (
              <DeviceRow key={d.id} device={d} site={d.meteringPointId ? pointName.get(d.meteringPointId) : undefined}
                state={states.byId.get(d.id)} statesFailed={!!states.error} fmt={fmt} onChanged={onChanged} />
            ))}
          </tbody>
        </table>
      </div>
      {shown < devices.length && (
        <button type="button" class="secondary" onClick={() => setShown(shown + PAGE)}>{t('provision.showMore', { count: devices.length - shown })}</button>
      )}
    </>
  );
}

function DeviceRow({ device, site, state, statesFailed, fmt, onChanged }: {
  device: Device; site: string | undefined; state: DeviceState | undefined; statesFailed: boolean; fmt: Formatter; onChanged: () => void;
}) {
  const action = useAction();
  const [rotated, setRotated] = useState<RotatedKey | undefined>(undefined);
  const { t } = useI18n();
  const toggle = () =>
    void action.run(async () => {
      await call('updateDevice', { params: { id: device.id }, body: { status: device.status === 'active' ? 'disabled' : 'active' } });
      onChanged();
    });
  // A second billing meter on a site is refused by the API, with the device the site has.
  const changeRole = (role: DeviceRole) =>
    void action.run(async () => {
      await call('updateDevice', { params: { id: device.id }, body: { role } });
      onChanged();
    });
  const rotate = (slot: 'primary' | 'secondary') => {
    if (!window.confirm(t('provision.confirmRotate', { slot, device: device.id }))) return;
    void action.run(async () => setRotated(await call('rotateKey', { params: { id: device.id, slot } })));
  };
  return (
    <tr data-device-id={device.id}>
      <th scope="row">
        {device.name}<br /><small class="muted">{device.id} · {deviceKindName(device.kind, t)}</small>
      </th>
      <td>
        {site ?? <span class="muted">{t('provision.notBound')}</span>}
        {site && device.role && (
          <div>
            <label class="sr-only" for={`role-${device.id}`}>{t('deviceRole.labelOf', { device: device.id })}</label>
            <select id={`role-${device.id}`} value={device.role} disabled={action.busy} onChange={(e) => changeRole(e.currentTarget.value as DeviceRole)}>
              {DEVICE_ROLES.map((r) => <option value={r}>{deviceRoleName(r, t)}</option>)}
            </select>
          </div>
        )}
      </td>
      <td>{device.status === 'disabled' ? <Badge tone="bad">{t('device.disabled')}</Badge> : <DeviceStateBadge state={state} failed={statesFailed} fmt={fmt} />}</td>
      <td>
      <div class="row-actions">
        <button type="button" class="secondary" disabled={action.busy} onClick={toggle}>
          {device.status === 'active' ? t('provision.disable') : t('provision.enable')}<span class="sr-only"> {device.id}</span>
        </button>
        <button type="button" class="secondary" disabled={action.busy} onClick={() => rotate('primary')}>
          {t('provision.rotatePrimary')}<span class="sr-only"> {t('provision.keyOf', { device: device.id })}</span>
        </button>
        <button type="button" class="secondary" disabled={action.busy} onClick={() => rotate('secondary')}>
          {t('provision.rotateSecondary')}<span class="sr-only"> {t('provision.keyOf', { device: device.id })}</span>
        </button>
      </div>
      <ErrorNote error={action.error} />
      {rotated && (
        <div role="status" class="secret">
          <p>{t('provision.newConnectionString', { slot: rotated.slot })}</p>
          <output><code>{rotated.connectionString}</code></output>
        </div>
      )}
      </td>
    </tr>
  );
}
