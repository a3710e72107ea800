/**
 * What Gridshare keeps on a Mosquitto broker through its dynamic-security plugin, and the commands
 * that bring the broker there from what it has. Pure: the caller reads the broker's clients and
 * roles, derives the passwords, and sends the commands.
 */

export type AclType = 'publishClientSend' | 'publishClientReceive' | 'subscribeLiteral' | 'subscribePattern' | 'unsubscribeLiteral' | 'unsubscribePattern';

export interface BrokerAcl {
  readonly acltype: AclType;
  readonly topic: string;
  readonly allow: boolean;
}

export interface BrokerRole {
  readonly rolename: string;
  readonly acls: readonly BrokerAcl[];
}

/** A client as the plugin lists it (the password never comes back). */
export interface BrokerClient {
  readonly username: string;
  readonly clientid?: string;
  readonly textdescription?: string;
  readonly disabled?: boolean;
  readonly roles: readonly { readonly rolename: string }[];
}

/** A client Gridshare wants: one per device key (see provisioning's brokerUsername). */
export interface DesiredClient {
  readonly username: string;
  readonly clientid: string;
  readonly password: string;
  /**
   * Stands for the password in the client's description, so a reconcile sees that a stored
   * password is current without resetting every one (the plugin never returns a password).
   */
  readonly fingerprint: string;
  readonly role: BrokerRole;
  readonly disabled: boolean;
}

export interface DynsecCommand {
  readonly command: string;
  readonly [field: string]: unknown;
}

/** Clients whose description starts with this are Gridshare's; no other client is ever changed. */
export const MANAGED_DESCRIPTION = 'gridshare device ';
export const DEVICE_ROLE_PREFIX = 'gridshare-device-';

export const isManagedClient = (client: BrokerClient) => client.textdescription?.startsWith(MANAGED_DESCRIPTION) ?? false;
export const isManagedRole = (role: BrokerRole) => role.rolename.startsWith(DEVICE_ROLE_PREFIX);

/**
 * A device's own topics and nothing else: it publishes readings, frames, answers to its
 * commands and (an agent) its heartbeat, and subscribes to its commands. Everything else is refused by the plugin's default
 * (publishing and subscribing are denied unless a role allows them).
 */
export function deviceRole(deviceId: string): BrokerRole {
  const own = `devices/${deviceId}`;
  return {
    rolename: `${DEVICE_ROLE_PREFIX}${deviceId}`,
    acls: [
      { acltype: 'publishClientSend', topic: `${own}/messages/events`, allow: true },
      { acltype: 'publishClientSend', topic: `${own}/frames/+`, allow: true },
      { acltype: 'publishClientSend', topic: `${own}/commands/ack`, allow: true },
      { acltype: 'publishClientSend', topic: `${own}/heartbeat`, allow: true },
      { acltype: 'subscribeLiteral', topic: `${own}/commands`, allow: true },
    ],
  };
}

/**
 * Gridshare's own processes: they consume every device's messages through shared subscriptions,
 * publish commands, and probe the broker's offline queue at start on a topic of their own.
 */
export function serviceRole(): BrokerRole {
  return {
    rolename: 'gridshare-service',
    acls: [
      { acltype: 'subscribePattern', topic: 'devices/#', allow: true },
      { acltype: 'subscribePattern', topic: '$share/+/devices/#', allow: true },
      { acltype: 'publishClientSend', topic: 'devices/+/commands', allow: true },
      { acltype: 'subscribePattern', topic: 'gridshare/probe/#', allow: true },
      { acltype: 'publishClientSend', topic: 'gridshare/probe/#', allow: true },
    ],
  };
}

const describeFingerprint = (fingerprint: string) => `${MANAGED_DESCRIPTION}${fingerprint}`;
const aclKey = (acl: BrokerAcl) => `${acl.acltype} ${acl.allow ? 'allow' : 'deny'} ${acl.topic}`;

/** The commands that make a role hold exactly the desired ACLs (create it when it is missing). */
export function roleCommands(desired: BrokerRole, actual: BrokerRole | undefined): DynsecCommand[] {
  if (!actual) return [{ command: 'createRole', rolename: desired.rolename, acls: desired.acls }];
  const want = new Map(desired.acls.map((acl) => [aclKey(acl), acl]));
  const have = new Map(actual.acls.map((acl) => [aclKey(acl), acl]));
  return [
    ...[...have].filter(([key]) => !want.has(key)).map(([, acl]) => ({ command: 'removeRoleACL', rolename: desired.rolename, acltype: acl.acltype, topic: acl.topic })),
    ...[...want].filter(([key]) => !have.has(key)).map(([, acl]) => ({ command: 'addRoleACL', rolename: desired.rolename, ...acl })),
  ];
}

function clientCommands(desired: DesiredClient, actual: BrokerClient | undefined): DynsecCommand[] {
  const description = describeFingerprint(desired.fingerprint);
  const roles = [{ rolename: desired.role.rolename }];
  if (!actual) {
    return [
      { command: 'createClient', username: desired.username, password: desired.password, clientid: desired.clientid, textdescription: description, roles },
      ...(desired.disabled ? [{ command: 'disableClient', username: desired.username }] : []),
    ];
  }
  const commands: DynsecCommand[] = [];
  const rekeyed = actual.textdescription !== description;
  if (rekeyed) commands.push({ command: 'setClientPassword', username: desired.username, password: desired.password });
  const sameRoles = actual.roles.length === 1 && actual.roles[0]!.rolename === desired.role.rolename;
  if (rekeyed || actual.clientid !== desired.clientid || !sameRoles) {
    commands.push({ command: 'modifyClient', username: desired.username, clientid: desired.clientid, textdescription: description, roles });
  }
  const disabled = actual.disabled ?? false;
  if (desired.disabled && !disabled) commands.push({ command: 'disableClient', username: desired.username });
  else if (!desired.disabled && (disabled || rekeyed)) {
    // Disabling is what makes the plugin drop a connection made with the old password; then enable.
    if (rekeyed && !disabled) commands.push({ command: 'disableClient', username: desired.username });
    commands.push({ command: 'enableClient', username: desired.username });
  }
  return commands;
}

/**
 * The commands that make the broker hold exactly `desired` within the given part of it: `actual`
 * is what the broker has there (all of it for a reconcile, one device's clients and role for a
 * change). Gridshare's clients and roles in `actual` that are not desired are deleted; clients and
 * roles that are not Gridshare's are never touched. Nothing to do gives no commands.
 */
export function planSync(
  desired: readonly DesiredClient[],
  actual: { readonly clients: readonly BrokerClient[]; readonly roles: readonly BrokerRole[] },
): DynsecCommand[] {
  const clients = new Map(actual.clients.map((c) => [c.username, c]));
  const roles = new Map(actual.roles.map((r) => [r.rolename, r]));
  const desiredRoles = new Map(desired.map((d) => [d.role.rolename, d.role]));
  const desiredUsers = new Set(desired.map((d) => d.username));
  const foreign = desired.filter((d) => { const c = clients.get(d.username); return c && !isManagedClient(c); });
  if (foreign.length > 0) throw new Error(`the broker has clients named like devices that Gridshare did not create: ${foreign.map((d) => d.username).join(', ')}`);
  return [
    ...[...desiredRoles.values()].flatMap((role) => roleCommands(role, roles.get(role.rolename))),
    ...desired.flatMap((d) => clientCommands(d, clients.get(d.username))),
    ...actual.clients.filter((c) => isManagedClient(c) && !desiredUsers.has(c.username)).map((c) => ({ command: 'deleteClient', username: c.username })),
    ...actual.roles.filter((r) => isManagedRole(r) && !desiredRoles.has(r.rolename)).map((r) => ({ command: 'deleteRole', rolename: r.rolename })),
  ];
}
