import { checkChosenPort } from './net/listen.js';
import { lockDataFolder, type DataFolderLock } from './store/data-folder.js';
import type { StoreConfig } from './store/db.js';

interface Address {
  port: number;
  host: string;
  explicit: boolean;
}

/** What a start holds before it opens anything: the embedded database's folder, if it has one. */
export interface StartClaim {
  readonly dataFolder: DataFolderLock | undefined;
}

/**
 * Takes the embedded database's folder (nothing may open it before this process holds it) and
 * checks that the ports the user chose are free (nothing is opened at all when one is taken).
 * Apart from startPlatform so that `gridshare start` can claim before it loads the platform's
 * modules: a start refused here costs milliseconds, not the seconds those take to load.
 */
export async function claimStart(options: { store: StoreConfig; http: Address; mqtt: Address; externalMqtt?: unknown }): Promise<StartClaim> {
  const dataFolder = options.store.kind === 'pglite' && options.store.dataDir ? await lockDataFolder(options.store.dataDir) : undefined;
  try {
    await checkChosenPort({ ...options.http, what: 'HTTP', flag: '--port' });
    // With an external broker (externalMqtt given) the embedded one's port is not used.
    if (!options.externalMqtt) await checkChosenPort({ ...options.mqtt, what: 'MQTT', flag: '--mqtt-port' });
  } catch (error) {
    dataFolder?.release();
    throw error;
  }
  return { dataFolder };
}
