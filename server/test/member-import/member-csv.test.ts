import { describe, expect, it } from 'vitest';
import { planMemberImport } from '../../src/member-import/domain/member-csv.js';
import { describePlan } from '../../src/member-import/commands.js';
import { BadRequestError, PayloadTooLargeError } from '../../src/kernel/errors.js';

const HEADER = 'email,display_name,role,language,street,postal_code,city,country,iban,mandate_id,mandate_signed_on,point_name,grid_connection_id,generation_grid_connection_id,point_role,pv_capacity_w';

describe('member CSV import (dry run)', () => {
  it('reads members with their metering points, one row per point', () => {
    const csv = [
      HEADER,
      'anna@example.org,Anna Müller,member,de,Sonnengasse 1,1010,Wien,at,AT61 1904 3002 3457 3201,SUN-M-1,2026-01-15,Home,AT0010000000000000001000000000001,AT0010000000000000001000000000002,prosumer,9800',
      'anna@example.org,Anna Müller,member,de,Sonnengasse 1,1010,Wien,at,AT61 1904 3002 3457 3201,SUN-M-1,2026-01-15,Garage,AT0010000000000000001000000000003,,consumer,',
      '"Bob@Example.org","Bob ""the builder"", Jr.",,,,,,,,,,,,,,',
      'maria@example.org,Maria Huber,manager,en,,,,,,,,,,,,',
    ].join('\r\n');
    const plan = planMemberImport(csv);
    expect(plan.errors).toEqual([]);
    expect(plan.rows).toBe(4);
    expect(plan.members.map((m) => [m.email, m.displayName, m.role, m.lines])).toEqual([
      ['anna@example.org', 'Anna Müller', 'member', [2, 3]],
      ['bob@example.org', 'Bob "the builder", Jr.', 'member', [4]],
      ['maria@example.org', 'Maria Huber', 'manager', [5]],
    ]);
    expect(plan.members[0]).toMatchObject({ language: 'de', iban: 'AT611904300234573201', mandate: { id: 'SUN-M-1', signedOn: '2026-01-15' }, billingAddress: { country: 'AT', city: 'Wien' } });
    expect(plan.points.map((p) => [p.memberEmail, p.name, p.role, p.pvCapacityW, p.generationGridConnectionId])).toEqual([
      ['anna@example.org', 'Home', 'prosumer', 9800, 'AT0010000000000000001000000000002'],
      ['anna@example.org', 'Garage', 'consumer', undefined, undefined],
    ]);
    expect(plan.validMembers).toEqual(['anna@example.org', 'bob@example.org', 'maria@example.org']);
  });

  it('takes semicolons and a BOM, as spreadsheets write them', () => {
    const plan = planMemberImport('\ufeffemail;display_name;point_name;grid_connection_id\nanna@example.org;Anna;Home;871234567890123456\n');
    expect(plan.errors).toEqual([]);
    expect(plan.points[0]).toMatchObject({ gridConnectionId: '871234567890123456', role: 'consumer' });
  });

  it('lists every bad row with its line and column, and keeps the good ones', () => {
    const csv = [
      HEADER,
      'anna@example.org,Anna,member,,,,,,,,,Home,AT0010000000000000001000000000001,,consumer,',
      'not-an-email,X,,,,,,,,,,,,,,',
      'c@example.org,,,,,,,,,,,,,,,',
      'd@example.org,D,owner,,,,,,,,,,,,,',
      'e@example.org,E,,fr,,,,,,,,,,,,',
      'f@example.org,F,,,Street 1,,Wien,AT,,,,,,,,',
      'g@example.org,G,,,,,,,DE89 3704 0044 0532 0130 01,,,,,,,',
      'h@example.org,H,,,,,,,,M-1,,,,,,',
      'i@example.org,I,,,,,,,,M-1,2026-01-15,,,,,',
      'j@example.org,J,,,,,,,,,,Home,AT0010000000000000001000000000001,,consumer,',
      'k@example.org,K,,,,,,,,,,Home,short,,consumer,',
      'l@example.org,L,,,,,,,,,,Home,871234567890123456,,consumer,NaN',
      'm@example.org,M,,,,,,,,,,Home,871234567890123457,,battery,',
      'anna@example.org,Anna Other,member,,,,,,,,,,,,,',
      'n@example.org,N,,,,,,,,,,,,,',
      'o@example.org,O,,,,,,,,,,Home,871234567890123458,,consumer,-5',
      'p@example.org,P,,,,,,,,,,Home,871234567890123459,871234567890123460,consumer,',
      'q@example.org,Q,,,,,,,,,,,,,,',
      'r@example.org,R,,,,,,,,,,Home,871234567890123461,,consumer,1e3',
    ].join('\n');
    const plan = planMemberImport(csv, { emails: new Set(['q@example.org']), gridConnectionIds: new Set() });
    expect(plan.errors.map((e) => [e.line, e.column])).toEqual([
      [3, 'email'], [4, 'display_name'], [5, 'role'], [6, 'language'], [7, 'postal_code'], [8, 'iban'], [9, 'mandate_signed_on'],
      [10, 'iban'], [11, 'grid_connection_id'], [12, 'grid_connection_id'], [13, 'pv_capacity_w'], [14, 'point_role'], [15, 'email'],
      [16, undefined], [17, 'pv_capacity_w'], [18, 'generation_grid_connection_id'], [19, 'email'], [20, 'pv_capacity_w'],
    ]);
    expect(plan.errors[8]!.message).toBe('AT0010000000000000001000000000001 is already on line 2');
    expect(plan.errors[12]!.message).toBe('anna@example.org appears on line 2 with different member details');
    expect(plan.errors[13]!.message).toBe('15 fields where the header has 16');
    // Anna's own row is fine, but a later row of hers is not: a partial import leaves her out as a whole.
    expect(plan.validMembers).toEqual([]);
    expect(plan.members.map((m) => m.email)).toEqual(['anna@example.org']);
  });

  it('refuses a file it cannot read at all, naming why', () => {
    expect(planMemberImport('email,display_name,colour\n').errors).toEqual([{ line: 0, column: 'colour', message: expect.stringContaining('unknown column "colour"') }]);
    expect(planMemberImport('display_name,display_name\n').errors.map((e) => e.message)).toEqual(['column "display_name" appears twice', 'the required column "email" is missing']);
    expect(() => planMemberImport('')).toThrow(BadRequestError);
    expect(() => planMemberImport('email,display_name\n"unterminated,x\n')).toThrow(/not a readable CSV file/);
    expect(() => planMemberImport('x'.repeat(6 * 1024 * 1024))).toThrow(PayloadTooLargeError);
    const many = `email,display_name\n${Array.from({ length: 10_001 }, (_, i) => `m${i}@example.org,M${i}`).join('\n')}`;
    expect(planMemberImport(many).errors).toEqual([{ line: 0, message: 'at most 10000 rows per file, this one has 10001' }]);
  });

  it('says what the dry run found, line by line (gridshare members check)', () => {
    expect(describePlan(planMemberImport('email;display_name;point_name;grid_connection_id\nanna@example.org;Anna;Home;871234567890123456\nbad;X;;\n'))).toBe([
      '2 rows: 1 members, 1 metering points, 1 errors',
      '  line 3, email: not an email address: "bad"',
      '1 members have only valid rows',
    ].join('\n'));
  });
});
