import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMasterKey, masterKeyId, SecretBox, sealedKeyId, SealedValueError } from '../../src/secrets/box.js';
import { environmentKeys, keyFile, parseMasterKey } from '../../src/secrets/keyring.js';

const dir = mkdtempSync(join(tmpdir(), 'gridshare-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secret box: AES-256-GCM with the value\'s place as associated data', () => {
  const key = generateMasterKey();
  const box = new SecretBox([key]);
  const place = 'device_credentials.primary_key:gs-0001';

  it('seals with a fresh nonce and the key id, and opens again', () => {
    const a = box.seal('s3cr3t-device-key', place);
    const b = box.seal('s3cr3t-device-key', place);
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cr3t');
    expect(sealedKeyId(a)).toBe(key.id);
    expect(box.open(a, place)).toBe('s3cr3t-device-key');
    expect(box.open(b, place)).toBe('s3cr3t-device-key');
  });

  it('a value moved to another row or column, altered, or under an unknown key does not open', () => {
    const sealed = box.seal('s3cr3t', place);
    expect(() => box.open(sealed, 'device_credentials.primary_key:gs-0002')).toThrow(SealedValueError);
    expect(() => box.open(sealed, 'device_credentials.secondary_key:gs-0001')).toThrow(SealedValueError);
    const body = sealed.slice(sealed.lastIndexOf(':') + 1);
    const flipped = Buffer.from(body, 'base64url');
    flipped[14] = flipped[14]! ^ 1;
    expect(() => box.open(sealed.replace(body, flipped.toString('base64url')), place)).toThrow(SealedValueError);
    expect(() => box.open(sealed.slice(0, 30), place)).toThrow(SealedValueError);
    expect(() => new SecretBox([generateMasterKey()]).open(sealed, place)).toThrow(/does not have/);
    expect(() => box.open('plain text', place)).toThrow(SealedValueError);
  });

  it('a ring seals with its first key and opens with any', () => {
    const next = generateMasterKey();
    const old = box.seal('kept', place);
    const ring = new SecretBox([next, key]);
    expect(ring.open(old, place)).toBe('kept');
    expect(sealedKeyId(ring.seal('new', place))).toBe(next.id);
    ring.replaceKeys([next]);
    expect(() => ring.open(old, place)).toThrow(SealedValueError);
  });

  it('names a key by a hash of it: the same key has the same id everywhere, and the id reveals nothing of it', () => {
    expect(masterKeyId(Buffer.from(key.key))).toBe(key.id);
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
    expect(key.key.toString('hex')).not.toContain(key.id);
  });
});

describe('where master keys come from', () => {
  it('reads keys as hex or base64 and refuses anything else', () => {
    const key = generateMasterKey();
    expect(parseMasterKey(key.key.toString('hex'), 'x').id).toBe(key.id);
    expect(parseMasterKey(key.key.toString('base64'), 'x').id).toBe(key.id);
    expect(parseMasterKey(` ${key.key.toString('base64url')} `, 'x').id).toBe(key.id);
    for (const bad of ['', 'short', 'a'.repeat(63), Buffer.alloc(16).toString('base64'), 'not base64 at all!']) {
      expect(() => parseMasterKey(bad, 'GRIDSHARE_SECRET_KEY')).toThrow(/GRIDSHARE_SECRET_KEY: a master key is 32 random bytes/);
    }
  });

  it('GRIDSHARE_SECRET_KEY holds one or more keys, the first seals; it is read only', () => {
    const [a, b] = [generateMasterKey(), generateMasterKey()];
    const store = environmentKeys(`${a.key.toString('base64')},${b.key.toString('hex')}`);
    expect(store.load()!.map((k) => k.id)).toEqual([a.id, b.id]);
    expect(store.writable).toBe(false);
    expect(() => store.save([a])).toThrow(/read only/);
    expect(() => environmentKeys(' , ')).toThrow(/holds no key/);
  });

  it('a key file is created once with mode 0600, replaced whole on save, and read back', () => {
    const path = join(dir, 'data', 'secret.key');
    const store = keyFile(path);
    expect(store.load()).toBeUndefined();
    const [first] = store.create();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(() => store.create()).toThrow(/EEXIST/);
    expect(store.load()!.map((k) => k.id)).toEqual([first!.id]);
    expect(readFileSync(path, 'utf8')).toContain(first!.key.toString('base64'));
    const next = generateMasterKey();
    store.save([next, first!]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(store.load()!.map((k) => k.id)).toEqual([next.id, first!.id]);
    expect(store.warnings()).toEqual([]);
    chmodSync(path, 0o644);
    expect(store.warnings()[0]).toMatch(/chmod 600/);
    writeFileSync(path, '# only a comment\n');
    expect(() => store.load()).toThrow(/holds no key/);
  });
});
