import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPayload } from '../kernel/events.js';
import type { EventPublisher, Publish } from '../platform/events/index.js';
import type { Principal } from '../kernel/principal.js';
import { BadRequestError, DomainError, ForbiddenError, NotFoundError } from '../kernel/errors.js';
import { MINUTE_MS } from '../kernel/time.js';
import { isManagerOf, requireUser } from '../accounts/index.js';
import { deviceById, getDevice, listDevices } from '../registry/index.js';
import type { CommandView, DeviceCommand } from '@gridshare/contract/control';
import { acknowledge, deliverable, DEVICE_KINDS_OF, supersession, valueProblem, type CommandKind, type CommandState } from './domain/commands.js';
import { AckRefused, parseAckPayload, validateAck, type AckMessage } from './domain/ack.js';
import { recordChange } from '../audit/index.js';
import {
  closeCommand, commandById, competingCommands, dueForDelivery, expireDue, insertCommands, listCommands, markDelivered, markSuperseded,
  openCommandsByState, openCommandsOfDevice, type NewCommand, type StoredCommand,
} from './store.js';

/** How commands reach devices that hold an MQTT connection (the embedded broker or an external one). */
export interface CommandTransport {
  /** Publishes one command on the device's commands topic with QoS 1. */
  publish(deviceId: string, command: DeviceCommand): Promise<void>;
}

/** The device a message came from, as its credentials proved. */
export interface CommandDevice {
  readonly id: string;
  readonly communityId: string;
}

export interface ControlOptions {
  readonly db: Db;
  readonly events: EventPublisher;
  /** The clock (tests move it). */
  readonly now: () => number;
  /** How long after an MQTT delivery without an answer the command is published again. */
  readonly retryMs: number;
  /** Wakes the delivery job (new commands). */
  readonly wake: () => void;
  readonly log: (line: string) => void;
}

export interface ManualCommand {
  readonly kind: CommandKind;
  readonly value: number | null;
  readonly validFrom?: string | undefined;
  readonly durationMinutes: number;
}

export interface AckAnswer {
  readonly commandId: string | null;
  readonly state: CommandState | null;
  readonly override: boolean;
}

/** At most this many commands per community and delivery pass. */
const DELIVERY_BATCH = 500;

const iso = (ms: number) => new Date(ms).toISOString();

export const deviceCommand = (c: StoredCommand): DeviceCommand => ({
  id: c.id, kind: c.kind, value: c.value, validFrom: iso(c.validFromMs), expiresAt: iso(c.expiresAtMs), issuedAt: iso(c.issuedAtMs),
});

export const commandView = (c: StoredCommand): CommandView => ({
  ...deviceCommand(c), communityId: c.communityId, deviceId: c.deviceId, source: c.planId === null ? 'manual' : 'plan', planId: c.planId,
  state: c.state, attempts: c.attempts, createdAt: iso(c.createdAtMs), sentAt: c.sentAtMs === null ? null : iso(c.sentAtMs),
  closedAt: c.closedAtMs === null ? null : iso(c.closedAtMs), reason: c.reason, supersededBy: c.supersededBy,
});

/**
 * Commands to devices from their creation to their end: plans' and people's commands are stored
 * (superseding older ones of the same device and kind), delivered over MQTT (with retries until
 * answered or expired) and HTTP polling, and closed by the device's answer or their expiry.
 */
export class ControlService {
  private transport: CommandTransport | undefined;

  constructor(private readonly options: ControlOptions) {}

  /** Set once the broker runs; until then commands wait (queued) and HTTP polling works. */
  attach(transport: CommandTransport): void {
    this.transport = transport;
  }

  /**
   * A plan decided (in the plan's transaction): each of its commands becomes a command row. A
   * command for a device that is not the community's is left out (and logged); the others stay.
   */
  async planDecided(tx: Queryable, plan: EventPayload<'plan.decided'>, publish: Publish): Promise<void> {
    const nowMs = this.options.now();
    const commands: NewCommand[] = [];
    for (const c of plan.commands) {
      const device = await deviceById(tx, c.deviceId);
      const value = c.value === null ? null : Math.round(c.value);
      const problem = device?.communityId !== plan.communityId ? `device ${c.deviceId} is not in the community`
        : c.expiresAtMs <= c.validFromMs ? 'it expires before it is valid' : valueProblem(c.kind, value);
      if (problem) {
        this.options.log(`gridshare: plan ${plan.planId}: ${c.kind} command for ${c.deviceId} left out: ${problem}`);
        continue;
      }
      commands.push({
        id: randomUUID(), communityId: plan.communityId, deviceId: c.deviceId, kind: c.kind, value, state: 'queued',
        validFromMs: c.validFromMs, expiresAtMs: c.expiresAtMs, issuedAtMs: plan.decidedAtMs, planId: plan.planId, issuedBy: null, createdAtMs: nowMs,
      });
    }
    await this.add(tx, publish, commands, nowMs);
  }

  /**
   * Stores new commands: each supersedes the older open ones of its device and kind, or is
   * superseded at once by a newer one. Each is issued (and logged in the verifiable record) even
   * if superseded before it is sent.
   */
  private async add(tx: Queryable, publish: Publish, commands: readonly NewCommand[], nowMs: number): Promise<void> {
    if (commands.length === 0) return;
    const known = [...await competingCommands(tx, [...new Set(commands.map((c) => c.deviceId))], nowMs)];
    await insertCommands(tx, commands);
    for (const command of commands) {
      const { supersede, supersededBy } = supersession(command, known);
      await markSuperseded(tx, supersede, command.id, nowMs);
      if (supersededBy) await markSuperseded(tx, [command.id], supersededBy, nowMs);
      for (const [i, k] of known.entries()) if (supersede.includes(k.id)) known[i] = { ...k, state: 'superseded' };
      known.push({ ...command, state: supersededBy ? 'superseded' : 'queued', attempts: 0, sentAtMs: null, closedAtMs: null, reason: null, supersededBy: supersededBy ?? null });
    }
    for (const communityId of new Set(commands.map((c) => c.communityId))) {
      await publish('command.issued', { communityId, commandIds: commands.filter((c) => c.communityId === communityId).map((c) => c.id) });
    }
  }

  /**
   * A person sends a device a command now: its member or the community's managers. It replaces the
   * plan's command of the same kind, and is published as an override from the app until it expires,
   * so the next plan keeps to it.
   */
  async issueCommand(principal: Principal, deviceId: string, input: ManualCommand): Promise<StoredCommand> {
    const user = requireUser(principal);
    const device = await getDevice(this.options.db, principal, deviceId);
    if (!DEVICE_KINDS_OF[input.kind].includes(device.kind)) {
      throw new BadRequestError(`body/kind: ${input.kind} is not a command for a ${device.kind} (it is for: ${DEVICE_KINDS_OF[input.kind].join(', ')})`, 'body/kind');
    }
    const problem = valueProblem(input.kind, input.value);
    if (problem) throw new BadRequestError(`body/value: ${problem}`, 'body/value');
    const nowMs = this.options.now();
    const validFromMs = input.validFrom === undefined ? nowMs : Date.parse(input.validFrom);
    const expiresAtMs = validFromMs + input.durationMinutes * MINUTE_MS;
    if (expiresAtMs <= nowMs) throw new BadRequestError('body/validFrom: the command would have expired already', 'body/validFrom');
    if (validFromMs > nowMs + 7 * 24 * 60 * MINUTE_MS) throw new BadRequestError('body/validFrom: at most a week ahead', 'body/validFrom');
    const command: NewCommand = {
      id: randomUUID(), communityId: device.communityId, deviceId: device.id, kind: input.kind, value: input.value, state: 'queued',
      validFromMs, expiresAtMs, issuedAtMs: nowMs, planId: null, issuedBy: user.userId, createdAtMs: nowMs,
    };
    await this.options.events.transaction(this.options.db, async (tx, publish) => {
      await this.add(tx, publish, [command], nowMs);
      await publish('device.override', { communityId: device.communityId, deviceId: device.id, untilMs: expiresAtMs, source: 'app' });
      await recordChange(publish, {
        kind: 'command', communityId: device.communityId, resourceId: command.id, action: 'issue', before: null, atMs: nowMs,
        after: { deviceId: device.id, kind: command.kind, value: command.value, validFrom: new Date(validFromMs).toISOString(), expiresAt: new Date(expiresAtMs).toISOString() },
      });
    });
    this.options.wake();
    return (await commandById(this.options.db, command.id))!;
  }

  /** HTTP polling: the device's commands still valid, each counted as delivered. Expired ones are closed first, never given. */
  async poll(device: CommandDevice): Promise<DeviceCommand[]> {
    const nowMs = this.options.now();
    await expireDue(this.options.db, { deviceId: device.id }, nowMs);
    return this.deliver(device.id, await openCommandsOfDevice(this.options.db, device.id, nowMs), nowMs, 'poll');
  }

  /** The device subscribed to its commands topic (it came online): it gets what is still valid now. */
  async deviceSubscribed(deviceId: string): Promise<void> {
    const nowMs = this.options.now();
    await expireDue(this.options.db, { deviceId }, nowMs);
    await this.deliver(deviceId, await openCommandsOfDevice(this.options.db, deviceId, nowMs), nowMs, 'came-online');
  }

  /** The delivery job's pass over one community: expires what is due, publishes new commands and due retries. */
  async deliverDue(communityId: string): Promise<{ done: number; more: boolean }> {
    const nowMs = this.options.now();
    const expired = await expireDue(this.options.db, { communityId }, nowMs);
    if (!this.transport) return { done: expired, more: false };
    const due = await dueForDelivery(this.options.db, communityId, nowMs, DELIVERY_BATCH);
    let done = expired;
    for (const deviceId of new Set(due.map((c) => c.deviceId))) {
      done += (await this.deliver(deviceId, due.filter((c) => c.deviceId === deviceId), nowMs, 'due')).length;
    }
    return { done, more: due.length === DELIVERY_BATCH };
  }

  /**
   * Counts a delivery of each command still open, then publishes those over MQTT unless the device
   * polled for them. A device that polls or comes online gets every open command; the delivery
   * job only those still due when it claims them.
   */
  private async deliver(deviceId: string, commands: readonly StoredCommand[], nowMs: number, reason: 'poll' | 'came-online' | 'due'): Promise<DeviceCommand[]> {
    const transport = this.transport;
    const publish = reason !== 'poll';
    const due = deliverable(commands, nowMs);
    if (due.length === 0 || (publish && !transport)) return [];
    const delivered = await markDelivered(this.options.db, due.map((c) => c.id), nowMs, nowMs + this.options.retryMs, reason === 'due');
    const messages = due.filter((c) => delivered.has(c.id)).map(deviceCommand);
    if (publish && transport) for (const message of messages) await transport.publish(deviceId, message);
    return messages;
  }

  /**
   * A device answers a command and/or reports an override. Only the device a command is for may
   * answer it (403); an unknown id is a 404; a command already closed keeps its state, so a
   * repeated answer changes nothing. The answer and the override are stored together or not at all.
   */
  async acknowledge(device: CommandDevice, message: AckMessage): Promise<AckAnswer> {
    const nowMs = this.options.now();
    return this.options.events.transaction(this.options.db, async (tx, publish) => {
      let state: CommandState | null = null;
      if (message.answer) state = await this.answer(tx, device, message.answer, nowMs);
      if (message.override) await this.override(publish, device, message.override.untilMs);
      return { commandId: message.answer?.commandId ?? null, state, override: message.override !== undefined };
    });
  }

  private async answer(tx: Queryable, device: CommandDevice, answer: NonNullable<AckMessage['answer']>, nowMs: number): Promise<CommandState> {
    const command = await commandById(tx, answer.commandId);
    if (!command) throw new NotFoundError('command');
    if (command.deviceId !== device.id) throw new ForbiddenError('this command is for another device; a device answers only its own commands');
    const outcome = acknowledge(command, answer.result, nowMs);
    if (outcome.kind === 'unchanged') return outcome.state;
    const closed = outcome.kind === 'apply'
      ? await closeCommand(tx, command.id, outcome.state, answer.result === 'rejected' ? answer.reason : null, nowMs)
      : await closeCommand(tx, command.id, 'expired', null, nowMs);
    // Closed meanwhile by something else (its successor, the expiry job): that state stands.
    return closed?.state ?? (await commandById(tx, command.id))!.state;
  }

  private override(publish: Publish, device: CommandDevice, untilMs: number | null): Promise<void> {
    return publish('device.override', { communityId: device.communityId, deviceId: device.id, untilMs, source: 'device' });
  }

  /** The HTTP acknowledgement: a malformed one is a 400 naming the field, and changes nothing. */
  async acknowledgeBody(device: CommandDevice, body: unknown): Promise<AckAnswer> {
    let message: AckMessage;
    try {
      message = validateAck(body);
    } catch (error) {
      if (error instanceof AckRefused) throw new BadRequestError(`body/${error.field}: ${error.message}`, `body/${error.field}`);
      throw error;
    }
    return this.acknowledge(device, message);
  }

  /**
   * An MQTT acknowledgement (`devices/{id}/commands/ack`, the device's own topic). A refused one
   * (malformed, not its command, unknown) changes nothing and is logged; it is still acknowledged to
   * the broker, as resending could never succeed. A database failure rejects: no PUBACK, it comes again.
   */
  async mqttAck(device: CommandDevice, payload: Uint8Array): Promise<void> {
    try {
      await this.acknowledge(device, parseAckPayload(payload));
    } catch (error) {
      if (!(error instanceof AckRefused || error instanceof DomainError)) throw error;
      this.options.log(`gridshare: acknowledgement from device ${device.id} refused: ${error.message}`);
    }
  }

  /** Open commands (queued, sent) per state over the installation, for `/metrics`. */
  countOpenByState(): Promise<Map<CommandState, number>> {
    return openCommandsByState(this.options.db);
  }

  /** A community's commands with their delivery: every device's for its managers, their own devices' for members. */
  async list(principal: Principal, communityId: string, query: { state?: CommandState | undefined; deviceId?: string | undefined; limit: number; offset: number }): Promise<{ items: CommandView[]; total: number }> {
    const devices = await listDevices(this.options.db, principal, communityId);
    const page = await listCommands(this.options.db, communityId, {
      deviceIds: isManagerOf(principal, communityId) ? undefined : devices.map((d) => d.id),
      deviceId: query.deviceId, state: query.state, limit: query.limit, offset: query.offset,
    });
    return { items: page.items.map(commandView), total: page.total };
  }
}
