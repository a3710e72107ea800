import { useState } from 'preact/hooks';
import { ApiError, call } from '../../api/client.js';
import type { Installation } from '@gridshare/contract/admin';
import type { LedgerKey, Witness } from '@gridshare/contract/ledger';
import { Async, Badge, Empty, ErrorNote, Field, Stat } from '../../components/ui.js';
import { NO_VALUE, type Formatter } from '../../lib/format.js';
import { useAction, useApi } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { AdminPage } from './admin-page.js';

/** The verifiable record as the platform's admins run it: its key, its state, the auditor's last pass and the witnesses that cosign it. */
export default function LedgerAdmin() {
  const { t } = useI18n();
  const key = useApi('ledgerKey', {});
  const installation = useApi('installation', {}, { refreshMs: 60_000 });
  const witnesses = useApi('listWitnesses', {}, { refreshMs: 60_000 });
  return (
    <AdminPage title={t('admin.ledger')}>
      {(fmt) => (
        <>
          <section class="card" aria-labelledby="record-key-heading">
            <h2 id="record-key-heading">{t('ledger.key')}</h2>
            <Async state={key} what={t('ledger.key')}>{(k) => <KeyList ledgerKey={k} />}</Async>
          </section>
          <section class="card" aria-labelledby="record-state-heading">
            <h2 id="record-state-heading">{t('ledger.log')}</h2>
            <Async state={installation} what={t('ledger.log')}>{(health) => <RecordState ledger={health.ledger} fmt={fmt} />}</Async>
          </section>
          <section class="card" aria-labelledby="witnesses-heading">
            <h2 id="witnesses-heading">{t('admin.witnesses')}</h2>
            <p class="muted">{t('admin.witnessesIntro')}</p>
            <Async state={witnesses} what={t('admin.witnesses')}>
              {(list) => <WitnessTable witnesses={list} fmt={fmt} onChanged={witnesses.reload} />}
            </Async>
            <AddWitness onAdded={witnesses.reload} />
          </section>
        </>
      )}
    </AdminPage>
  );
}

/** The app has no copy button; the values are plain selectable text, as the CLI takes them. */
function KeyList({ ledgerKey }: { ledgerKey: LedgerKey }) {
  const { t } = useI18n();
  return (
    <dl data-testid="ledger-key">
      <dt>{t('ledger.origin')}</dt><dd><code>{ledgerKey.origin}</code></dd>
      <dt>{t('ledger.verifierKey')}</dt><dd><code data-testid="verifier-key">{ledgerKey.verifierKey}</code></dd>
      <dt>{t('ledger.did')}</dt><dd><code data-testid="did">{ledgerKey.did}</code></dd>
    </dl>
  );
}

function RecordState({ ledger, fmt }: { ledger: Installation['ledger']; fmt: Formatter }) {
  const { t } = useI18n();
  const { audit, lastCheckpoint } = ledger;
  return (
    <>
      <dl class="stats">
        <Stat label={t('ledger.size')} value={fmt.count(ledger.entries)} />
        <Stat label={t('ledger.checkpoint')} value={lastCheckpoint ? fmt.count(lastCheckpoint.size) : t('ledger.never')}
          {...(lastCheckpoint ? { detail: fmt.dateTime(lastCheckpoint.publishedAt) } : {})} />
      </dl>
      <p data-testid="audit">
        {!audit ? <Badge tone="neutral">{t('admin.notAuditedYet')}</Badge>
          : audit.failures === 0
            ? <Badge tone="good">{t('ledger.auditPassed', { at: fmt.dateTime(audit.auditedAt), entries: fmt.count(audit.entries) })}</Badge>
            : <Badge tone="bad">{t('ledger.auditFailed', { failures: fmt.count(audit.failures), message: audit.message ?? '' })}</Badge>}
      </p>
    </>
  );
}

function WitnessTable({ witnesses, fmt, onChanged }: { witnesses: Witness[]; fmt: Formatter; onChanged: () => void }) {
  const { t } = useI18n();
  if (witnesses.length === 0) return <Empty><p>{t('admin.noWitnesses')}</p></Empty>;
  return (
    <div class="table-scroll">
      <table aria-labelledby="witnesses-heading">
        <thead>
          <tr>
            <th scope="col">{t('admin.witnessName')}</th><th scope="col">{t('admin.witnessUrl')}</th>
            <th scope="col">{t('admin.witnessRecorded')}</th><th scope="col">{t('admin.witnessVerified')}</th>
            <th scope="col">{t('admin.witnessLastAttempt')}</th><th scope="col">{t('admin.lastError')}</th>
            <th scope="col"><span class="sr-only">{t('admin.actions')}</span></th>
          </tr>
        </thead>
        <tbody>{witnesses.map((w) => <WitnessRow key={w.name} witness={w} fmt={fmt} onChanged={onChanged} />)}</tbody>
      </table>
    </div>
  );
}

function WitnessRow({ witness: w, fmt, onChanged }: { witness: Witness; fmt: Formatter; onChanged: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const remove = () => {
    if (!window.confirm(t('admin.confirmRemoveWitness', { name: w.name }))) return;
    void action.run(async () => {
      await call('removeWitness', { params: { name: w.name } });
      onChanged();
    });
  };
  return (
    <tr data-witness={w.name}>
      <th scope="row">{w.name}</th>
      <td><code>{w.url}</code></td>
      <td>{fmt.count(w.cosignedSize)}</td>
      <td>{w.verifiedSize === null ? NO_VALUE : fmt.count(w.verifiedSize)}</td>
      <td>{w.lastAttemptAt ? fmt.dateTime(w.lastAttemptAt) : NO_VALUE}</td>
      <td>{w.lastError ?? NO_VALUE}</td>
      <td>
        <button type="button" class="danger" disabled={action.busy} onClick={remove}>
          {t('admin.removeWitness')}<span class="sr-only"> {w.name}</span>
        </button>
        <ErrorNote error={action.error} />
      </td>
    </tr>
  );
}

const WITNESS_FIELDS = ['verifierKey', 'url'] as const;
type WitnessField = typeof WITNESS_FIELDS[number];

/** The input an API refusal names (`body/url` → `url`), so its message shows beside that field. */
function refusedField(error: unknown): WitnessField | undefined {
  const named = error instanceof ApiError ? error.field : undefined;
  return WITNESS_FIELDS.find((field) => named === `body/${field}`);
}

function AddWitness({ onAdded }: { onAdded: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const [added, setAdded] = useState<string>();
  const submit = (event: Event) => action.submit(event, async (v) => {
    const witness = await call('putWitness', { body: { verifierKey: v.verifierKey!, url: v.url! } });
    setAdded(witness.name);
    onAdded();
  });
  const refused = refusedField(action.error);
  const fieldError = (field: WitnessField) => refused === field && <ErrorNote error={action.error} />;
  return (
    <form onSubmit={submit} aria-labelledby="add-witness-heading">
      <h3 id="add-witness-heading">{t('admin.addWitness')}</h3>
      <Field id="witness-verifierKey" label={t('admin.witnessKey')} hint={t('admin.witnessKeyHint')}>
        <input id="witness-verifierKey" name="verifierKey" required maxLength={500} spellcheck={false} autocomplete="off"
          aria-invalid={refused === 'verifierKey'} aria-describedby="witness-verifierKey-hint witness-verifierKey-error" />
        <div id="witness-verifierKey-error">{fieldError('verifierKey')}</div>
      </Field>
      <Field id="witness-url" label={t('admin.witnessUrl')} hint={t('admin.witnessUrlHint')}>
        <input id="witness-url" name="url" type="url" required maxLength={2000} autocomplete="off"
          aria-invalid={refused === 'url'} aria-describedby="witness-url-hint witness-url-error" />
        <div id="witness-url-error">{fieldError('url')}</div>
      </Field>
      <button type="submit" disabled={action.busy}>{t('admin.addWitnessButton')}</button>
      {added && !action.error && <p role="status" class="ok">{t('admin.witnessAdded', { name: added })}</p>}
      {!refused && <ErrorNote error={action.error} />}
    </form>
  );
}
