import type { Api } from '../platform/http/api.js';
import { requestCredentials } from '../platform/http/app.js';
import type { JobWaker } from '../platform/jobs/index.js';
import { privacyRoutes as contract, type Consent, type DataOffer as DataOfferView, type ErasureRequest, type ExportJob, type MaskingRuleSet } from '@gridshare/contract/privacy';
import { formatUtcInstant } from '../kernel/time.js';
import { formatMinor, minorDigits } from '../kernel/money.js';
import {
  getMaskingRule, grantState, isOfferOpen, maskingRuleNames, PROCESSING_REGISTER,
  type ConsentQuantity, type DataOffer, type DataScope, type ExportSchema, type MaskingRuleSet as RuleSet, type PrivacyLanguage,
} from './domain/index.js';
import { acceptDataOffer, memberOffers, offerCatalogue, publishOffer, withdrawDataOffer } from './offers.js';
import { communityRuleSets, putRuleSet, regulatorExport, type ManagerExport } from './masking.js';
import {
  communityErasures, grantConsent, listConsents, memberAccessLog, putCommunityRetention, readThroughConsent,
  reissueRecipientToken, requestErasure, requireCommunityMember, retentionOf, legalMinimumOf, revokeConsent, type PrivacyContext,
} from './service.js';
import { exportMemberData } from './export.js';
import { PRIVACY_JOB } from './job.js';
import type { StoredErasure, StoredExportJob, StoredGrant } from './store.js';
import {
  communityExportJobs, communityExportOverview, exportJobFile, memberExportJobs, PRIVACY_EXPORTS_JOB, requestMemberExportJob, requestRegulatorExportJob, visibleExportJob,
} from './export-jobs.js';

const iso = (ms: number | null) => (ms === null ? null : formatUtcInstant(ms));

const scopeView = (scope: DataScope): Consent['scope'] => ({
  meteringPoints: [...scope.meteringPoints], quantities: [...scope.quantities], resolution: scope.resolution, from: formatUtcInstant(scope.period.fromMs), to: iso(scope.period.toMs),
});

const money = (minor: bigint, currency: string) => formatMinor(minor, minorDigits(currency));

function consentView(g: StoredGrant, now: number): Consent {
  const { origin } = g;
  return {
    id: g.id, communityId: g.communityId, grantor: g.grantor, recipient: { ...g.recipient }, scope: scopeView(g.scope),
    purpose: { ...g.purpose }, createdAt: formatUtcInstant(g.createdAt), validUntil: formatUtcInstant(g.validUntil), revokedAt: iso(g.revokedAt),
    state: grantState(g, now), digest: g.digest,
    offerId: origin.kind === 'offer' ? origin.offerId : null,
    payment: origin.kind === 'offer' && origin.payment.kind === 'wallet-transfer'
      ? { amount: money(origin.payment.amountMinor, origin.payment.currency), currency: origin.payment.currency, posting: Number(origin.payment.transferId) }
      : null,
  };
}

function offerView(o: DataOffer, now: number, mine: { takers: number } | { taken: boolean }): DataOfferView {
  return {
    id: o.id, communityId: o.communityId, grantor: o.grantor, scope: scopeView(o.scope), description: o.description, audience: o.audience,
    price: money(o.priceMinor, o.currency), currency: o.currency, grantValidityDays: o.grantValidityDays, publishedAt: formatUtcInstant(o.publishedAt),
    openUntil: formatUtcInstant(o.openUntil), withdrawnAt: iso(o.withdrawnAt),
    state: o.withdrawnAt !== null ? 'withdrawn' : isOfferOpen(o, now) ? 'open' : 'closed',
    takers: 'takers' in mine ? mine.takers : null, taken: 'taken' in mine && mine.taken,
  };
}

function erasureView(e: StoredErasure): ErasureRequest {
  return {
    id: e.id, communityId: e.communityId, memberId: e.memberId, requestedBy: e.requestedBy, requestedAt: formatUtcInstant(e.requestedAt), state: e.state,
    pseudonym: e.pseudonym,
    steps: (e.plan?.steps ?? []).map((s) => ({ kind: s.kind, action: s.action === 'replace' ? `replace:${s.with}` : s.action, until: s.action === 'keep-pseudonymised' ? formatUtcInstant(s.until) : null })),
    finalDeletionAt: iso(e.finalDeletionAt), executedAt: iso(e.executedAt), error: e.error,
  };
}

function ruleSetView(set: { schema: ExportSchema; ruleSet: RuleSet; updatedAt: number | null }): MaskingRuleSet {
  return {
    export: { name: set.schema.name as ManagerExport, summary: set.schema.summary, fields: set.schema.fields.map((f) => ({ name: f.name, type: f.type, optional: f.optional === true })) },
    ruleSet: { name: set.ruleSet.name, fields: { ...set.ruleSet.fields }, otherFields: set.ruleSet.otherFields },
    isDefault: set.updatedAt === null, updatedAt: iso(set.updatedAt),
  };
}

function exportJobView(j: StoredExportJob): ExportJob {
  return {
    id: j.id, communityId: j.communityId, export: j.export, memberId: j.memberId, from: iso(j.period?.fromMs ?? null), to: iso(j.period?.toMs ?? null),
    state: j.state, itemsDone: j.itemsDone, itemsTotal: j.itemsTotal, requestedAt: formatUtcInstant(j.requestedAt), startedAt: iso(j.startedAt),
    finishedAt: iso(j.finishedAt), expiresAt: iso(j.expiresAt), fileName: j.fileName, bytes: j.bytes, error: j.error,
  };
}

const languageOf = (accept: string | undefined): PrivacyLanguage => (accept?.trim().toLowerCase().startsWith('de') ? 'de' : 'en');

export async function privacyRoutes(app: Api, { ctx, jobs }: { ctx: PrivacyContext; jobs: JobWaker }): Promise<void> {
  app.get(contract.memberConsents.path, { schema: contract.memberConsents.schema }, async (request) => {
    const { given, received } = await listConsents(ctx, request.principal, request.params.id);
    const now = ctx.now();
    return { given: given.map((g) => consentView(g, now)), received: received.map((g) => consentView(g, now)) };
  });

  app.post(contract.grantConsent.path, { schema: contract.grantConsent.schema }, async (request, reply) => {
    const { body } = request;
    const { grant, recipientToken } = await grantConsent(ctx, request.principal, request.params.id, {
      recipient: body.recipient,
      scope: {
        meteringPoints: body.scope.meteringPoints, quantities: body.scope.quantities, resolution: body.scope.resolution,
        period: { fromMs: Date.parse(body.scope.from), toMs: body.scope.to === null ? null : Date.parse(body.scope.to) },
      },
      purpose: body.purpose,
      validUntil: Date.parse(body.validUntil),
    });
    return reply.status(201).send({ ...consentView(grant, ctx.now()), ...(recipientToken === undefined ? {} : { recipientToken }) });
  });

  app.post(contract.revokeConsent.path, { schema: contract.revokeConsent.schema },
    async (request) => consentView(await revokeConsent(ctx, request.principal, request.params.id), ctx.now()));

  app.post(contract.reissueRecipientToken.path, { schema: contract.reissueRecipientToken.schema }, async (request) => {
    const { grant, recipientToken } = await reissueRecipientToken(ctx, request.principal, request.params.id);
    return { ...consentView(grant, ctx.now()), recipientToken };
  });

  app.get(contract.consentedSeries.path, { schema: contract.consentedSeries.schema }, async (request) => {
    const { query } = request;
    // A recipient token is no account's: accounts resolved it to nobody, so it is privacy's to check.
    const bearer = request.principal.kind === 'anonymous' ? requestCredentials(request).bearerToken : undefined;
    const reader = bearer === undefined ? { principal: request.principal } : { recipientToken: bearer };
    const { points } = await readThroughConsent(ctx, reader, request.params.id, {
      meteringPoint: query.meteringPoint, quantity: query.quantity as ConsentQuantity, resolution: query.resolution,
      fromMs: Date.parse(query.from), toMs: Date.parse(query.to),
    });
    return {
      grantId: request.params.id, meteringPoint: query.meteringPoint, quantity: query.quantity, resolution: query.resolution,
      values: points.map((p) => ({ start: formatUtcInstant(p.startMs), end: formatUtcInstant(p.endMs), wh: p.wh, quality: p.quality })),
    };
  });

  app.get(contract.memberDataOffers.path, { schema: contract.memberDataOffers.schema }, async (request) => {
    const { mine, available } = await memberOffers(ctx, request.principal, request.params.id);
    const now = ctx.now();
    return { mine: mine.map((m) => offerView(m.offer, now, m)), available: available.map((a) => offerView(a.offer, now, a)) };
  });

  app.post(contract.publishDataOffer.path, { schema: contract.publishDataOffer.schema }, async (request, reply) => {
    const { body } = request;
    const offer = await publishOffer(ctx, request.principal, request.params.id, {
      scope: {
        meteringPoints: body.scope.meteringPoints, quantities: body.scope.quantities, resolution: body.scope.resolution,
        period: { fromMs: Date.parse(body.scope.from), toMs: body.scope.to === null ? null : Date.parse(body.scope.to) },
      },
      description: body.description, audience: body.audience, price: body.price, grantValidityDays: body.grantValidityDays, openUntil: Date.parse(body.openUntil),
    });
    return reply.status(201).send(offerView(offer, ctx.now(), { takers: 0 }));
  });

  app.get(contract.dataOfferCatalogue.path, { schema: contract.dataOfferCatalogue.schema }, async (request) => {
    const now = ctx.now();
    return (await offerCatalogue(ctx, request.principal, request.query.community)).map(({ offer, communityName, mine, taken }) => {
      const { grantor: _grantor, withdrawnAt: _withdrawn, state: _state, takers: _takers, taken: _taken, ...terms } = offerView(offer, now, { taken });
      return { ...terms, communityName, mine, taken };
    });
  });

  app.post(contract.withdrawDataOffer.path, { schema: contract.withdrawDataOffer.schema },
    async (request) => offerView(await withdrawDataOffer(ctx, request.principal, request.params.id), ctx.now(), { taken: false }));

  app.post(contract.acceptDataOffer.path, { schema: contract.acceptDataOffer.schema }, async (request, reply) => {
    const { grant, recipientToken } = await acceptDataOffer(ctx, request.principal, request.params.id, request.body);
    return reply.status(201).send({ ...consentView(grant, ctx.now()), ...(recipientToken === undefined ? {} : { recipientToken }) });
  });

  app.get(contract.memberAccessLog.path, { schema: contract.memberAccessLog.schema }, async (request) =>
    (await memberAccessLog(ctx, request.principal, request.params.id)).map((a) => ({
      id: a.id, at: formatUtcInstant(a.at), accessorKind: a.accessorKind, accessor: a.accessorLabel, grantId: a.grantId, purpose: a.purpose,
      category: a.category, meteringPoints: [...a.meteringPoints], periodFrom: iso(a.period?.fromMs ?? null), periodTo: iso(a.period?.toMs ?? null),
      resolution: a.resolution, route: a.route,
    })));

  app.get(contract.memberExport.path, { schema: contract.memberExport.schema }, async (request, reply) => {
    const { fileName, stream } = await exportMemberData(ctx, request.principal, request.params.id, languageOf(request.headers['accept-language']));
    return reply.header('content-type', 'application/zip').header('content-disposition', `attachment; filename="${fileName}"`).send(stream);
  });

  app.post(contract.requestMemberExportJob.path, { schema: contract.requestMemberExportJob.schema }, async (request, reply) => {
    const job = await requestMemberExportJob(ctx, request.principal, request.params.id, languageOf(request.headers['accept-language']));
    jobs.wake(PRIVACY_EXPORTS_JOB);
    return reply.status(202).send(exportJobView(job));
  });

  app.get(contract.memberExportJobs.path, { schema: contract.memberExportJobs.schema },
    async (request) => (await memberExportJobs(ctx, request.principal, request.params.id)).map(exportJobView));

  app.post(contract.requestCommunityExportJob.path, { schema: contract.requestCommunityExportJob.schema }, async (request, reply) => {
    const job = await requestRegulatorExportJob(ctx, request.principal, request.params.id, Date.parse(request.body.from), Date.parse(request.body.to));
    jobs.wake(PRIVACY_EXPORTS_JOB);
    return reply.status(202).send(exportJobView(job));
  });

  app.get(contract.communityExportJobs.path, { schema: contract.communityExportJobs.schema },
    async (request) => (await communityExportJobs(ctx, request.principal, request.params.id)).map(exportJobView));

  app.get(contract.communityExportJobOverview.path, { schema: contract.communityExportJobOverview.schema }, async (request) =>
    (await communityExportOverview(ctx, request.principal, request.params.id)).map(({ job, requester }) => {
      const { id, export: kind, memberId, from, to, state, itemsDone, itemsTotal, requestedAt, startedAt, finishedAt, expiresAt, bytes, error } = exportJobView(job);
      return {
        id, export: kind, memberId, requestedBy: requester, requesterKind: job.requesterKind, from, to, state, itemsDone, itemsTotal, requestedAt, startedAt,
        finishedAt, expiresAt, bytes, error: memberId === null ? error : null,
      };
    }));

  app.get(contract.exportJob.path, { schema: contract.exportJob.schema },
    async (request) => exportJobView(await visibleExportJob(ctx, request.principal, request.params.id)));

  app.get(contract.exportJobFile.path, { schema: contract.exportJobFile.schema }, async (request, reply) => {
    const { job, stream, contentType } = await exportJobFile(ctx, request.principal, request.params.id);
    return reply.header('content-type', contentType).header('content-disposition', `attachment; filename="${job.fileName}"`).send(stream);
  });

  app.post(contract.requestErasure.path, { schema: contract.requestErasure.schema }, async (request, reply) => {
    const erasure = await requestErasure(ctx, request.principal, request.params.id);
    jobs.wake(PRIVACY_JOB);
    return reply.status(201).send(erasureView(erasure));
  });

  app.get(contract.processingRegister.path, { schema: contract.processingRegister.schema }, async (request) => {
    const community = await requireCommunityMember(ctx.db, request.principal, request.params.id);
    const { updatedAt, ...policy } = await retentionOf(ctx.db, community);
    const legal = legalMinimumOf(community);
    return {
      communityId: community.id,
      activities: PROCESSING_REGISTER.map((a) => ({ purpose: a.purpose, legalBases: [...a.legalBases], categories: [...a.categories], retention: [...a.retention], managerAccess: a.managerAccess })),
      retention: { policy, updatedAt: iso(updatedAt), legal: { country: legal.country, billingRecordsYears: legal.billingRecordsYears, source: legal.source } },
    };
  });

  app.get(contract.erasureRequests.path, { schema: contract.erasureRequests.schema },
    async (request) => (await communityErasures(ctx, request.principal, request.params.id)).map(erasureView));

  app.get(contract.maskingRules.path, { schema: contract.maskingRules.schema }, async (request) => ({
    rules: maskingRuleNames().map((name) => {
      const rule = getMaskingRule(name)!;
      return { name, summary: rule.summary, appliesTo: rule.appliesTo === 'any' ? [] : [...rule.appliesTo] };
    }),
    sets: (await communityRuleSets(ctx, request.principal, request.params.id)).map(ruleSetView),
  }));

  app.put(contract.putMaskingRuleSet.path, { schema: contract.putMaskingRuleSet.schema },
    async (request) => {
      const { export: schema, ...ruleSet } = request.body;
      return ruleSetView(await putRuleSet(ctx, request.principal, request.params.id, schema, ruleSet));
    });

  app.get(contract.regulatorExport.path, { schema: contract.regulatorExport.schema }, async (request, reply) => {
    const { fileName, csv } = await regulatorExport(ctx, request.principal, request.params.id, Date.parse(request.query.from), Date.parse(request.query.to));
    return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${fileName}"`).send(csv);
  });

  app.put(contract.putRetention.path, { schema: contract.putRetention.schema }, async (request) => {
    const { policy, legal } = await putCommunityRetention(ctx, request.principal, request.params.id, request.body);
    const { updatedAt, ...rest } = policy;
    return { policy: rest, updatedAt: iso(updatedAt), legal: { country: legal.country, billingRecordsYears: legal.billingRecordsYears, source: legal.source } };
  });
}
