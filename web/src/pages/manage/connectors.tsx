import { useState } from 'preact/hooks';
import { call } from '../../api/client.js';
import type { Connector, ConnectorBinding, ConnectorKind, ConnectorRun, ConnectorTestResult } from '@gridshare/contract/connectors';
import type { Device } from '@gridshare/contract/registry';
import { Async, Badge, Empty, ErrorNote, Field } from '../../components/ui.js';
import { SchemaFields } from '../../components/schema-form.js';
import { NO_VALUE, type Formatter } from '../../lib/format.js';
import { useAction, useApi } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { initialValue, type JsonSchema } from '../../lib/schema-form.js';
import { ManagePage } from './manage-page.js';

/** The generated configuration fields' ids start so. */
const CONFIG_FIELDS = 'config';

/** The manager's connectors: their status, a form per kind generated from its schema, a dry run, recent runs and errors. */
export default function ManageConnectors({ params }: { params: Record<string, string> }) {
  const communityId = params.communityId!;
  const connectors = useApi('listConnectors', { params: { id: communityId } }, { refreshMs: 30_000 });
  const kinds = useApi('connectorKinds', {});
  const devices = useApi('listDevices', { params: { id: communityId } });
  const [editing, setEditing] = useState<Connector | 'new' | undefined>(undefined);
  const { t } = useI18n();
  return (
    <ManagePage communityId={communityId} title={t('connectors.title')}>
      {(_, fmt) => (
        <>
          <section class="card" aria-labelledby="connectors-heading">
            <h2 id="connectors-heading">{t('connectors.title')}</h2>
            <p class="muted">{t('connectors.intro')}</p>
            <Async state={connectors} what={t('thing.connectors')}>
              {(list) => list.length === 0 ? <Empty><p>{t('connectors.none')}</p></Empty> : (
                <ul class="rows" aria-label={t('connectors.title')}>
                  {list.map((c) => <ConnectorRow key={c.id} connector={c} fmt={fmt} onEdit={() => setEditing(c)} onChanged={connectors.reload} />)}
                </ul>
              )}
            </Async>
            {editing === undefined && <button type="button" onClick={() => setEditing('new')}>{t('connectors.add')}</button>}
          </section>
          {editing !== undefined && (
            <Async state={kinds} what={t('thing.connectorKinds')}>
              {(kindList) => (
                <ConnectorForm key={editing === 'new' ? 'new' : editing.id} communityId={communityId} kinds={kindList} devices={devices.data ?? []}
                  connector={editing === 'new' ? undefined : editing} fmt={fmt}
                  onDone={() => { setEditing(undefined); connectors.reload(); }} />
              )}
            </Async>
          )}
        </>
      )}
    </ManagePage>
  );
}

function StatusBadge({ connector }: { connector: Connector }) {
  const { t } = useI18n();
  if (!connector.enabled) return <Badge tone="neutral">{t('connectors.disabled')}</Badge>;
  switch (connector.status.lastOutcome) {
    case 'ok': return <Badge tone="good">{t('connectors.ok')}</Badge>;
    case 'partial': return <Badge tone="warn">{t('connectors.partial')}</Badge>;
    case 'failed': return <Badge tone="bad">{t('connectors.failed')}</Badge>;
    default: return <Badge tone="neutral">{t('connectors.notRunYet')}</Badge>;
  }
}

function ConnectorRow({ connector: c, fmt, onEdit, onChanged }: { connector: Connector; fmt: Formatter; onEdit: () => void; onChanged: () => void }) {
  const action = useAction();
  const [showRuns, setShowRuns] = useState(false);
  const { t } = useI18n();
  const when = (iso: string | null) => (iso === null ? NO_VALUE : fmt.dateTime(iso));
  const act = (work: () => Promise<unknown>) => void action.run(async () => {
    await work();
    onChanged();
  });
  return (
    <li data-testid="connector-row">
      <div>
        <StatusBadge connector={c} /> <strong>{c.name}</strong> <small class="muted">{c.kind}</small>
        <p class="muted">
          {t('connectors.statusLine', {
            lastRun: when(c.status.lastRunAt), lastSuccess: when(c.status.lastSuccessAt), readings: fmt.count(c.status.readingsStored), nextRun: when(c.status.nextRunAt),
          })}
        </p>
        {c.status.lastError && (
          <p class="error-text" data-testid="connector-error">
            {t('connectors.lastError', { code: c.status.lastError.code, message: c.status.lastError.message, count: c.status.failuresInRow })}
          </p>
        )}
      </div>
      <div class="actions">
        <button type="button" class="secondary" onClick={onEdit}>{t('connectors.edit')}</button>
        {c.enabled && <button type="button" class="secondary" disabled={action.busy} onClick={() => act(() => call('runConnectorNow', { params: { id: c.id } }))}>{t('connectors.runNow')}</button>}
        <button type="button" class="secondary" disabled={action.busy} onClick={() => act(() => call('updateConnector', { params: { id: c.id }, body: { enabled: !c.enabled } }))}>
          {c.enabled ? t('connectors.disable') : t('connectors.enable')}
        </button>
        <button type="button" class="secondary" aria-expanded={showRuns} onClick={() => setShowRuns(!showRuns)}>{t('connectors.recentRuns')}</button>
        <button type="button" class="secondary" disabled={action.busy} onClick={() => {
          if (confirm(t('connectors.confirmDelete', { name: c.name }))) act(() => call('deleteConnector', { params: { id: c.id } }));
        }}>{t('connectors.delete')}</button>
        <ErrorNote error={action.error} />
      </div>
      {showRuns && <Runs connectorId={c.id} fmt={fmt} />}
    </li>
  );
}

function Runs({ connectorId, fmt }: { connectorId: string; fmt: Formatter }) {
  const runs = useApi('connectorRuns', { params: { id: connectorId } });
  const { t } = useI18n();
  const describe = (run: ConnectorRun) => run.error
    ? `${run.error.code}: ${run.error.message}`
    : t('connectors.runStored', { count: run.readingsStored, problems: run.problems.length });
  return (
    <Async state={runs} what={t('thing.connectorRuns')}>
      {(list) => list.length === 0 ? <p class="muted">{t('connectors.noRuns')}</p> : (
        <ul aria-label={t('connectors.recentRuns')}>
          {list.map((run, i) => (
            <li key={i}>
              <small class="muted">{fmt.dateTime(run.startedAt)}</small> {describe(run)}
              {run.problems.length > 0 && <ul>{run.problems.slice(0, 5).map((p, j) => <li key={j}><small>{p.where}: {p.message}</small></li>)}</ul>}
            </li>
          ))}
        </ul>
      )}
    </Async>
  );
}

function ConnectorForm({ communityId, kinds, devices, connector, fmt, onDone }: {
  communityId: string; kinds: ConnectorKind[]; devices: Device[]; connector: Connector | undefined; fmt: Formatter; onDone: () => void;
}) {
  const { t } = useI18n();
  const [kindName, setKindName] = useState(connector?.kind ?? kinds[0]?.name ?? '');
  const kind = kinds.find((k) => k.name === kindName);
  const schema = (kind?.configSchema ?? {}) as JsonSchema;
  const [config, setConfig] = useState<unknown>(connector?.config ?? initialValue(schema) ?? {});
  const [name, setName] = useState(connector?.name ?? '');
  const [intervalS, setIntervalS] = useState(String(connector?.intervalS ?? 300));
  const [jitterS, setJitterS] = useState(String(connector?.jitterS ?? 0));
  const [timeoutMs, setTimeoutMs] = useState(connector?.timeoutMs === null || connector === undefined ? '' : String(connector.timeoutMs));
  const [bindings, setBindings] = useState<ConnectorBinding[]>(connector?.bindings ?? []);
  const [tested, setTested] = useState<ConnectorTestResult | undefined>(undefined);
  const test = useAction();
  const save = useAction();
  const chooseKind = (next: string) => {
    setKindName(next);
    setConfig(initialValue((kinds.find((k) => k.name === next)?.configSchema ?? {}) as JsonSchema) ?? {});
    setTested(undefined);
  };
  const runTest = () => {
    setTested(undefined);
    void test.run(async () => setTested(await call('testConnectorConfig', {
      params: { id: communityId }, body: { kind: kindName, config, ...(connector ? { connectorId: connector.id } : {}) },
    })));
  };
  const submit = (event: Event) => {
    event.preventDefault();
    const schedule = { intervalS: Number(intervalS), jitterS: Number(jitterS), timeoutMs: timeoutMs === '' ? null : Number(timeoutMs) };
    void save.run(async () => {
      if (connector) await call('updateConnector', { params: { id: connector.id }, body: { name, config, bindings, ...schedule } });
      else await call('createConnector', { params: { id: communityId }, body: { kind: kindName, name, config, bindings, ...schedule } });
      onDone();
    });
  };
  const setBinding = (index: number, binding: ConnectorBinding) => setBindings(bindings.map((b, i) => (i === index ? binding : b)));
  return (
    <section class="card" aria-labelledby="connector-form-heading">
      <h2 id="connector-form-heading">{connector ? t('connectors.editTitle', { name: connector.name }) : t('connectors.addTitle')}</h2>
      <form onSubmit={submit}>
        <Field id="connector-kind" label={t('connectors.kind')} hint={kind?.summary}>
          <select id="connector-kind" value={kindName} disabled={connector !== undefined} onChange={(e) => chooseKind(e.currentTarget.value)} aria-describedby="connector-kind-hint">
            {kinds.map((k) => <option key={k.name} value={k.name}>{k.name}</option>)}
          </select>
        </Field>
        <Field id="connector-name" label={t('connectors.name')}>
          <input id="connector-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={120} />
        </Field>
        <div class="inline-form">
          <Field id="connector-interval" label={t('connectors.intervalS')}>
            <input id="connector-interval" type="number" min="10" max="86400" step="1" required value={intervalS} onInput={(e) => setIntervalS(e.currentTarget.value)} />
          </Field>
          <Field id="connector-jitter" label={t('connectors.jitterS')}>
            <input id="connector-jitter" type="number" min="0" max="86400" step="1" required value={jitterS} onInput={(e) => setJitterS(e.currentTarget.value)} />
          </Field>
          <Field id="connector-timeout" label={t('connectors.timeoutMs')} hint={kind ? t('connectors.timeoutDefault', { ms: fmt.count(kind.defaultTimeoutMs) }) : undefined}>
            <input id="connector-timeout" type="number" min="1000" max="600000" step="1" value={timeoutMs} onInput={(e) => setTimeoutMs(e.currentTarget.value)} aria-describedby="connector-timeout-hint" />
          </Field>
        </div>
        <fieldset>
          <legend>{t('connectors.configuration')}</legend>
          <SchemaFields key={kindName} schema={schema} root={config} onChange={setConfig} secretsSet={connector?.secretsSet ?? []} idPrefix={CONFIG_FIELDS} />
        </fieldset>
        <fieldset>
          <legend>{t('connectors.bindings')}</legend>
          <p class="muted">{t('connectors.bindingsIntro')}</p>
          {bindings.map((b, i) => (
            <div class="inline-form" key={i}>
              <Field id={`binding-target-${i}`} label={t('connectors.target')}>
                <input id={`binding-target-${i}`} value={b.target} required onInput={(e) => setBinding(i, { ...b, target: e.currentTarget.value })} />
              </Field>
              <Field id={`binding-device-${i}`} label={t('connectors.device')}>
                <select id={`binding-device-${i}`} value={b.deviceId} required onChange={(e) => setBinding(i, { ...b, deviceId: e.currentTarget.value })}>
                  <option value="">{t('connectors.chooseDevice')}</option>
                  {devices.map((d) => <option key={d.id} value={d.id}>{d.name} ({d.id})</option>)}
                </select>
              </Field>
              <button type="button" class="secondary" onClick={() => setBindings(bindings.filter((_, j) => j !== i))}>{t('schemaForm.remove')}</button>
            </div>
          ))}
          <button type="button" class="secondary" onClick={() => setBindings([...bindings, { target: '', deviceId: '' }])}>{t('connectors.addBinding')}</button>
        </fieldset>
        <div class="inline-form">
          <button type="button" class="secondary" disabled={test.busy} onClick={runTest}>{test.busy ? t('connectors.testing') : t('connectors.test')}</button>
          <button type="submit" disabled={save.busy}>{t('connectors.save')}</button>
          <button type="button" class="secondary" onClick={onDone}>{t('connectors.cancel')}</button>
        </div>
        <ErrorNote error={test.error} />
        <ErrorNote error={save.error} />
        {tested && <TestResult result={tested} fmt={fmt} />}
      </form>
    </section>
  );
}

function TestResult({ result, fmt }: { result: ConnectorTestResult; fmt: Formatter }) {
  const { t } = useI18n();
  return (
    <div data-testid="connector-test-result" role="status">
      {result.error
        ? <p class="error-text">{t('connectors.testFailed', { code: result.error.code, message: result.error.message })}</p>
        : <p class="ok">{t('connectors.testOk', { count: result.readings.length, ms: fmt.count(result.durationMs) })}</p>}
      {result.readings.length > 0 && (
        <div class="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('connectors.target')}</th><th scope="col">{t('connectors.time')}</th><th scope="col">{t('connectors.quantity')}</th>
                <th scope="col" class="num">{t('connectors.value')}</th>
              </tr>
            </thead>
            <tbody>
              {result.readings.map((r, i) => (
                <tr key={i}><td>{r.target}</td><td>{fmt.dateTime(r.ts)}</td><td>{r.quantity}</td><td class="num">{fmt.count(r.value)} {r.unit}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {result.problems.length > 0 && <ul>{result.problems.slice(0, 10).map((p, i) => <li key={i}><small>{p.where}: {p.message}</small></li>)}</ul>}
    </div>
  );
}
