import { createHash, randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPublisher, Publish } from '../platform/events/index.js';
import { sealedPlace, type SecretBox } from '../secrets/index.js';
import { UftpTransportError } from './domain/uftp/errors.js';
import { parsePublicKey, readSignedMessage, seal, signingKeyFromSecret, unseal, writeSignedMessage, type SigningKey } from './domain/uftp/envelope.js';
import { fingerprintOf, isSimplyAnswered, openSignedMessage, readPayload, respondTo, sealMessage, type IncomingMessage, type Participant, type SchemaValidator } from './domain/uftp/inbound.js';
import { maySend, type FlexRequest, type UftpMessage } from './domain/uftp/messages.js';
import { checkDuplicate, judgeIncoming, referenceOf, type StoredReference, type Verdict } from './domain/rejections.js';
import { rejectionReasonText } from './domain/rejection-reasons.js';
import { judgeAttempt, RETRY_WINDOW_MS, type AttemptResult } from './domain/delivery.js';
import { answerSettlement, directOrderContext, unsettledOrders } from './settle.js';
import { requestActivations } from './activations.js';
import { applyPortfolioQueryResponse } from './portfolio.js';
import {
  dueDeliveries, firstOfSender, identityOfCommunity, identityOfDomain, insertDuplicate, insertFirstMessage, messageByUftpId, participantsNamed, participantsOfCommunity,
  queueDelivery, recordAttempt, replyTo, setMessageState, type Delivery, type MessageState, type StoredIdentity, type StoredMessage, type StoredParticipant,
} from './store.js';

export const FLEX_OUTBOX_JOB = 'flex outbox';

export interface TransportOptions {
  readonly db: Db;
  readonly events: EventPublisher;
  readonly box: SecretBox;
  /** The compiled UFTP schemas (compiled on first use). */
  readonly schemas: () => SchemaValidator;
  readonly now: () => number;
  /** Wakes the outbox job after messages were queued. */
  readonly wake: () => void;
  /** How long one POST to a participant may take before it counts as no answer (default 20 s). */
  readonly sendTimeoutMs?: number;
  /**
   * Whether an accepted FlexRequest is answered by the validate phase rather than here (it then
   * answers Accepted with a FlexOffer, or Rejected with why nothing can be offered); asked in the
   * receiving transaction. `wakeValidation` runs after it commits.
   */
  readonly validation?: {
    answersLater(tx: Queryable, communityId: string, participantId: string, request: FlexRequest): Promise<boolean>;
    wake(): void;
  };
}

/** A message to send, and the stored incoming message it answers (if it is an answer). */
export interface Outgoing {
  readonly message: UftpMessage;
  readonly inReplyTo?: string;
}

/** The place of a community's sealed signing key (associated data of the seal). */
export const signingKeyPlace = (communityId: string) => sealedPlace('flex_identities', 'signing_key', communityId);

const asParticipant = (p: StoredParticipant): Participant => ({ domain: p.domain, role: p.role, publicKeys: p.publicKeys.map(parsePublicKey), barred: p.barred });
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The UFTP transport of the community as aggregator: opens incoming SignedMessages, stores each
 * one, judges it with the pure rejection checks and answers with a separate signed message through
 * the outbox; seals, stores and queues what Gridshare sends; and delivers the outbox with retries.
 */
export class UftpTransport {
  constructor(private readonly options: TransportOptions) {}

  /**
   * One POSTed SignedMessage. Refusals before the message is known to be authentic and valid are
   * thrown as UftpTransportError (HTTP status); everything after is stored and answered in UFTP.
   */
  async receive(body: Uint8Array): Promise<void> {
    const { db } = this.options;
    const envelope = readSignedMessage(body);
    const candidates = await participantsNamed(db, envelope.senderDomain, envelope.senderRole);
    if (candidates.length === 0) throw new UftpTransportError('unknown_sender', `${envelope.senderRole} ${envelope.senderDomain} is not in the address book`);
    const schemas = this.options.schemas();
    // The envelope names no recipient: the sender's keys of every community that knows it open the
    // payload, whose RecipientDomain then names the community — whose own entry must verify it too.
    const merged: Participant = {
      domain: envelope.senderDomain, role: envelope.senderRole,
      publicKeys: candidates.flatMap((c) => c.publicKeys.map(parsePublicKey)), barred: candidates.every((c) => c.barred),
    };
    const incoming = openSignedMessage(body, [merged], schemas);
    const identity = await identityOfDomain(db, incoming.message.recipientDomain);
    if (!identity) throw new UftpTransportError('invalid_message', `RecipientDomain ${incoming.message.recipientDomain} is not served here`);
    const sender = candidates.find((c) => c.communityId === identity.communityId);
    if (!sender) throw new UftpTransportError('unknown_sender', `${envelope.senderRole} ${envelope.senderDomain} is not in the address book of ${identity.domain}`);
    if (sender.barred) throw new UftpTransportError('barred_sender', `${envelope.senderRole} ${envelope.senderDomain} is barred`);
    // The community's own entry must verify it too; which of its keys did goes into the record.
    const signerKey = sender.publicKeys.find((key) => verifies(envelope.body, key));
    if (signerKey === undefined) throw new UftpTransportError('bad_signature', `the signature is not one of ${envelope.senderDomain}'s keys in the address book of ${identity.domain}`);
    await this.store(identity, sender, incoming, signerKey, schemas);
  }

  private async store(identity: StoredIdentity, sender: StoredParticipant, incoming: IncomingMessage, signerKey: string, schemas: SchemaValidator): Promise<void> {
    const { db, events } = this.options;
    const nowMs = this.options.now();
    const { message } = incoming;
    let queued = false;
    let validate = false;
    await events.transaction(db, async (tx, publish) => {
      const addressBook = (await participantsOfCommunity(tx, identity.communityId)).map(asParticipant);
      const stored: StoredMessage = {
        id: randomUUID(), communityId: identity.communityId, direction: 'in', type: message.type, messageId: message.messageId, conversationId: message.conversationId,
        senderDomain: message.senderDomain, senderRole: incoming.signedBy.role, recipientDomain: message.recipientDomain, payloadXml: incoming.payloadXml,
        fingerprint: incoming.fingerprint, state: 'accepted', rejectionReason: null, inReplyTo: null, duplicateOf: null, atMs: nowMs,
      };
      const earlier = await firstOfSender(tx, identity.communityId, message.senderDomain, message.messageId);
      if (earlier) {
        const duplicate = checkDuplicate(incoming.fingerprint, earlier);
        const reason = duplicate === 'already_submitted' ? null : rejectionReasonText([duplicate!]);
        await insertDuplicate(tx, { ...stored, rejectionReason: reason }, earlier.id);
        await this.published(publish, stored, signerKey);
        if (reason === null) {
          // Answered as before: the earlier answer is delivered again, nothing is processed anew.
          const answer = await replyTo(tx, earlier.id);
          if (answer) queued = await this.queueAgain(tx, answer, sender, nowMs);
          return;
        }
        queued = await this.answer(tx, publish, identity, sender, incoming, stored.id, reason, nowMs);
        return;
      }

      const named = referenceOf(message);
      const referenced = named && await messageByUftpId(tx, identity.communityId, named.type, named.messageId);
      const reference: StoredReference | undefined = referenced && {
        message: readPayload(referenced.payloadXml, schemas),
        revoked: referenced.state === 'revoked',
        ordered: referenced.state === 'ordered',
      };
      const verdict: Verdict = judgeIncoming(incoming, {
        nowMs,
        self: { domains: [identity.domain], role: 'AGR' },
        market: { ispDurationMinutes: identity.ispDurationMinutes, timeZone: identity.timeZone },
        addressBook,
        congestionPoints: sender.congestionPoints,
        reference,
        ...(message.type === 'FlexSettlement' ? { unsettledOrders: await unsettledOrders(tx, identity.communityId, sender.domain, schemas) } : {}),
        ...(message.type === 'FlexOrder' && message.flexOfferMessageId === undefined ? await directOrderContext(tx, identity.communityId, sender, message, schemas) : {}),
      });
      const reason = verdict.outcome === 'reject' ? verdict.reason : null;
      const state: MessageState = reason === null ? 'accepted' : 'rejected';
      if (!(await insertFirstMessage(tx, { ...stored, state, rejectionReason: reason }))) throw new UftpTransportError('invalid_message', `MessageID ${message.messageId} is being received twice at once`);
      await this.published(publish, stored, signerKey);
      if (reason === null && referenced) await this.followUp(tx, identity.communityId, message, referenced, nowMs);
      const { validation } = this.options;
      if (reason === null && message.type === 'FlexRequest' && validation && await validation.answersLater(tx, identity.communityId, sender.id, message)) {
        validate = true;
        return;
      }
      queued = await this.answer(tx, publish, identity, sender, incoming, stored.id, reason, nowMs);
    });
    if (queued) this.options.wake();
    if (validate) this.options.validation?.wake();
  }

  /** What an accepted message changes in the one it refers to: an order buys its offer, a response settles what it answers. */
  private async followUp(tx: Queryable, communityId: string, message: UftpMessage, referenced: StoredMessage, nowMs: number): Promise<void> {
    if (message.type === 'FlexOrder') {
      await setMessageState(tx, referenced.id, 'ordered', ['queued', 'sent', 'accepted']);
      // Members whose devices the plan may not control are asked to move by hand, before the order's ISPs.
      await requestActivations(tx, communityId, message, nowMs);
    } else if ('result' in message && referenced.direction === 'out') {
      await setMessageState(tx, referenced.id, message.result === 'Accepted' ? 'accepted' : 'rejected', ['queued', 'sent', 'failed']);
      // The CRO's answer to our portfolio query: the congestion points behind our connections.
      if (message.type === 'AGRPortfolioQueryResponse' && message.result === 'Accepted') await applyPortfolioQueryResponse(tx, communityId, message, nowMs);
    }
  }

  /**
   * The Accepted or Rejected response to a message that has a plain one, sealed, stored and
   * queued; a FlexSettlement is answered per order by the settle phase (settle.ts). A message whose
   * answer carries other content (a portfolio query's) is stored and judged here, and answered by
   * the phase that owns that content.
   */
  private async answer(
    tx: Queryable, publish: Publish, identity: StoredIdentity, sender: StoredParticipant, incoming: IncomingMessage, inReplyTo: string, reason: string | null, nowMs: number,
  ): Promise<boolean> {
    const { message } = incoming;
    if (message.type === 'FlexSettlement') {
      const response = await answerSettlement(tx, publish, {
        identity, sender, settlement: message, settlementId: inReplyTo, rejectionReason: reason, ids: { messageId: randomUUID(), nowMs }, schemas: this.options.schemas(),
      });
      await this.sendIn(tx, publish, identity, sender, { ...response, recipientDomain: incoming.signedBy.domain }, inReplyTo, nowMs);
      return true;
    }
    if (!isSimplyAnswered(message.type)) return false;
    const response = respondTo(message as Extract<UftpMessage, { type: typeof message.type }>, { messageId: randomUUID(), nowMs }, reason ?? undefined);
    // A message for another role (a DSOPortfolioUpdate meant for the CRO) is stored as rejected; its
    // response is its real recipient's to send, so it is not answered (sealing it as AGR would fail).
    if (!maySend(response.type, 'AGR')) return false;
    // A message that claims another sender than the one who signed it is answered to the signer.
    await this.sendIn(tx, publish, identity, sender, { ...response, recipientDomain: incoming.signedBy.domain }, inReplyTo, nowMs);
    return true;
  }

  /** Seals, stores and queues a message from the community to a participant of its address book (later phases send through this). */
  async send(communityId: string, message: UftpMessage): Promise<StoredMessage> {
    const [sent] = await this.sendAll(communityId, [{ message }]);
    return sent!;
  }

  /**
   * Several messages in one transaction (an answer and the offer that follows it), each to its
   * RecipientDomain; `alongside` writes what the sending phase keeps about them in the same
   * transaction, so either all of it is stored and queued or none.
   */
  async sendAll(communityId: string, outgoing: readonly Outgoing[], alongside?: (tx: Queryable) => Promise<void>): Promise<StoredMessage[]> {
    const { db, events } = this.options;
    const nowMs = this.options.now();
    const sent = await events.transaction(db, async (tx, publish) => {
      const identity = await identityOfCommunity(tx, communityId);
      if (!identity) throw new UftpTransportError('invalid_message', 'the community has no UFTP identity');
      const book = await participantsOfCommunity(tx, communityId);
      const stored: StoredMessage[] = [];
      for (const { message, inReplyTo } of outgoing) {
        const recipient = book.find((p) => p.domain === message.recipientDomain && !p.barred);
        if (!recipient) throw new UftpTransportError('unknown_sender', `${message.recipientDomain} is not in the community's address book`);
        stored.push(await this.sendIn(tx, publish, identity, recipient, message, inReplyTo ?? null, nowMs));
      }
      await alongside?.(tx);
      return stored;
    });
    this.options.wake();
    return sent;
  }

  private async sendIn(
    tx: Queryable, publish: Publish, identity: StoredIdentity, recipient: StoredParticipant, message: UftpMessage, inReplyTo: string | null, nowMs: number,
  ): Promise<StoredMessage> {
    const outgoing = { ...message, senderDomain: identity.domain };
    const sealed = sealMessage(outgoing, this.signingKey(identity), 'AGR');
    const stored: StoredMessage = {
      id: randomUUID(), communityId: identity.communityId, direction: 'out', type: message.type, messageId: message.messageId, conversationId: message.conversationId,
      senderDomain: identity.domain, senderRole: 'AGR', recipientDomain: message.recipientDomain, payloadXml: sealed.payloadXml,
      fingerprint: fingerprintOf(outgoing), state: 'queued', rejectionReason: null, inReplyTo, duplicateOf: null, atMs: nowMs,
    };
    if (!(await insertFirstMessage(tx, stored))) throw new UftpTransportError('invalid_message', `MessageID ${message.messageId} was sent before`);
    await queueDelivery(tx, {
      id: randomUUID(), messageId: stored.id, communityId: identity.communityId, endpoint: recipient.endpoint, signedXml: sealed.signedXml, attempts: 0, retryUntilMs: nowMs + RETRY_WINDOW_MS,
    }, nowMs);
    await this.published(publish, stored, identity.publicKey);
    return stored;
  }

  /** Delivers an answer sent before once more (to a repeated message); signed again from the stored payload (Ed25519 signs deterministically: the same bytes as before). */
  private async queueAgain(tx: Queryable, answer: StoredMessage, recipient: StoredParticipant, nowMs: number): Promise<boolean> {
    const identity = await identityOfCommunity(tx, answer.communityId);
    if (!identity) return false;
    const body = seal(new TextEncoder().encode(answer.payloadXml), this.signingKey(identity));
    const signedXml = writeSignedMessage({ senderDomain: answer.senderDomain, senderRole: 'AGR', body });
    await queueDelivery(tx, {
      id: randomUUID(), messageId: answer.id, communityId: answer.communityId, endpoint: recipient.endpoint, signedXml, attempts: 0, retryUntilMs: nowMs + RETRY_WINDOW_MS,
    }, nowMs);
    return true;
  }

  private signingKey(identity: StoredIdentity): SigningKey {
    return signingKeyFromSecret(this.options.box.open(identity.signingKey, signingKeyPlace(identity.communityId)));
  }

  private async published(publish: Publish, m: StoredMessage, signerKey: string): Promise<void> {
    await publish('flex.message.stored', {
      communityId: m.communityId, id: m.id, direction: m.direction === 'in' ? 'received' : 'sent', type: m.type, messageId: m.messageId,
      conversationId: m.conversationId, sender: m.senderDomain, recipient: m.recipientDomain, signerKey, sha256: sha256(m.payloadXml), atMs: m.atMs,
    });
  }

  /** One pass of the outbox: POSTs what is due (of the communities this runner leased) and records each outcome. */
  async deliverDue(lease: (units: readonly string[]) => Promise<string[]>, limit = 50): Promise<{ done: number; more: boolean }> {
    const { db } = this.options;
    const due = await dueDeliveries(db, this.options.now(), limit);
    const leased = new Set(await lease([...new Set(due.map((d) => d.communityId))]));
    const mine = due.filter((d) => leased.has(d.communityId));
    await Promise.all(mine.map((delivery) => this.deliver(delivery)));
    return { done: mine.length, more: due.length === limit };
  }

  private async deliver(delivery: Delivery): Promise<void> {
    const result = await post(delivery.endpoint, delivery.signedXml, this.options.sendTimeoutMs ?? 20_000);
    const nowMs = this.options.now();
    const outcome = judgeAttempt(result, delivery.attempts, nowMs, delivery.retryUntilMs);
    const { db } = this.options;
    await db.transaction(async (tx) => {
      if (outcome.state === 'pending') {
        await recordAttempt(tx, delivery.id, outcome);
        return;
      }
      await recordAttempt(tx, delivery.id, { state: outcome.state, atMs: nowMs, error: outcome.state === 'failed' ? outcome.error : null });
      await setMessageState(tx, delivery.messageId, outcome.state === 'delivered' ? 'sent' : 'failed', ['queued']);
    });
  }
}

function verifies(sealed: Uint8Array, publicKey: string): boolean {
  try {
    unseal(sealed, [parsePublicKey(publicKey)]);
    return true;
  } catch {
    return false;
  }
}

/** One POST of a signed message: its status, or why there was none. Redirects are not followed. */
async function post(endpoint: string, signedXml: string, timeoutMs: number): Promise<AttemptResult> {
  try {
    const response = await fetch(endpoint, {
      method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: signedXml, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return { status: response.status };
  } catch (error) {
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}
