import { describe, expect, it } from 'vitest';
import { diff, isPersonalField, isSecretField, mask, PERSONAL_MARK, SECRET_MARK } from '../../src/audit/domain/diff.js';

describe('the audit diff', () => {
  it('lists only the changed paths, nested ones dotted, sorted', () => {
    expect(diff({ name: 'A', price: '0.30', limits: { max: 5, min: 1 } }, { name: 'A', price: '0.25', limits: { max: 6, min: 1 } })).toEqual([
      { path: 'limits.max', before: '5', after: '6' },
      { path: 'price', before: '"0.30"', after: '"0.25"' },
    ]);
  });

  it('shows a created resource with empty befores and a removed one with empty afters', () => {
    expect(diff(null, { a: 1 })).toEqual([{ path: 'a', before: null, after: '1' }]);
    expect(diff({ a: 1 }, null)).toEqual([{ path: 'a', before: '1', after: null }]);
    expect(diff({ a: 1 }, { a: 1 })).toEqual([]);
  });

  it('keeps lists whole: a reordered or changed list is one line', () => {
    expect(diff({ windows: [1, 2] }, { windows: [2, 1] })).toEqual([{ path: 'windows', before: '[1,2]', after: '[2,1]' }]);
  });

  it('never carries a secret, and still says that it changed', () => {
    const lines = diff(
      { primaryKey: 'k-old', auth: { token: 't-old', password_hash: 'h' }, connectionString: 'HostName=x;SharedAccessKey=s' },
      { primaryKey: 'k-new', auth: { token: 't-old', password_hash: 'h' }, connectionString: 'HostName=x;SharedAccessKey=s2' },
    );
    expect(lines).toEqual([
      { path: 'connectionString', before: JSON.stringify(SECRET_MARK), after: JSON.stringify(SECRET_MARK) },
      { path: 'primaryKey', before: JSON.stringify(SECRET_MARK), after: JSON.stringify(SECRET_MARK) },
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/k-old|k-new|t-old|s2/);
  });

  it('masks personal fields at any depth, keeping nulls as they are', () => {
    expect(mask({ member: { email: 'a@b.c', displayName: 'Ann', address: null, role: 'member' }, items: [{ iban: 'AT61' }] })).toEqual({
      member: { email: PERSONAL_MARK, displayName: PERSONAL_MARK, address: null, role: 'member' }, items: [{ iban: PERSONAL_MARK }],
    });
    expect(diff({ displayName: 'Ann' }, { displayName: 'Anna' })).toEqual([{ path: 'displayName', before: '"[personal]"', after: '"[personal]"' }]);
  });

  it('tells secret and personal fields by the words of their names', () => {
    for (const field of ['password', 'newPassword', 'api_token', 'secondaryKey', 'keys', 'salt', 'signerKey', 'sas', 'connection-string', 'authorization']) {
      expect(isSecretField(field), field).toBe(true);
    }
    // Ids of keys and plain words that contain "key" are not keys.
    for (const field of ['keyId', 'key_ids', 'monkey', 'tokenizer', 'name', 'gridConnectionId']) expect(isSecretField(field), field).toBe(false);
    for (const field of ['email', 'display_name', 'DisplayName', 'iban', 'dateOfBirth']) expect(isPersonalField(field), field).toBe(true);
    for (const field of ['name', 'communityId', 'emails_sent']) expect(isPersonalField(field), field).toBe(false);
  });
});
