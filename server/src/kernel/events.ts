/**
 * The events capabilities tell each other about: their names and payloads, declared once. Each
 * payload is described by a small shape from which both its TypeScript type and a runtime check
 * derive, so an event that is stored (the outbox) and read back is checked against the same
 * declaration it was typed with. Instants are epoch milliseconds (UTC), so payloads survive JSON.
 */

/** A field of a payload: a scalar, a choice of strings, a list, or a nested object. */
type Field =
  | 'string' | 'number' | 'boolean' | 'string|null' | 'number|null'
  | { readonly oneOf: readonly string[] }
  | { readonly listOf: Field }
  | { readonly [key: string]: Field };

type Shape = { readonly [key: string]: Field };

/** The TypeScript type a field describes. */
export type TypeOf<F> =
  F extends 'string' ? string
    : F extends 'number' ? number
      : F extends 'boolean' ? boolean
        : F extends 'string|null' ? string | null
          : F extends 'number|null' ? number | null
            : F extends { readonly oneOf: readonly (infer C)[] } ? C
              : F extends { readonly listOf: infer E } ? readonly TypeOf<E>[]
                : { readonly [K in keyof F]: TypeOf<F[K]> };

const list = <F extends Field>(of: F) => ({ listOf: of }) as const;
const oneOf = <C extends string>(...choices: C[]) => ({ oneOf: choices }) as const;

/** Quarter-hour starts (epoch ms) that new readings of a metering point (of `communityId`) fall in. */
const QuarterMark = { communityId: 'string', meteringPointId: 'string', startMs: 'number' } as const;

/** One device message as committed: where it was measured and its readings. */
const CommittedReadings = {
  deviceId: 'string',
  communityId: 'string',
  meteringPointId: 'string|null',
  /** When the device was bound to that point; readings before it were measured elsewhere. */
  boundFrom: 'number|null',
  readings: list({ quantity: 'string', ts: 'string', value: 'number' }),
} as const;

export const EVENT_SHAPES = {
  /** Readings were stored (ingestion's group commit): the quarter hours they touch changed. */
  'readings.committed': { messages: list(CommittedReadings), quarters: list(QuarterMark) },
  /** A community's quarter-hour energy was recomputed and these quarter hours changed value. */
  'intervals.changed': { communityId: 'string', startsMs: list('number') },
  /** A member's part in the sharing changed from `fromMs` on (e.g. a new start date). */
  'membership.changed': { communityId: 'string', memberId: 'string', fromMs: 'number' },
  /**
   * A site changed: its physical limit (`limit`), whether it is the community battery
   * (`community-battery`), or the role of one of its devices (`device-role`, with `deviceId`).
   */
  /**
   * A site is about to be removed, published in the removing transaction: a capability that holds
   * energy recorded for it refuses (a ConflictError), since that history is billed and shared.
   */
  'site.removing': { communityId: 'string', meteringPointId: 'string' },
  'site.changed': {
    communityId: 'string', meteringPointId: 'string',
    change: oneOf('limit', 'community-battery', 'device-role'), deviceId: 'string|null',
  },
  /** A community's settings changed; `allocationFromMs` is set when its allocation rule or mode applies anew from then. */
  'community.changed': { communityId: 'string', allocationFromMs: 'number|null' },
  /**
   * A community was deleted (it left the platform): its rows went with it, except the raw readings,
   * which have no foreign key to it (ingest deletes them, durably, once the deletion committed).
   */
  'community.deleted': { communityId: 'string' },
  /** A manager decided a request to join (notifications tell the person who asked). */
  'member.decided': { communityId: 'string', memberId: 'string', decision: oneOf('approved', 'rejected'), atMs: 'number' },
  /**
   * A manager invited an address to join (again: the open invitation was renewed); notifications emails the address,
   * with a sign-up link carrying `signupToken` when the address has no account (registry keeps only its hash).
   */
  'invitation.sent': { communityId: 'string', invitationId: 'string', signupToken: 'string', atMs: 'number' },
  /** An issued invoice passed its due date unpaid (billing's reminder job, once per invoice). */
  'payment.overdue': { communityId: 'string', invoiceId: 'string', statementId: 'string', memberId: 'string', atMs: 'number' },
  /** A device of the community sent nothing since `lastSeenMs`, longer than the community's threshold (ingest; once per outage). */
  'device.offline': { communityId: 'string', deviceId: 'string', lastSeenMs: 'number', thresholdMinutes: 'number', atMs: 'number' },
  /** An invoice's payment status was recorded (by hand or from a bank statement); `reason` as recorded (failed: the return reason). */
  'payment.status.changed': {
    communityId: 'string', invoiceId: 'string', statementId: 'string', memberId: 'string', status: oneOf('open', 'paid', 'partial', 'failed'), reason: 'string|null', atMs: 'number',
  },
  /** Quarter hours of a metering point were newly quarantined (beyond its site's connection capacity); `startsMs` ascending. */
  'intervals.quarantined': { communityId: 'string', meteringPointId: 'string', startsMs: list('number') },
  /**
   * A posting took a member's market wallet below the community's low-balance threshold (once per
   * fall, not every slot after); amounts in nano units of the community's currency, exact decimal strings.
   */
  'market.wallet.low-balance': { communityId: 'string', memberId: 'string', balanceNano: 'string', thresholdNano: 'string', atMs: 'number' },
  /** A month was settled for good (for the verifiable record). */
  'settlement.closed': { communityId: 'string', settlementId: 'string', period: 'string', closedAtMs: 'number' },
  /** A statement or correction was issued to a member (for the verifiable record). */
  'statement.issued': { communityId: 'string', settlementId: 'string', statementId: 'string', memberId: 'string', sequence: 'number' },
  /**
   * The community's plan decided what controllable devices do: per device and kind, the setpoints of
   * its next steps, each valid from `validFromMs` until `expiresAtMs`. Values: `battery-power` W (+ charge, − discharge),
   * `ev-charge-power` W, `heat-pump-power` W of electric power at most, `pv-limit` W of feed-in at
   * most; `heat-pump-block` and `appliance-start` carry null (the appliance starts at `validFromMs`).
   * A later plan's commands for the same device and kind supersede the earlier plan's.
   */
  'plan.decided': {
    communityId: 'string', planId: 'string', decidedAtMs: 'number',
    commands: list({
      deviceId: 'string',
      kind: oneOf('battery-power', 'ev-charge-power', 'heat-pump-power', 'heat-pump-block', 'appliance-start', 'pv-limit'),
      value: 'number|null', validFromMs: 'number', expiresAtMs: 'number',
    }),
  },
  /** New forecasts of a community were stored (issued at `issuedAtMs`). */
  'forecast.issued': { communityId: 'string', issuedAtMs: 'number' },
  /** A device (or its member in the app) overrides the plan until `untilMs` (null: the override ended). */
  'device.override': { communityId: 'string', deviceId: 'string', untilMs: 'number|null', source: oneOf('device', 'app') },
  /**
   * A UFTP message was stored (flex): received from or sent to a grid participant, `id` the stored
   * message, `sha256` of its payload XML (the bytes signed), `signerKey` the Ed25519 public key
   * (base64) that signed it (for the verifiable record).
   */
  'flex.message.stored': {
    communityId: 'string', id: 'string', direction: oneOf('received', 'sent'), type: 'string', messageId: 'string', conversationId: 'string',
    sender: 'string', recipient: 'string', signerKey: 'string', sha256: 'string', atMs: 'number',
  },
  /**
   * The members' rewards of the orders a grid operator settled (flex), recorded when the
   * FlexSettlement was answered: per member and order, the amount in minor units of `currency`
   * (a decimal string, exact) and the measured contribution. What billing puts on statements.
   */
  'flex.rewards.recorded': {
    communityId: 'string', settlementId: 'string', currency: 'string', atMs: 'number',
    rewards: list({ memberId: 'string', orderReference: 'string', period: 'string', contributionWh: 'number', amountMinor: 'string' }),
  },
  /**
   * Commands to devices were stored (a plan's or a person's), in the storing transaction (for the
   * verifiable record: each is logged with the hash of what the device is sent).
   */
  'command.issued': { communityId: 'string', commandIds: list('string') },
  /**
   * A grid operator's message was imported (operator-import mode, for the verifiable record):
   * its sender, format, the period its figures cover, and the SHA-256 and size of the exact bytes received.
   */
  'operator-import.accepted': {
    communityId: 'string', importId: 'string', operator: 'string', format: 'string',
    periodFromMs: 'number', periodToMs: 'number', sha256: 'string', size: 'number', atMs: 'number',
  },
  /** The market cleared a slot of a community and stored its trades (for the verifiable record). */
  'market.cleared': { communityId: 'string', slotStartMs: 'number', clearedAtMs: 'number', trades: 'number' },
  /**
   * The market entered postings in a community's ledger, numbered up to `throughSequence`, in the
   * posting transaction (for the verifiable record: every posting up to it is recorded, in batches).
   */
  'market.posted': { communityId: 'string', throughSequence: 'number', atMs: 'number' },
  /**
   * The market settled slots (run 0) or corrected one (run ≥ 1) and stored their lines, in that
   * transaction (for the verifiable record: the run's positions and lines as one batch).
   */
  'market.settled': { communityId: 'string', run: 'number', slotsMs: list('number'), atMs: 'number' },
  /**
   * A member granted or revoked a consent to share their data (for the verifiable record); the
   * recipient as its kind and id, `validUntilMs` when it lapses on its own, `digest` the SHA-256
   * of the grant's canonical terms (never its data).
   */
  'consent.changed': {
    communityId: 'string', grantId: 'string', grantorMemberId: 'string', recipientKind: 'string', recipientId: 'string',
    purpose: 'string', state: oneOf('granted', 'revoked'), validUntilMs: 'number', digest: 'string', atMs: 'number',
  },
  /**
   * A person changed something (the audit trail): published in the transaction of the change, so
   * the trail and the change commit together. `diff` is already masked (secrets and personal fields
   * never travel); its values are JSON text, null where the path was absent. Built by audit's
   * `recordChange`, never by hand. `communityId` is null for installation-wide changes.
   */
  'change.recorded': {
    atMs: 'number', communityId: 'string|null',
    kind: oneOf('community', 'tariff', 'sharing-rule', 'share', 'member', 'device', 'settlement', 'quota', 'consent', 'role',
      'metering-point', 'invitation', 'device-batch', 'connector', 'market', 'wallet', 'retention', 'erasure',
      'account', 'job', 'key', 'coefficients', 'co2-intensity', 'weather-source', 'plan-objective', 'device-control', 'appliance-request', 'agent-limits', 'flex', 'command', 'operator-import', 'masking',
      'billing-profile', 'billing-details', 'sepa-mandate', 'payment'),
    resourceId: 'string', action: 'string',
    actorUserId: 'string|null', actorRole: oneOf('admin', 'manager', 'member', 'user', 'system'), subjectMemberId: 'string|null',
    clientAddress: 'string|null', userAgent: 'string|null', requestId: 'string|null',
    diff: list({ path: 'string', before: 'string|null', after: 'string|null' }),
  },
} as const satisfies Record<string, Shape>;

export type EventName = keyof typeof EVENT_SHAPES;
export type EventPayload<N extends EventName> = TypeOf<(typeof EVENT_SHAPES)[N]>;
export type CommittedReadings = TypeOf<typeof CommittedReadings>;
export type QuarterMark = TypeOf<typeof QuarterMark>;
/** One command of a decided plan. */
export type PlanCommand = EventPayload<'plan.decided'>['commands'][number];
export type PlanCommandKind = PlanCommand['kind'];

export const isEventName = (name: string): name is EventName => Object.hasOwn(EVENT_SHAPES, name);

/** Why `value` is not a payload of event `name` (the first problem found), or undefined when it is one. */
export function payloadProblem(name: EventName, value: unknown): string | undefined {
  return fieldProblem(EVENT_SHAPES[name], value, 'payload');
}

// No payload shape has a key named `oneOf` or `listOf`, so these tell the kinds of field apart.
const isChoice = (field: object): field is { readonly oneOf: readonly string[] } => Array.isArray((field as { oneOf?: unknown }).oneOf);
const isList = (field: object): field is { readonly listOf: Field } => Object.hasOwn(field, 'listOf');

function fieldProblem(field: Field, value: unknown, path: string): string | undefined {
  switch (field) {
    case 'string': return typeof value === 'string' ? undefined : `${path} must be a string`;
    case 'number': return typeof value === 'number' && Number.isFinite(value) ? undefined : `${path} must be a finite number`;
    case 'boolean': return typeof value === 'boolean' ? undefined : `${path} must be a boolean`;
    case 'string|null': return value === null ? undefined : fieldProblem('string', value, path);
    case 'number|null': return value === null ? undefined : fieldProblem('number', value, path);
  }
  if (isChoice(field)) {
    return field.oneOf.includes(value as string) ? undefined : `${path} must be one of ${field.oneOf.join(', ')}`;
  }
  if (isList(field)) {
    if (!Array.isArray(value)) return `${path} must be a list`;
    for (let i = 0; i < value.length; i++) {
      const problem = fieldProblem(field.listOf, value[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${path} must be an object`;
  const shape = field as Shape;
  for (const key of Object.keys(value)) if (!Object.hasOwn(shape, key)) return `${path}.${key} is not expected`;
  for (const [key, inner] of Object.entries(shape)) {
    const problem = fieldProblem(inner, (value as Record<string, unknown>)[key], `${path}.${key}`);
    if (problem) return problem;
  }
  return undefined;
}
