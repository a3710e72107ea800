import { describe, expect, it } from 'vitest';
import { deviceRole, MANAGED_DESCRIPTION, planSync, type BrokerClient, type DesiredClient } from '../../src/broker-security/domain/dynsec-plan.js';
import { deviceMayUse, deviceOfUsername } from '../../src/broker-security/domain/device-topics.js';
import { queuedMessagesPerSession } from '../../src/broker-security/domain/queue-sizing.js';
import { MAX_COMMANDS_PER_MESSAGE, nextMessageSize, TARGET_MESSAGE_MS } from '../../src/broker-security/domain/control-batches.js';
import { brokerPassword } from '../../src/provisioning/broker-password.js';

const desired = (id: string, fingerprint = 'f1', disabled = false): DesiredClient =>
  ({ username: id, clientid: id, password: `pw-${fingerprint}`, fingerprint, role: deviceRole(id), disabled });
const asStored = (d: DesiredClient, extra: Partial<BrokerClient> = {}): BrokerClient =>
  ({ username: d.username, clientid: d.clientid, textdescription: `${MANAGED_DESCRIPTION}${d.fingerprint}`, roles: [{ rolename: d.role.rolename }], ...extra });

describe('the dynamic-security plan', () => {
  it('creates what is missing, and then has nothing left to do', () => {
    const want = [desired('dev-a'), desired('dev-b', 'f2', true)];
    const commands = planSync(want, { clients: [], roles: [] });
    expect(commands.map((c) => `${c.command} ${String(c.username ?? c.rolename)}`)).toEqual([
      'createRole gridshare-device-dev-a', 'createRole gridshare-device-dev-b', 'createClient dev-a', 'createClient dev-b', 'disableClient dev-b',
    ]);
    expect(planSync(want, { clients: want.map((d) => asStored(d, { disabled: d.disabled })), roles: want.map((d) => d.role) })).toEqual([]);
  });

  it('re-keys, disables and enables, and drops the old connection of a re-keyed client', () => {
    const role = deviceRole('dev-a');
    const rekeyed = planSync([desired('dev-a', 'new')], { clients: [asStored(desired('dev-a', 'old'))], roles: [role] });
    expect(rekeyed.map((c) => c.command)).toEqual(['setClientPassword', 'modifyClient', 'disableClient', 'enableClient']);
    expect(rekeyed[0]).toMatchObject({ password: 'pw-new' });
    expect(planSync([desired('dev-a', 'f1', true)], { clients: [asStored(desired('dev-a'))], roles: [role] }).map((c) => c.command)).toEqual(['disableClient']);
    expect(planSync([desired('dev-a')], { clients: [asStored(desired('dev-a'), { disabled: true })], roles: [role] }).map((c) => c.command)).toEqual(['enableClient']);
  });

  it('deletes its own clients and roles that are not wanted and never touches anyone else\'s', () => {
    const gone = desired('dev-gone');
    const foreign: BrokerClient = { username: 'operator', roles: [{ rolename: 'admin' }] };
    const commands = planSync([], { clients: [asStored(gone), foreign], roles: [gone.role, { rolename: 'admin', acls: [] }] });
    expect(commands).toEqual([{ command: 'deleteClient', username: 'dev-gone' }, { command: 'deleteRole', rolename: 'gridshare-device-dev-gone' }]);
    expect(() => planSync([desired('operator')], { clients: [foreign], roles: [] })).toThrow(/did not create: operator/);
  });

  it('repairs a role whose rules were changed by hand', () => {
    const role = deviceRole('dev-a');
    const tampered = { rolename: role.rolename, acls: [...role.acls.slice(1), { acltype: 'subscribePattern' as const, topic: '#', allow: true }] };
    const commands = planSync([desired('dev-a')], { clients: [asStored(desired('dev-a'))], roles: [tampered] });
    expect(commands).toEqual([
      { command: 'removeRoleACL', rolename: role.rolename, acltype: 'subscribePattern', topic: '#' },
      { command: 'addRoleACL', rolename: role.rolename, ...role.acls[0] },
    ]);
  });
});

describe('the size of a control message', () => {
  it('follows the broker\'s pace so that a message is answered in about the target time', () => {
    // 200 commands in 20 s (100 ms each, a Mosquitto 2.0 plugin holding many clients): 20 next.
    expect(nextMessageSize(200, 20_000)).toBe(TARGET_MESSAGE_MS / 100);
    // A fast broker keeps the maximum; a very slow one still sends one command at a time.
    expect(nextMessageSize(200, 50)).toBe(MAX_COMMANDS_PER_MESSAGE);
    expect(nextMessageSize(3, 60_000)).toBe(1);
    // Pace recovers: 20 commands in 200 ms (10 ms each) → 200.
    expect(nextMessageSize(20, 200)).toBe(MAX_COMMANDS_PER_MESSAGE);
  });

  it('starts from the maximum when it has nothing to go by', () => {
    for (const [sent, elapsed] of [[0, 100], [10, 0], [10, Number.NaN], [Number.NaN, 5], [10, -1]] as const) {
      expect(nextMessageSize(sent, elapsed)).toBe(MAX_COMMANDS_PER_MESSAGE);
    }
  });
});

describe('device topics and names', () => {
  it('allows a device its own topics only', () => {
    expect(deviceMayUse('d1', 'publish', 'devices/d1/messages/events')).toBe(true);
    expect(deviceMayUse('d1', 'publish', 'devices/d1/frames/sml')).toBe(true);
    expect(deviceMayUse('d1', 'publish', 'devices/d1/commands')).toBe(false);
    expect(deviceMayUse('d1', 'publish', 'devices/d2/messages/events')).toBe(false);
    expect(deviceMayUse('d1', 'publish', 'devices/d1/messages/events/extra')).toBe(false);
    expect(deviceMayUse('d1', 'subscribe', 'devices/d1/commands')).toBe(true);
    expect(deviceMayUse('d1', 'subscribe', 'devices/d1/+')).toBe(false);
  });

  it('reads the key slot from the user name', () => {
    expect(deviceOfUsername('gs-1')).toEqual({ deviceId: 'gs-1', slot: 'primary' });
    expect(deviceOfUsername('gs-1:secondary')).toEqual({ deviceId: 'gs-1', slot: 'secondary' });
  });

  it('derives a password per device and key', () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    const other = Buffer.alloc(32, 2).toString('base64');
    expect(brokerPassword(key, 'd1')).toBe(brokerPassword(key, 'd1'));
    expect(brokerPassword(key, 'd1')).not.toBe(brokerPassword(key, 'd2'));
    expect(brokerPassword(key, 'd1')).not.toBe(brokerPassword(other, 'd1'));
    expect(brokerPassword(key, 'd1')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('queue sizing', () => {
  it('gives each session its share of the outage, rounded up', () => {
    expect(queuedMessagesPerSession({ messagesPerSecond: 1_000, outageSeconds: 60, sessions: 4 })).toBe(15_000);
    expect(queuedMessagesPerSession({ messagesPerSecond: 10, outageSeconds: 1, sessions: 3 })).toBe(4);
    expect(() => queuedMessagesPerSession({ messagesPerSecond: Number.NaN, outageSeconds: 60, sessions: 4 })).toThrow(RangeError);
    expect(() => queuedMessagesPerSession({ messagesPerSecond: 1, outageSeconds: 60, sessions: 0 })).toThrow(RangeError);
  });
});
