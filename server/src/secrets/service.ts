import type { Queryable } from '../platform/store/db.js';
import { ConflictError } from '../kernel/errors.js';
import { generateMasterKey, isSealed, SecretBox, SealedValueError, sealedKeyId } from './box.js';
import type { KeyStore } from './keyring.js';
import { sealedPlace, type SealedChange, type SealedStore } from './sealed-store.js';

/** Rows per read and compare-and-set write: short statements, so ingest and requests go on meanwhile. */
const BATCH = 500;

/** The database holds values sealed under keys this process does not have: it must not start. */
export class MissingMasterKeyError extends Error {
  constructor(missing: string[], store: KeyStore) {
    super(`the database holds secrets sealed with master key${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, `
      + `which ${store.description} does not hold. Give this process the installation's key (GRIDSHARE_SECRET_KEY, or the key file `
      + `from the installation's data folder via --secret-key-file); every process of one installation needs the same keys.`);
  }
}

export interface SealedCounts {
  table: string;
  /** Values per master key id; `plain` counts values not sealed yet. */
  byKey: Record<string, number>;
}

export interface SecretsStatus {
  activeKeyId: string;
  keyIds: string[];
  source: string;
  tables: SealedCounts[];
}

export interface RotationResult {
  activeKeyId: string;
  previousKeyIds: string[];
  /** Rows sealed again, per table. */
  resealed: Record<string, number>;
  /** Keys no value needs any more: dropped from a key file, or to be removed from the environment. */
  retiredKeyIds: string[];
  /**
   * Values that did not open (altered, or copied from another row), as `table.column:row id`: left
   * as they are, and their key stays; give those devices new keys.
   */
  unreadable: string[];
  source: string;
}

async function counts(db: Queryable, store: SealedStore): Promise<SealedCounts> {
  const byKey: Record<string, number> = {};
  for (const { keyId, count } of await store.summary(db)) byKey[keyId ?? 'plain'] = (byKey[keyId ?? 'plain'] ?? 0) + count;
  return { table: store.table, byKey };
}

/**
 * The installation's secrets at rest: the master keys (from the environment or a key file), the
 * box that seals and opens with them, and the tables that keep sealed values.
 */
export class Secrets {
  private rotating = false;

  private constructor(
    readonly box: SecretBox,
    private readonly keyStore: KeyStore,
    private readonly stores: readonly SealedStore[],
    /** Set when this start created the key file. */
    readonly createdKeys: boolean,
    /** Plain-text values from before sealing existed, sealed at this start. */
    readonly sealedAtStart: number,
  ) {}

  /**
   * Loads (or on the very first start creates) the master keys, refuses to start when the database
   * needs a key that is missing, and seals values still stored in plain text.
   */
  static async open(db: Queryable, keyStore: KeyStore, stores: readonly SealedStore[]): Promise<Secrets> {
    const tables = await Promise.all(stores.map((store) => counts(db, store)));
    const inUse = new Set(tables.flatMap((t) => Object.keys(t.byKey)).filter((id) => id !== 'plain'));
    let keys = keyStore.load();
    const created = keys === undefined;
    if (keys === undefined) {
      // A new key for a database that already needs another one would only hide the problem.
      if (inUse.size > 0) throw new MissingMasterKeyError([...inUse], keyStore);
      keys = keyStore.create();
    }
    const missing = [...inUse].filter((id) => !keys.some((k) => k.id === id));
    if (missing.length > 0) throw new MissingMasterKeyError(missing, keyStore);
    const box = new SecretBox(keys);
    let sealed = 0;
    for (const store of stores) sealed += await resealPass(db, box, store, (value) => !isSealed(value));
    return new Secrets(box, keyStore, stores, created, sealed);
  }

  get source(): string {
    return this.keyStore.description;
  }

  warnings(): string[] {
    return this.keyStore.warnings();
  }

  async status(db: Queryable): Promise<SecretsStatus> {
    return {
      activeKeyId: this.box.activeKeyId,
      keyIds: this.box.keyIds,
      source: this.keyStore.description,
      tables: await Promise.all(this.stores.map((store) => counts(db, store))),
    };
  }

  /**
   * Seals every value again under a new master key while the platform keeps running: the new key
   * is added in front (a key file gets it first, so a crash keeps every key), values are re-sealed
   * in short compare-and-set batches, then keys no value needs are retired. With keys from the
   * environment the operator adds the new key in front first; this re-seals under it and names
   * the keys that may then be removed.
   */
  async rotate(db: Queryable, onProgress: (table: string, rows: number) => void = () => undefined): Promise<RotationResult> {
    if (this.rotating) throw new ConflictError('a rotation of the master key is under way');
    this.rotating = true;
    try {
      const previousKeyIds = this.box.keyIds;
      if (this.keyStore.writable) {
        const ring = [generateMasterKey(), ...this.box.keys];
        this.keyStore.save(ring);
        this.box.replaceKeys(ring);
      }
      const active = this.box.activeKeyId;
      const resealed: Record<string, number> = {};
      const unreadable: string[] = [];
      for (const store of this.stores) {
        let total = 0;
        // Another process with the old ring may still write under an old key: go round until none is left.
        for (let round = 0; round < 3; round++) {
          const failed: string[] = [];
          total += await resealPass(db, this.box, store, (value) => sealedKeyId(value) !== active, failed, (rows) => onProgress(store.table, total + rows));
          if (round === 0) unreadable.push(...failed);
          const left = await counts(db, store);
          if (Object.keys(left.byKey).every((id) => id === active) || failed.length > 0) break;
        }
        resealed[store.table] = total;
      }
      const inUse = new Set((await Promise.all(this.stores.map((store) => counts(db, store)))).flatMap((t) => Object.keys(t.byKey)));
      const retired = this.box.keys.filter((k) => k.id !== active && !inUse.has(k.id));
      if (this.keyStore.writable && retired.length > 0) {
        const kept = this.box.keys.filter((k) => !retired.includes(k));
        this.keyStore.save(kept);
        this.box.replaceKeys(kept);
      }
      return { activeKeyId: active, previousKeyIds, resealed, unreadable, retiredKeyIds: retired.map((k) => k.id), source: this.keyStore.description };
    } finally {
      this.rotating = false;
    }
  }
}

/** Walks a sealed table in id order and seals again (or for the first time) every value `needsWork` picks. */
async function resealPass(
  db: Queryable, box: SecretBox, store: SealedStore, needsWork: (value: string) => boolean,
  unreadable: string[] = [], onProgress: (rowsChanged: number) => void = () => undefined,
): Promise<number> {
  let changed = 0;
  let after: string | undefined;
  for (;;) {
    const rows = await store.page(db, after, BATCH);
    if (rows.length === 0) return changed;
    onProgress(changed);
    after = rows[rows.length - 1]!.id;
    const changes: SealedChange[] = [];
    for (const row of rows) {
      if (!row.values.some((value) => value !== null && needsWork(value))) continue;
      const next = row.values.map((value, i) => {
        if (value === null || !needsWork(value)) return value;
        const place = sealedPlace(store.table, store.columns[i]!, row.id);
        try {
          return box.seal(isSealed(value) ? box.open(value, place) : value, place);
        } catch (error) {
          // A value that does not open (altered, or copied from another row) stays as it is and is
          // reported; it must not stop the others.
          if (!(error instanceof SealedValueError)) throw error;
          unreadable.push(place);
          return value;
        }
      });
      if (next.some((value, i) => value !== row.values[i])) changes.push({ id: row.id, before: row.values, after: next });
    }
    if (changes.length > 0) changed += await store.replace(db, changes);
  }
}
