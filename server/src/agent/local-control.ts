import { admitSetpoint, answerOf, checkCommand, type CommandAnswer, type SetpointCommand } from './domain/commands.js';
import { controlMode, type ControlMode } from './domain/fallback.js';
import { deviceFor, type LocalDevice } from './domain/local-devices.js';
import { dueActions, parseSchedule, stillWanted, superseded, withAction, withoutAction, type ScheduledAction } from './domain/schedule.js';
import { openLocalDevice, type Controller, type Outcome } from './devices/index.js';
import type { AgentConfig } from './domain/config.js';
import type { LogLevel } from './domain/log-level.js';
import type { Logger } from './log.js';
import type { OutboxStore } from './store.js';
import type { Uplink } from './uplink.js';

/** Answers remembered (ids answered once are answered the same again, never carried out twice). */
const REMEMBERED_ANSWERS = 1_000;
const TICK_MS = 1_000;

export interface ControlState {
  readonly mode: ControlMode;
  readonly acknowledged: number;
  readonly rejected: number;
  readonly lastCommandAt: string | null;
  readonly pendingAnswers: number;
}

/**
 * The agent's local devices: read on their interval into the queue, and controlled by the
 * platform's commands (checked, written through the connectors' adapters, answered), or put
 * into their safe state when the platform has been out of reach for too long.
 */
export class LocalControl {
  private readonly answers: Map<string, CommandAnswer>;
  private readonly latestIssued: Record<string, number>;
  /** Answers not sent yet, kept in the queue's `meta` so a restart sends them still. */
  private readonly pending: string[];
  /** Commands to carry out at their validFrom and set-points to revert at expiry, kept in the queue's `meta`. */
  private scheduled: ScheduledAction[];
  private readonly controllers = new Map<string, Controller>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private lastContactMs: number;
  private mode: ControlMode = 'following';
  /** Devices whose safe state still has to be written (a failed write is tried again each tick). */
  private unsafe = new Set<string>();
  private counts = { acknowledged: 0, rejected: 0, lastCommandAtMs: undefined as number | undefined };
  private ticks = 0;
  private busy: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly config: AgentConfig,
    private readonly store: OutboxStore,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly setLogLevel: (level: LogLevel) => void,
  ) {
    this.answers = new Map(JSON.parse(store.meta('commandAnswers') ?? '[]') as [string, CommandAnswer][]);
    this.latestIssued = JSON.parse(store.meta('latestIssued') ?? '{}') as Record<string, number>;
    this.pending = JSON.parse(store.meta('pendingAnswers') ?? '[]') as string[];
    this.scheduled = parseSchedule(store.meta('scheduled'));
    this.lastContactMs = now();
    // A setup the kind cannot carry out stops the start, naming its place in agent.json.
    config.agent.connectors.forEach((device, index) => this.controllers.set(device.name, openLocalDevice(device, index)));
  }

  /** The uplink is given this before it starts. */
  attach(uplink: Uplink): void {
    this.uplink = uplink;
  }

  private uplink: Uplink | undefined;

  start(): void {
    for (const device of this.config.agent.connectors) {
      if (device.intervalSeconds > 0) this.every(device.intervalSeconds * 1000, () => this.read(device));
    }
    this.every(TICK_MS, () => this.tick());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.busy;
  }

  /** The platform answered (MQTT connection, PUBACK, HTTP). */
  contact(): void {
    this.lastContactMs = this.now();
  }

  get state(): ControlState {
    return {
      mode: this.mode,
      acknowledged: this.counts.acknowledged,
      rejected: this.counts.rejected,
      lastCommandAt: this.counts.lastCommandAtMs === undefined ? null : new Date(this.counts.lastCommandAtMs).toISOString(),
      pendingAnswers: this.pending.length,
    };
  }

  /** A command from MQTT or a poll; commands are handled one at a time, in the order they came. */
  receive(payload: string): Promise<void> {
    const next = this.busy.then(() => this.handle(payload)).catch((error: Error) => this.log.error(`command: ${error.message}`));
    this.busy = next;
    return next;
  }

  /** One pass: the fallback decision, what is due (a validFrom, an expiry), answers not yet sent, a poll when MQTT is blocked. */
  tick(): Promise<void> {
    const next = this.busy.then(async () => {
      if (this.uplink?.mqttConnected) this.contact();
      await this.fallback();
      await this.runDue();
      await this.flushAnswers();
      this.ticks += 1;
      if (this.uplink && !this.uplink.mqttConnected && this.ticks % Math.max(1, Math.round(this.config.agent.control.pollSeconds * 1000 / TICK_MS)) === 0) {
        const commands = await this.uplink.pollCommands();
        for (const command of commands ?? []) await this.handle(command);
      }
    }).catch((error: Error) => this.log.error(`control: ${error.message}`));
    this.busy = next;
    return next;
  }

  private async handle(payload: string): Promise<void> {
    // A command came, so the platform is there.
    this.contact();
    await this.fallback();
    const nowMs = this.now();
    const check = checkCommand(payload, nowMs, new Set(this.answers.keys()));
    if (!check.ok && check.reason === 'duplicate') {
      // Delivered again (our answer was lost, or the platform retried): the same answer, nothing written.
      this.log.debug(check.message);
      const earlier = this.answers.get(check.id!);
      if (earlier) await this.send(earlier);
      return;
    }
    if (check.ok && check.command.type === 'set-log-level') {
      this.setLogLevel(check.command.level);
      this.log.info(`log level set to ${check.command.level} by command ${check.command.id}`);
      this.remember(check.command.id, undefined);
      return;
    }
    if (!check.ok) {
      this.log.warn(`command refused (${check.reason}): ${check.message}`);
      const answer = answerOf(check);
      if (answer) await this.conclude(answer);
      return;
    }
    await this.carryOut(check.command as SetpointCommand, nowMs);
  }

  private async carryOut(command: SetpointCommand, nowMs: number): Promise<void> {
    const device = deviceFor(this.config.agent.connectors, command.kind);
    const controller = device && this.controllers.get(device.name);
    const admitted = admitSetpoint(command, controller?.capabilities[command.kind], this.latestIssued[command.kind]);
    if (!admitted.ok || !device || !controller) {
      this.log.warn(`command refused: ${admitted.ok ? 'no device' : admitted.message}`);
      await this.conclude(answerOf(admitted)!);
      return;
    }
    if (command.validFromMs > nowMs) {
      // Accepted now, carried out when it becomes valid (an appliance start, a plan's next quarter hour).
      this.took(command);
      this.plan({ atMs: command.validFromMs, action: 'carry-out', command });
      await this.conclude({ commandId: command.id, result: 'acknowledged' });
      return;
    }
    const outcome = await this.report(device, await controller.carryOut(command, nowMs), `command ${command.id}`);
    if (outcome.ok) {
      this.took(command);
      this.planRevert(controller, command);
    }
    await this.conclude(outcome.ok
      ? { commandId: command.id, result: 'acknowledged' }
      : { commandId: command.id, result: 'rejected', reason: `device: ${outcome.error}`.slice(0, 500) });
  }

  /** The command is the one its kind follows now: what earlier ones of its kind left to do goes. */
  private took(command: SetpointCommand): void {
    this.latestIssued[command.kind] = command.issuedAtMs;
    this.store.setMeta('latestIssued', JSON.stringify(this.latestIssued));
    this.setSchedule(superseded(this.scheduled, command.kind, command.issuedAtMs));
  }

  private planRevert(controller: Controller, command: SetpointCommand): void {
    if (controller.revertAtExpiry?.(command.kind)) this.plan({ atMs: command.expiresAtMs, action: 'revert', command });
  }

  private plan(item: ScheduledAction): void {
    this.setSchedule(withAction(this.scheduled, item));
  }

  private setSchedule(list: ScheduledAction[]): void {
    this.scheduled = list;
    this.store.setMeta('scheduled', JSON.stringify(list));
  }

  /** Carries out what has come due; a revert that could not be written is tried again next tick. */
  private async runDue(): Promise<void> {
    for (const item of dueActions(this.scheduled, this.now())) {
      if (this.stopped) return;
      const { command } = item;
      const wanted = stillWanted(item, this.now(), this.mode, this.latestIssued[command.kind]);
      const device = deviceFor(this.config.agent.connectors, command.kind);
      const controller = device && this.controllers.get(device.name);
      if (!wanted.run || !device || !controller) {
        this.log.debug(`command ${command.id}: ${item.action} left out: ${wanted.run ? 'no device takes it now' : wanted.why}`);
        this.setSchedule(withoutAction(this.scheduled, item));
        continue;
      }
      if (item.action === 'carry-out') {
        const outcome = this.report(device, await controller.carryOut(command, this.now()), `command ${command.id}`);
        this.setSchedule(withoutAction(this.scheduled, item));
        if (outcome.ok) this.planRevert(controller, command);
        continue;
      }
      const revert = controller.revertAtExpiry?.(command.kind);
      if (!revert || this.report(device, await revert(), `command ${command.id} expired`).ok) this.setSchedule(withoutAction(this.scheduled, item));
    }
  }

  private report(device: LocalDevice, outcome: Outcome, why: string): Outcome {
    if (outcome.ok) this.log.info(`${device.name}: ${outcome.written.join(', ')} (${why})`);
    else this.log.warn(`${device.name}: ${why} not carried out: ${outcome.error}`);
    return outcome;
  }

  private async conclude(answer: CommandAnswer): Promise<void> {
    if (answer.result === 'acknowledged') this.counts.acknowledged += 1;
    else this.counts.rejected += 1;
    this.counts.lastCommandAtMs = this.now();
    this.remember(answer.commandId, answer);
    await this.send(answer);
  }

  private remember(id: string, answer: CommandAnswer | undefined): void {
    // A log-level command has no answer but its id is remembered all the same.
    this.answers.set(id, answer ?? { commandId: id, result: 'acknowledged' });
    while (this.answers.size > REMEMBERED_ANSWERS) this.answers.delete(this.answers.keys().next().value!);
    this.store.setMeta('commandAnswers', JSON.stringify([...this.answers]));
  }

  private async send(answer: CommandAnswer): Promise<void> {
    const body = JSON.stringify(answer);
    if (await this.uplink?.answer(body)) return;
    this.pending.push(body);
    this.store.setMeta('pendingAnswers', JSON.stringify(this.pending));
  }

  private async flushAnswers(): Promise<void> {
    while (this.pending.length > 0 && this.uplink && !this.stopped) {
      if (!(await this.uplink.answer(this.pending[0]!))) return;
      this.pending.shift();
      this.store.setMeta('pendingAnswers', JSON.stringify(this.pending));
    }
  }

  private async fallback(): Promise<void> {
    const mode = controlMode(this.lastContactMs, this.now(), this.config.agent.control.fallbackAfterSeconds);
    if (mode !== this.mode) {
      this.log.warn(mode === 'safe'
        ? `no contact with the platform for more than ${this.config.agent.control.fallbackAfterSeconds} s: local devices go to their safe state`
        : 'the platform is reachable again: following its commands');
      this.mode = mode;
      this.unsafe = new Set(mode === 'safe' ? this.config.agent.connectors.filter((d) => this.controllers.get(d.name)?.safe).map((d) => d.name) : []);
    }
    for (const device of this.config.agent.connectors) {
      const safe = this.unsafe.has(device.name) ? this.controllers.get(device.name)?.safe : undefined;
      if (safe && this.report(device, await safe(), 'safe state').ok) this.unsafe.delete(device.name);
    }
  }

  /** Reads a local device into the queue, as the agent's own readings, stamped with the time of the read. */
  private async read(device: LocalDevice): Promise<void> {
    const report = await this.controllers.get(device.name)!.read(Date.now());
    if (report.error) this.log.warn(`${device.name}: ${report.error}`);
    if (report.readings.length === 0) return;
    const readings = report.readings;
    this.store.append('readings', Math.min(...readings.map((r) => Date.parse(r.ts))), readings.length, JSON.stringify(readings));
    this.uplink?.nudge();
  }

  private every(ms: number, work: () => Promise<void>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running || this.stopped) return;
      running = true;
      void work().finally(() => { running = false; });
    }, ms);
    this.timers.add(timer);
  }
}
