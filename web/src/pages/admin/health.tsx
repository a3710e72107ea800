import { call } from '../../api/client.js';
import type { Installation, JobHealth } from '@gridshare/contract/admin';
import { Async, Badge, Empty, ErrorNote, Stat } from '../../components/ui.js';
import { NO_VALUE, type Formatter } from '../../lib/format.js';
import { useAction, useApi } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { AdminPage } from './admin-page.js';

/** A job is shown lagging once its oldest waiting work is older than this. */
const LAGGING_SECONDS = 300;

export default function Health() {
  const installation = useApi('installation', {}, { refreshMs: 15_000 });
  const { t } = useI18n();
  return (
    <AdminPage title={t('admin.health')}>
      {(fmt) => (
        <Async state={installation} what={t('admin.health')}>
          {(health) => (
            <>
              <Overview health={health} fmt={fmt} />
              <Jobs jobs={health.jobs} fmt={fmt} onChanged={installation.reload} />
              <Ingest health={health} fmt={fmt} />
              <Connectors health={health} fmt={fmt} />
            </>
          )}
        </Async>
      )}
    </AdminPage>
  );
}

const statusTone = (ok: boolean) => (ok ? 'good' : 'bad');

function Overview({ health, fmt }: { health: Installation; fmt: Formatter }) {
  const { t } = useI18n();
  const { dataFolder, ledger } = health;
  return (
    <section class="card" aria-labelledby="installation-heading">
      <h2 id="installation-heading">{t('admin.installation')}</h2>
      <p class="muted">{t('admin.checkedAt', { time: fmt.dateTime(health.checkedAt), version: health.version })}</p>
      <ul class="rows" aria-label={t('admin.services')}>
        <li>
          {t('admin.database', { kind: health.database.kind })}{' '}
          <Badge tone={statusTone(health.database.status === 'ok')}>{t(health.database.status === 'ok' ? 'admin.up' : 'admin.down')}</Badge>
        </li>
        <li>
          {t('admin.broker', { mode: health.broker.mode })}{' '}
          <Badge tone={statusTone(health.broker.status === 'ok')}>{t(health.broker.status === 'ok' ? 'admin.up' : 'admin.down')}</Badge>
        </li>
      </ul>
      <dl class="stats">
        <Stat label={t('admin.databaseSize')} value={health.database.sizeBytes === null ? NO_VALUE : fmt.bytes(health.database.sizeBytes)} />
        <Stat
          label={t('admin.dataFolder')} value={fmt.bytes(dataFolder.usedBytes)}
          detail={dataFolder.freeBytes === null ? undefined : t('admin.diskFree', { free: fmt.bytes(dataFolder.freeBytes) })}
        />
        <Stat
          label={t('admin.ledger')} value={fmt.count(ledger.entries)}
          detail={ledger.lastCheckpoint
            ? t('admin.lastCheckpoint', { size: fmt.count(ledger.lastCheckpoint.size), time: fmt.dateTime(ledger.lastCheckpoint.publishedAt) })
            : t('admin.noCheckpoint')}
        />
        <Stat label={t('admin.auditFailures')} value={ledger.audit ? fmt.count(ledger.audit.failures) : NO_VALUE} />
      </dl>
    </section>
  );
}

function Jobs({ jobs, fmt, onChanged }: { jobs: JobHealth[]; fmt: Formatter; onChanged: () => void }) {
  const { t } = useI18n();
  return (
    <section class="card" aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">{t('admin.jobs')}</h2>
      <div class="table-scroll">
        <table aria-labelledby="jobs-heading">
          <thead>
            <tr>
              <th scope="col">{t('admin.job')}</th><th scope="col">{t('admin.jobState')}</th><th scope="col">{t('admin.lag')}</th>
              <th scope="col">{t('admin.lastPass')}</th><th scope="col">{t('admin.lastError')}</th><th scope="col"><span class="sr-only">{t('admin.actions')}</span></th>
            </tr>
          </thead>
          <tbody>{jobs.map((job) => <JobRow key={job.name} job={job} fmt={fmt} onChanged={onChanged} />)}</tbody>
        </table>
      </div>
    </section>
  );
}

function JobRow({ job, fmt, onChanged }: { job: JobHealth; fmt: Formatter; onChanged: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const toggle = () => void action.run(async () => {
    await call(job.paused ? 'resumeJob' : 'pauseJob', { params: { name: job.name } });
    onChanged();
  });
  const lagging = job.lagSeconds >= LAGGING_SECONDS;
  return (
    <tr data-job={job.name}>
      <th scope="row">{job.name}</th>
      <td>
        {job.paused ? <Badge tone="warn">{t('admin.paused')}</Badge>
          : job.failuresInRow > 0 ? <Badge tone="bad">{t('admin.failing', { count: job.failuresInRow })}</Badge>
            : <Badge tone="good">{t(job.running ? 'admin.running' : 'admin.idle')}</Badge>}
      </td>
      <td>{lagging ? <Badge tone="warn">{t('admin.lagging', { lag: fmt.duration(job.lagSeconds) })}</Badge> : fmt.duration(job.lagSeconds)}</td>
      <td>{job.lastPassAt ? fmt.dateTime(job.lastPassAt) : NO_VALUE}</td>
      <td>{job.lastError ? <>{fmt.dateTime(job.lastError.at)}: {job.lastError.message}</> : NO_VALUE}</td>
      <td>
        <button type="button" class="secondary" disabled={action.busy} onClick={toggle}>
          {t(job.paused ? 'admin.resumeJob' : 'admin.pauseJob')}<span class="sr-only"> {job.name}</span>
        </button>
        <ErrorNote error={action.error} />
      </td>
    </tr>
  );
}

function Ingest({ health, fmt }: { health: Installation; fmt: Formatter }) {
  const { t } = useI18n();
  return (
    <section class="card" aria-labelledby="ingest-heading">
      <h2 id="ingest-heading">{t('admin.ingest')}</h2>
      {health.ingest.length === 0 ? <Empty><p>{t('admin.noCommunities')}</p></Empty> : (
        <div class="table-scroll">
          <table aria-labelledby="ingest-heading">
            <thead>
              <tr>
                <th scope="col">{t('admin.community')}</th><th scope="col">{t('admin.devicesOnline')}</th><th scope="col">{t('admin.readingsPerMinute')}</th>
                <th scope="col">{t('admin.readings')}</th><th scope="col">{t('admin.refused')}</th><th scope="col">{t('admin.lastRefusal')}</th>
              </tr>
            </thead>
            <tbody>
              {fmt.sortBy(health.ingest, (c) => c.name).map((c) => (
                <tr key={c.communityId}>
                  <th scope="row">{c.name}{c.suspended && <> <Badge tone="warn">{t('admin.suspended')}</Badge></>}</th>
                  <td>{t('admin.ofDevices', { online: fmt.count(c.devicesOnline), devices: fmt.count(c.devices) })}</td>
                  <td>{c.readingsPerMinute === null ? NO_VALUE : fmt.count(Math.round(c.readingsPerMinute))}</td>
                  <td>{fmt.count(c.readingsTotal)}</td>
                  <td>{fmt.count(c.refusedTotal)}</td>
                  <td>{c.lastRefusal ? <>{fmt.dateTime(c.lastRefusal.at)}: {c.lastRefusal.message}</> : NO_VALUE}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Connectors({ health, fmt }: { health: Installation; fmt: Formatter }) {
  const { t } = useI18n();
  const names = new Map(health.ingest.map((c) => [c.communityId, c.name]));
  return (
    <section class="card" aria-labelledby="connectors-heading">
      <h2 id="connectors-heading">{t('admin.connectorsInTrouble')}</h2>
      {health.connectorsInTrouble.length === 0 ? <Empty><p>{t('admin.noConnectorTrouble')}</p></Empty> : (
        <ul class="rows" aria-labelledby="connectors-heading">
          {health.connectorsInTrouble.map((c) => (
            <li key={c.id}>
              <strong>{c.name}</strong> <small class="muted">{names.get(c.communityId) ?? NO_VALUE} · {c.kind}</small>{' '}
              <Badge tone="bad">{t('admin.failing', { count: c.failuresInRow })}</Badge>
              {c.lastError && <p>{c.lastError.message}</p>}
              {c.lastRunAt && <small class="muted">{t('admin.lastRun', { time: fmt.dateTime(c.lastRunAt) })}</small>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
