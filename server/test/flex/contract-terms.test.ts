import { describe, expect, it } from 'vitest';
import { BadRequestError, ConflictError } from '../../src/kernel/errors.js';
import { afterAction, checkContract, formatFeePercent, formatPrice, minuteOfDay, type ContractInput } from '../../src/flex/domain/contracts.js';

/** The pure rules of flexibility contracts: every refusal names its field, amounts stay exact. */

const DSO = { role: 'DSO', congestionPoints: ['ean.cp-1', 'ean.cp-2'] };
const input = (changes: Partial<ContractInput> = {}): ContractInput => ({
  participantId: '00000000-0000-4000-8000-000000000001',
  congestionPoints: ['ean.cp-1'],
  serviceType: 'congestion-management',
  validFrom: '2027-01-01',
  validTo: '2027-12-31',
  windows: [{ weekdays: [1, 2, 3, 4, 5], from: '11:00', to: '15:00' }, { weekdays: [6, 7], from: '10:00', to: '24:00' }],
  capacityRemuneration: '2.50',
  volumeRemuneration: '0.123456',
  penaltyRate: '0',
  ...changes,
});

function refusal(changes: Partial<ContractInput>, party: { role: string; congestionPoints: string[] } | undefined): BadRequestError {
  try {
    checkContract(input(changes), party);
  } catch (error) {
    if (error instanceof BadRequestError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('flexibility contract terms', () => {
  it('accepts a valid contract, with prices as exact micro-units', () => {
    const terms = checkContract(input({ congestionPoints: ['ean.cp-2', 'ean.cp-1', 'ean.cp-2'] }), DSO);
    expect(terms.capacityPrice).toBe(2_500_000n);
    expect(terms.volumePrice).toBe(123_456n);
    expect(terms.penaltyRate).toBe(0n);
    expect(terms.congestionPoints).toEqual(['ean.cp-2', 'ean.cp-1']);
    expect(terms.windows[0]).toEqual({ weekdays: [1, 2, 3, 4, 5], from: '11:00', to: '15:00' });
    expect(formatPrice(terms.capacityPrice)).toBe('2.5');
    expect(formatPrice(terms.volumePrice)).toBe('0.123456');
    expect(formatPrice(12n)).toBe('0.000012');
    // No fee unless the manager sets one.
    expect(terms.communityFeeBasisPoints).toBe(0);
  });

  it('reads the community fee as a percentage into exact basis points, 0 to 100 %', () => {
    for (const [percent, basisPoints] of [['0', 0], ['12.5', 1250], ['7.25', 725], ['100', 10_000], ['100.00', 10_000], ['0.01', 1]] as const) {
      expect(checkContract(input({ communityFeePercent: percent }), DSO).communityFeeBasisPoints).toBe(basisPoints);
    }
    expect([0, 1, 725, 1250, 10_000].map(formatFeePercent)).toEqual(['0', '0.01', '7.25', '12.5', '100']);
  });

  it('accepts one-day contracts and windows that only touch', () => {
    expect(() => checkContract(input({ validTo: '2027-01-01', windows: [{ weekdays: [1], from: '00:00', to: '12:00' }, { weekdays: [1], from: '12:00', to: '24:00' }] }), DSO))
      .not.toThrow();
  });

  it.each([
    [{}, undefined, 'body/participantId', /address book/],
    [{}, { role: 'CRO', congestionPoints: ['ean.cp-1'] }, 'body/participantId', /DSO/],
    [{ congestionPoints: ['ean.cp-9'] }, DSO, 'body/congestionPoints', /ean\.cp-9/],
    [{ congestionPoints: [] }, DSO, 'body/congestionPoints', /at least one/],
    [{ serviceType: 'balancing' as never }, DSO, 'body/serviceType', /capacity-management/],
    [{ validFrom: '2027-02-30' }, DSO, 'body/validFrom', /not a date/],
    [{ validTo: '31.12.2027' }, DSO, 'body/validTo', /not a date/],
    [{ validTo: '2026-12-31' }, DSO, 'body/validTo', /before validFrom/],
    [{ windows: [] }, DSO, 'body/windows', /at least one/],
    [{ windows: [{ weekdays: [0], from: '08:00', to: '09:00' }] }, DSO, 'body/windows/0/weekdays', /ISO weekdays/],
    [{ windows: [{ weekdays: [1.5], from: '08:00', to: '09:00' }] }, DSO, 'body/windows/0/weekdays', /ISO weekdays/],
    [{ windows: [{ weekdays: [], from: '08:00', to: '09:00' }] }, DSO, 'body/windows/0/weekdays', /ISO weekdays/],
    [{ windows: [{ weekdays: [1], from: '25:00', to: '26:00' }] }, DSO, 'body/windows/0/from', /HH:MM/],
    [{ windows: [{ weekdays: [1], from: '24:00', to: '24:00' }] }, DSO, 'body/windows/0/from', /HH:MM/],
    [{ windows: [{ weekdays: [1], from: '08:00', to: '8:60' }] }, DSO, 'body/windows/0/to', /HH:MM/],
    [{ windows: [{ weekdays: [1], from: '09:00', to: '09:00' }] }, DSO, 'body/windows/0/to', /not after/],
    [{ windows: [{ weekdays: [1], from: '10:00', to: '08:00' }] }, DSO, 'body/windows/0/to', /not after/],
    [{ windows: [{ weekdays: [1, 3], from: '08:00', to: '12:00' }, { weekdays: [3, 5], from: '11:59', to: '13:00' }] }, DSO, 'body/windows/1', /overlaps window 0 on weekday 3/],
    [{ capacityRemuneration: '-1' }, DSO, 'body/capacityRemuneration', /negative/],
    [{ capacityRemuneration: 'NaN' }, DSO, 'body/capacityRemuneration', /not a decimal/],
    [{ volumeRemuneration: '0.1234567' }, DSO, 'body/volumeRemuneration', /at most 6 decimal places/],
    [{ volumeRemuneration: '1e3' }, DSO, 'body/volumeRemuneration', /not a decimal/],
    [{ volumeRemuneration: 'Infinity' }, DSO, 'body/volumeRemuneration', /not a decimal/],
    [{ penaltyRate: '-0.01' }, DSO, 'body/penaltyRate', /negative/],
    [{ penaltyRate: ' 1' }, DSO, 'body/penaltyRate', /not a decimal/],
    [{ penaltyRate: '' }, DSO, 'body/penaltyRate', /not a decimal/],
    [{ communityFeePercent: '100.01' }, DSO, 'body/communityFeePercent', /at most 100 %/],
    [{ communityFeePercent: '250' }, DSO, 'body/communityFeePercent', /at most 100 %/],
    [{ communityFeePercent: '-1' }, DSO, 'body/communityFeePercent', /percentage from 0 to 100/],
    [{ communityFeePercent: '12.345' }, DSO, 'body/communityFeePercent', /at most 2 decimal places/],
    [{ communityFeePercent: '1e1' }, DSO, 'body/communityFeePercent', /percentage/],
    [{ communityFeePercent: '' }, DSO, 'body/communityFeePercent', /percentage/],
    [{ communityFeePercent: '10 %' }, DSO, 'body/communityFeePercent', /percentage/],
  ] as const)('refuses %j (party %j) naming %s', (changes, party, field, message) => {
    const error = refusal(changes as Partial<ContractInput>, party as { role: string; congestionPoints: string[] } | undefined);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('reads local times from 00:00 to 24:00 only', () => {
    expect(minuteOfDay('00:00')).toBe(0);
    expect(minuteOfDay('24:00')).toBe(1440);
    expect(minuteOfDay('24:01')).toBeUndefined();
    expect(minuteOfDay('7:00')).toBeUndefined();
  });

  it('moves draft → active → ended and nothing else', () => {
    expect(afterAction('draft', 'update')).toBe('draft');
    expect(afterAction('draft', 'activate')).toBe('active');
    expect(afterAction('active', 'end')).toBe('ended');
    expect(afterAction('draft', 'end')).toBe('ended');
    expect(afterAction('active', 'opt-in')).toBe('active');
    expect(afterAction('draft', 'opt-in')).toBe('draft');
    for (const [state, action] of [['active', 'update'], ['ended', 'update'], ['active', 'activate'], ['ended', 'activate'], ['ended', 'end'], ['ended', 'opt-in']] as const) {
      expect(() => afterAction(state, action)).toThrow(ConflictError);
    }
  });
});
