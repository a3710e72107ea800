import { randomUUID } from 'node:crypto';
import type { FlexIdentity, FlexMessage, FlexParticipant } from '@gridshare/contract/flex';
import type { Db } from '../platform/store/db.js';
import type { EventPublisher, Publish } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import type { Principal } from '../kernel/principal.js';
import { BadRequestError, ConflictError, NotFoundError } from '../kernel/errors.js';
import { requireCommunityManager } from '../registry/index.js';
import type { SecretBox } from '../secrets/index.js';
import { generateSigningKey, secretKeyBytes } from './domain/uftp/envelope.js';
import type { UftpRole } from './domain/uftp/messages.js';
import {
  deleteParticipant, deliveriesOf, identityOfCommunity, messagesOfCommunity, participantById, participantsOfCommunity, saveParticipant, upsertIdentity,
  type StoredIdentity, type StoredParticipant,
} from './store.js';
import { signingKeyPlace } from './transport.js';

/** The path participants POST to, under the installation's public URL. */
export const UFTP_ENDPOINT_PATH = '/shapeshifter/api/v3/message';

export interface ParticipantInput {
  domain: string;
  role: UftpRole;
  endpoint: string;
  publicKeys: string[];
  barred: boolean;
  congestionPoints: string[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * What managers do with the transport: the community's identity, its address book, its messages.
 * Each change is on the audit trail (kind `flex`) in its own transaction; the identity as its view
 * shows it (never the sealed signing key), participants as the API shows them.
 */
export class FlexAdmin {
  constructor(private readonly options: { db: Db; events: EventPublisher; box: SecretBox; now: () => number; publicUrl: () => string }) {}

  async identity(principal: Principal, communityId: string): Promise<FlexIdentity> {
    await requireCommunityManager(this.options.db, principal, communityId);
    const identity = await identityOfCommunity(this.options.db, communityId);
    if (!identity) throw new NotFoundError('UFTP identity');
    return this.identityView(identity);
  }

  async setIdentity(principal: Principal, communityId: string, input: { domain: string; timeZone: string; ispDurationMinutes: number }): Promise<FlexIdentity> {
    const { db, events, box } = this.options;
    await requireCommunityManager(db, principal, communityId);
    if (!isTimeZone(input.timeZone)) throw new BadRequestError(`${input.timeZone} is not a time zone`, 'timeZone');
    return events.transaction(db, async (tx, publish) => {
      const existing = await identityOfCommunity(tx, communityId);
      const key = existing ? undefined : generateSigningKey();
      const identity: StoredIdentity = {
        communityId, domain: input.domain.toLowerCase(), timeZone: input.timeZone, ispDurationMinutes: input.ispDurationMinutes,
        signingKey: existing?.signingKey ?? box.seal(Buffer.from(secretKeyBytes(key!)).toString('base64'), signingKeyPlace(communityId)),
        publicKey: existing?.publicKey ?? Buffer.from(key!.publicKey).toString('base64'),
      };
      if (!(await upsertIdentity(tx, identity))) throw new ConflictError(`${identity.domain} is another community's UFTP domain`);
      const after = this.identityView(identity);
      await recordChange(publish, {
        kind: 'flex', communityId, resourceId: communityId, action: 'set-identity', before: existing ? this.identityView(existing) : null, after, atMs: this.options.now(),
      });
      return after;
    });
  }

  async participants(principal: Principal, communityId: string): Promise<FlexParticipant[]> {
    await requireCommunityManager(this.options.db, principal, communityId);
    return (await participantsOfCommunity(this.options.db, communityId)).map(participantView);
  }

  async addParticipant(principal: Principal, communityId: string, input: ParticipantInput): Promise<FlexParticipant> {
    await requireCommunityManager(this.options.db, principal, communityId);
    const nowMs = this.options.now();
    return this.save('add-participant', undefined, { id: randomUUID(), communityId, createdAtMs: nowMs, updatedAtMs: nowMs, ...normalised(input) });
  }

  async updateParticipant(principal: Principal, id: string, input: ParticipantInput): Promise<FlexParticipant> {
    const existing = await this.managedParticipant(principal, id);
    return this.save('update-participant', existing, { ...existing, ...normalised(input), updatedAtMs: this.options.now() });
  }

  async removeParticipant(principal: Principal, id: string): Promise<void> {
    const existing = await this.managedParticipant(principal, id);
    await this.options.events.transaction(this.options.db, async (tx, publish) => {
      if (!(await deleteParticipant(tx, id))) throw new ConflictError('flexibility contracts are made with this participant: it stays in the address book (bar it to refuse its messages)');
      await this.recordParticipant(publish, 'remove-participant', existing, undefined);
    });
  }

  async messages(principal: Principal, communityId: string, query: { conversationId?: string | undefined; limit: number }): Promise<FlexMessage[]> {
    const { db } = this.options;
    await requireCommunityManager(db, principal, communityId);
    const messages = await messagesOfCommunity(db, communityId, query);
    const deliveries = await deliveriesOf(db, messages.filter((m) => m.direction === 'out').map((m) => m.id));
    return messages.map((m) => {
      const delivery = deliveries.get(m.id);
      return {
        id: m.id, direction: m.direction, type: m.type, messageId: m.messageId, conversationId: m.conversationId, senderDomain: m.senderDomain,
        senderRole: m.senderRole, recipientDomain: m.recipientDomain, state: m.state, rejectionReason: m.rejectionReason, inReplyTo: m.inReplyTo,
        duplicateOf: m.duplicateOf, fingerprint: m.fingerprint, at: iso(m.atMs), payloadXml: m.payloadXml,
        delivery: delivery ? {
          state: delivery.state, attempts: delivery.attempts, lastError: delivery.lastError, nextAttemptAt: delivery.nextAttemptMs === null ? null : iso(delivery.nextAttemptMs),
        } : null,
      };
    });
  }

  private async managedParticipant(principal: Principal, id: string): Promise<StoredParticipant> {
    const existing = await participantById(this.options.db, id);
    if (!existing) throw new NotFoundError('participant');
    await requireCommunityManager(this.options.db, principal, existing.communityId);
    return existing;
  }

  private async save(action: 'add-participant' | 'update-participant', before: StoredParticipant | undefined, participant: StoredParticipant): Promise<FlexParticipant> {
    return this.options.events.transaction(this.options.db, async (tx, publish) => {
      if (!(await saveParticipant(tx, participant))) throw new ConflictError(`${participant.role} ${participant.domain} is in the address book already`);
      await this.recordParticipant(publish, action, before, participant);
      return participantView(participant);
    });
  }

  /** An address book entry as the API shows it (its public keys are masked on the trail like any key). */
  private async recordParticipant(publish: Publish, action: string, before: StoredParticipant | undefined, after: StoredParticipant | undefined): Promise<void> {
    const { communityId, id } = (after ?? before)!;
    await recordChange(publish, {
      kind: 'flex', communityId, resourceId: id, action, before: before ? participantView(before) : null, after: after ? participantView(after) : null, atMs: this.options.now(),
    });
  }

  private identityView(identity: StoredIdentity): FlexIdentity {
    return {
      communityId: identity.communityId, domain: identity.domain, role: 'AGR', publicKey: identity.publicKey, timeZone: identity.timeZone,
      ispDurationMinutes: identity.ispDurationMinutes, endpoint: `${this.options.publicUrl()}${UFTP_ENDPOINT_PATH}`,
    };
  }
}

function normalised(input: ParticipantInput): Omit<StoredParticipant, 'id' | 'communityId' | 'createdAtMs' | 'updatedAtMs'> {
  if (new Set(input.publicKeys).size !== input.publicKeys.length) throw new BadRequestError('the same public key is given twice', 'publicKeys');
  return {
    domain: input.domain.toLowerCase(), role: input.role, endpoint: input.endpoint, publicKeys: input.publicKeys, barred: input.barred,
    congestionPoints: [...new Set(input.congestionPoints)],
  };
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function participantView(p: StoredParticipant): FlexParticipant {
  return {
    id: p.id, communityId: p.communityId, domain: p.domain, role: p.role, endpoint: p.endpoint, publicKeys: [...p.publicKeys], barred: p.barred,
    congestionPoints: [...p.congestionPoints], createdAt: iso(p.createdAtMs), updatedAt: iso(p.updatedAtMs),
  };
}
