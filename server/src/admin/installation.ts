import type { Db } from '../platform/store/db.js';
import type { JobRunner } from '../platform/jobs/index.js';
import type { Principal } from '../kernel/principal.js';
import type { Installation } from '@gridshare/contract/admin';
import type { BrokerStatus } from '../ops/index.js';
import type { ConnectorService } from '../connectors/index.js';
import type { LedgerService } from '../ledger/index.js';
import { communityDevices, overseeCommunities } from '../registry/index.js';
import { ingestFigures } from '../ingest/index.js';
import { ingestRate, type Sample } from './domain/ingest-rate.js';
import { databaseBytes } from './store.js';
import { folderUse } from './data-folder.js';

export interface InstallationSources {
  readonly db: Db;
  readonly jobs: JobRunner;
  readonly broker: BrokerStatus;
  readonly connectors: ConnectorService;
  readonly ledger: LedgerService;
  /** The data folder (the embedded database's, else the artefacts'). */
  readonly dataFolder: string;
  readonly version: string;
  readonly now: () => number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The installation as its admin sees it, composed from the other capabilities' public functions
 * and the job runner; it reads no table of theirs. Ingest rates come from counters sampled at each
 * read (kept in this process).
 */
export class InstallationView {
  private readonly samples = new Map<string, Sample[]>();

  constructor(private readonly sources: InstallationSources) {}

  async read(admin: Principal): Promise<Installation> {
    const { db, jobs, broker, connectors, ledger, now } = this.sources;
    const at = now();
    const dbOk = await db.ping().catch(() => false);
    const communities = dbOk ? await overseeCommunities(db, admin, '') : [];
    const [sizeBytes, dataFolder, jobStates, ingest, connectorLists, entries, audit, checkpoint] = await Promise.all([
      dbOk ? databaseBytes(db) : null,
      folderUse(this.sources.dataFolder),
      jobs.status(),
      Promise.all(communities.map(async (community) => {
        const devices = await communityDevices(db, community.id);
        const figures = await ingestFigures(db, devices.map((d) => d.id), at);
        const rate = ingestRate(this.samples.get(community.id) ?? [], { at, readingsTotal: figures.readingsTotal });
        this.samples.set(community.id, rate.keep);
        return {
          communityId: community.id, name: community.name, suspended: community.suspension !== null,
          devices: figures.devices, devicesOnline: figures.devicesOnline, messagesTotal: figures.messagesTotal,
          readingsTotal: figures.readingsTotal, refusedTotal: figures.refusedTotal, readingsPerMinute: rate.perMinute,
          lastRefusal: figures.lastRefusal && { at: figures.lastRefusal.at.toISOString(), message: figures.lastRefusal.message },
        };
      })),
      Promise.all(communities.map((community) => connectors.list(admin, community.id))),
      dbOk ? ledger.size() : 0,
      dbOk ? ledger.lastAudit() : null,
      dbOk ? ledger.lastCheckpoint() : undefined,
    ]);
    // Communities removed meanwhile keep no samples.
    for (const id of this.samples.keys()) if (!communities.some((c) => c.id === id)) this.samples.delete(id);
    const brokerOk = broker.connected();
    return {
      version: this.sources.version,
      checkedAt: new Date(at).toISOString(),
      database: { status: dbOk ? 'ok' : 'down', kind: db.kind, sizeBytes },
      broker: { status: brokerOk ? 'ok' : 'down', mode: broker.mode },
      dataFolder,
      jobs: jobStates.map((job) => ({
        name: job.name, lagSeconds: job.lagSeconds, paused: job.paused, running: job.running, failuresInRow: job.failuresInRow,
        lastPassAt: iso(job.lastPassAt), lastSuccessAt: iso(job.lastSuccessAt),
        lastError: job.lastError && { at: new Date(job.lastError.at).toISOString(), message: job.lastError.message },
      })),
      ingest,
      connectorsInTrouble: connectorLists.flat()
        .filter((c) => c.status.failuresInRow > 0)
        .map((c) => ({
          id: c.id, communityId: c.communityId, name: c.name, kind: c.kind, failuresInRow: c.status.failuresInRow,
          lastRunAt: c.status.lastRunAt, lastError: c.status.lastError,
        })),
      ledger: { entries, audit, lastCheckpoint: checkpoint ? { size: checkpoint.size, publishedAt: checkpoint.publishedAt.toISOString() } : null },
    };
  }
}
