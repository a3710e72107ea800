import { describe, expect, it } from 'vitest';
import { acknowledge, deliverable, isExpired, supersession, valueProblem, type CommandFacts } from '../../src/control/domain/commands.js';
import { AckRefused, parseAckPayload, validateAck } from '../../src/control/domain/ack.js';

const T0 = Date.UTC(2026, 4, 1, 10);
const command = (over: Partial<CommandFacts> = {}): CommandFacts => ({
  id: '00000000-0000-4000-8000-000000000001', deviceId: 'bat-1', kind: 'battery-power', state: 'queued',
  issuedAtMs: T0, validFromMs: T0, expiresAtMs: T0 + 15 * 60_000, ...over,
});

describe('the command state machine', () => {
  it('a newer command supersedes the open older ones of its device and kind, not others', () => {
    const older = command({ id: 'a', issuedAtMs: T0 - 60_000 });
    const sent = command({ id: 'b', issuedAtMs: T0 - 30_000, state: 'sent' });
    const applied = command({ id: 'c', issuedAtMs: T0 - 90_000, state: 'acknowledged' });
    const otherKind = command({ id: 'd', issuedAtMs: T0 - 60_000, kind: 'pv-limit' });
    const otherDevice = command({ id: 'e', issuedAtMs: T0 - 60_000, deviceId: 'bat-2' });
    expect(supersession(command({ id: 'z' }), [older, sent, applied, otherKind, otherDevice])).toEqual({ supersede: ['a', 'b'], supersededBy: undefined });
  });

  it('an older command that arrives late is superseded at once by the newest one there', () => {
    const newer = command({ id: 'n', issuedAtMs: T0 + 60_000 });
    const newest = command({ id: 'm', issuedAtMs: T0 + 120_000, state: 'acknowledged' });
    expect(supersession(command({ id: 'late' }), [newer, newest])).toEqual({ supersede: [], supersededBy: 'm' });
    // Expired and rejected commands never supersede.
    expect(supersession(command({ id: 'late' }), [command({ id: 'x', issuedAtMs: T0 + 1, state: 'expired' })]).supersededBy).toBeUndefined();
  });

  it('commands of one issue (a plan\'s next steps, each valid for its step) do not replace each other', () => {
    const step1 = command({ id: 'a' });
    const step2 = command({ id: 'b', validFromMs: T0 + 15 * 60_000, expiresAtMs: T0 + 30 * 60_000 });
    expect(supersession(step2, [step1])).toEqual({ supersede: [], supersededBy: undefined });
    expect(deliverable([step2, step1], T0).map((c) => c.id)).toEqual(['a', 'b']);
    // The next plan replaces both.
    expect(supersession(command({ id: 'next', issuedAtMs: T0 + 60_000 }), [step1, step2]).supersede).toEqual(['a', 'b']);
  });

  it('expires open commands at their expiry instant and never delivers them', () => {
    const c = command();
    expect(isExpired(c, c.expiresAtMs - 1)).toBe(false);
    expect(isExpired(c, c.expiresAtMs)).toBe(true);
    expect(deliverable([c], c.expiresAtMs)).toEqual([]);
    const later = command({ id: 'b', issuedAtMs: T0 + 1, kind: 'pv-limit' });
    expect(deliverable([later, c, { ...c, id: 'closed', state: 'superseded' }], T0).map((x) => x.id)).toEqual([c.id, 'b']);
  });

  it('an acknowledgement closes an open command once; repeated or late ones change nothing', () => {
    expect(acknowledge(command(), 'acknowledged', T0)).toEqual({ kind: 'apply', state: 'acknowledged' });
    expect(acknowledge(command({ state: 'sent' }), 'rejected', T0)).toEqual({ kind: 'apply', state: 'rejected' });
    expect(acknowledge(command({ state: 'acknowledged' }), 'rejected', T0)).toEqual({ kind: 'unchanged', state: 'acknowledged' });
    expect(acknowledge(command({ state: 'superseded' }), 'acknowledged', T0)).toEqual({ kind: 'unchanged', state: 'superseded' });
    // Answered after its expiry: it expires, it does not count as applied.
    expect(acknowledge(command({ state: 'sent' }), 'acknowledged', T0 + 15 * 60_000)).toEqual({ kind: 'expire' });
  });

  it('checks values per kind', () => {
    expect(valueProblem('battery-power', -3_000)).toBeUndefined();
    expect(valueProblem('ev-charge-power', -1)).toMatch(/between 0/);
    expect(valueProblem('pv-limit', 1.5)).toMatch(/whole number/);
    expect(valueProblem('appliance-start', null)).toBeUndefined();
    expect(valueProblem('heat-pump-block', 0)).toMatch(/no value/);
  });
});

describe('acknowledgement messages', () => {
  const id = '0b7e9a52-53c4-4c61-9d8e-0a3c8f2b9a11';
  it('reads an answer, an override, or both', () => {
    expect(validateAck({ commandId: id, result: 'acknowledged' })).toEqual({ answer: { commandId: id, result: 'acknowledged', reason: null }, override: undefined });
    expect(validateAck({ override: { until: '2026-05-01T18:00:00Z' } })).toEqual({ answer: undefined, override: { untilMs: Date.UTC(2026, 4, 1, 18) } });
    expect(parseAckPayload(Buffer.from(JSON.stringify({ commandId: id, result: 'rejected', reason: 'too hot', override: { until: null } }))))
      .toEqual({ answer: { commandId: id, result: 'rejected', reason: 'too hot' }, override: { untilMs: null } });
  });

  it.each([
    ['not json', 'message', /malformed JSON/],
    ['[]', 'message', /is an object/],
    ['{}', 'commandId', /give commandId/],
    [JSON.stringify({ commandId: 'x', result: 'acknowledged' }), 'commandId', /UUID/],
    [JSON.stringify({ commandId: id }), 'result', /acknowledged" or "rejected/],
    [JSON.stringify({ commandId: id, result: 'ok' }), 'result', /acknowledged" or "rejected/],
    [JSON.stringify({ commandId: id, result: 'acknowledged', extra: 1 }), 'extra', /unknown field/],
    [JSON.stringify({ override: { until: '2026-05-01T18:00:00+02:00' } }), 'override/until', /UTC instant/],
    [JSON.stringify({ override: true }), 'override', /override must be/],
  ])('refuses %s, naming %s', (text, field, message) => {
    const attempt = () => parseAckPayload(Buffer.from(text));
    expect(attempt).toThrow(AckRefused);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect((error as AckRefused).field).toBe(field);
    }
  });
});
