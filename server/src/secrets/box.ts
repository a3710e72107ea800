import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A 256-bit master key and its id, which is stored with every value it seals. */
export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

export const MASTER_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Format marker: `gs1:<key id>:<base64url(nonce | ciphertext | tag)>`. */
const PREFIX = 'gs1:';

/** Fails without revealing anything: a wrong key, a value moved to another row, or tampering. */
export class SealedValueError extends Error {}

/** A key's id: a hash of the key, so every process holding the same key calls it the same. */
export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update('gridshare master key id\0').update(key).digest('hex').slice(0, 16);
}

export function masterKey(key: Buffer): MasterKey {
  if (key.length !== MASTER_KEY_BYTES) throw new Error(`a master key is ${MASTER_KEY_BYTES} bytes, not ${key.length}`);
  return { id: masterKeyId(key), key };
}

export function generateMasterKey(): MasterKey {
  return masterKey(randomBytes(MASTER_KEY_BYTES));
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** The id of the key a value was sealed with (undefined for plain text). */
export function sealedKeyId(value: string): string | undefined {
  if (!isSealed(value)) return undefined;
  const end = value.indexOf(':', PREFIX.length);
  return end < 0 ? undefined : value.slice(PREFIX.length, end);
}

/**
 * Seals secrets for storage with AES-256-GCM under the active master key, a fresh 96-bit nonce per
 * value and the value's place (`table.column:row id`) as associated data, so a sealed value copied
 * into another row or column does not open. Every key of the ring opens what it sealed; the first
 * one seals. The ring is replaced as a whole during a rotation.
 */
export class SecretBox {
  private ring: readonly MasterKey[];

  constructor(keys: readonly MasterKey[]) {
    this.ring = SecretBox.checked(keys);
  }

  private static checked(keys: readonly MasterKey[]): readonly MasterKey[] {
    if (keys.length === 0) throw new Error('a secret box needs at least one master key');
    return [...keys];
  }

  get activeKeyId(): string {
    return this.ring[0]!.id;
  }

  get keyIds(): string[] {
    return this.ring.map((k) => k.id);
  }

  get keys(): readonly MasterKey[] {
    return this.ring;
  }

  replaceKeys(keys: readonly MasterKey[]): void {
    this.ring = SecretBox.checked(keys);
  }

  seal(plaintext: string, place: string): string {
    const { id, key } = this.ring[0]!;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.from(place, 'utf8'));
    const body = Buffer.concat([nonce, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}${id}:${body.toString('base64url')}`;
  }

  open(sealed: string, place: string): string {
    const id = sealedKeyId(sealed);
    if (id === undefined) throw new SealedValueError(`${place}: not a sealed value`);
    const master = this.ring.find((k) => k.id === id);
    if (!master) throw new SealedValueError(`${place}: sealed with master key ${id}, which this installation does not have`);
    const body = Buffer.from(sealed.slice(PREFIX.length + id.length + 1), 'base64url');
    if (body.length < NONCE_BYTES + TAG_BYTES) throw new SealedValueError(`${place}: sealed value is truncated`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', master.key, body.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(place, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SealedValueError(`${place}: sealed value does not open (wrong place, key or content)`);
    }
  }
}
