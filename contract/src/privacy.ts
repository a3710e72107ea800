/** Privacy: consents, the access log, the GDPR export, erasure, the processing register, retention (server/src/privacy). */
import { Type, type Static } from 'typebox';
import { Decimal, errors, IdParams, IsoDateTime, nullable, Uuid } from './common.js';
import { route } from './route.js';

export const ConsentQuantity = Type.Enum(['import', 'export', 'pv', 'energy-by-source']);
export const ConsentResolution = Type.Enum(['15m', '1h', '1d', '1mo']);
export const RecipientKind = Type.Enum(['member', 'researcher', 'grid-operator', 'app']);
export const ConsentPurpose = Type.Enum(['research', 'energy-advice', 'grid-planning', 'app-service', 'peer-comparison', 'other']);

const Recipient = Type.Object({
  kind: RecipientKind,
  id: Type.String({ minLength: 1, maxLength: 128, description: 'member id (kind member), else the organisation\'s or app\'s id' }),
  label: Type.String({ minLength: 1, maxLength: 200, description: 'what the member sees, e.g. "Energy Lab, TU Wien"' }),
}, { additionalProperties: false });

const Scope = Type.Object({
  meteringPoints: Type.Array(Uuid, { minItems: 1, maxItems: 100 }),
  quantities: Type.Array(ConsentQuantity, { minItems: 1, maxItems: 4 }),
  resolution: ConsentResolution,
  from: IsoDateTime,
  to: nullable(IsoDateTime),
}, { additionalProperties: false });

const Purpose = Type.Object({
  code: ConsentPurpose,
  statement: Type.String({ minLength: 1, maxLength: 500 }),
}, { additionalProperties: false });

export const Consent = Type.Object({
  id: Uuid,
  communityId: Uuid,
  grantor: Uuid,
  recipient: Recipient,
  scope: Scope,
  purpose: Purpose,
  createdAt: IsoDateTime,
  validUntil: IsoDateTime,
  revokedAt: nullable(IsoDateTime),
  state: Type.Enum(['active', 'revoked', 'expired', 'pending']),
  digest: Type.String({ description: 'SHA-256 of the grant\'s terms (RFC 8785), what the verifiable record holds' }),
  offerId: nullable(Uuid),
  payment: nullable(Type.Object({
    amount: Decimal, currency: Type.String(), posting: Type.Integer({ description: 'the transfer\'s sequence in the community\'s wallet ledger' }),
  }, { description: 'what the recipient paid for the data offer the grant came from' })),
});
/** A grant as made: to a recipient that is not a member, with the token it reads with, shown this once. */
export const GrantedConsent = Type.Object({
  ...Consent.properties,
  recipientToken: Type.Optional(Type.String({
    description: 'the recipient\'s bearer token for GET /api/v1/consents/{id}/series (researchers, grid operators, apps); shown only now, only its hash is kept',
  })),
});
export const Consents = Type.Object({
  given: Type.Array(Consent, { description: 'the member\'s grants, newest first' }),
  received: Type.Array(Consent, { description: 'grants other members gave this member' }),
});
const ConsentBody = Type.Object({
  recipient: Recipient,
  scope: Scope,
  purpose: Purpose,
  validUntil: IsoDateTime,
}, { additionalProperties: false });

const SeriesQuery = Type.Object({
  meteringPoint: Uuid,
  quantity: ConsentQuantity,
  resolution: ConsentResolution,
  from: IsoDateTime,
  to: IsoDateTime,
}, { additionalProperties: false });
export const ConsentedSeries = Type.Object({
  grantId: Uuid,
  meteringPoint: Uuid,
  quantity: ConsentQuantity,
  resolution: ConsentResolution,
  values: Type.Array(Type.Object({ start: IsoDateTime, end: IsoDateTime, wh: nullable(Type.Integer()), quality: Type.String() }),
    { description: 'whole buckets of the granted resolution or coarser, inside the grant\'s period, final ones only' }),
});

export const AccessLogEntry = Type.Object({
  id: Type.String(),
  at: IsoDateTime,
  accessorKind: Type.Enum(['manager', 'admin', 'recipient', 'export']),
  accessor: Type.String({ description: 'who read: a manager\'s or admin\'s login, a recipient\'s name, the export' }),
  grantId: nullable(Uuid),
  purpose: Type.String({ description: 'the processing purpose (see the register)' }),
  category: Type.String({ description: 'which kind of personal data' }),
  meteringPoints: Type.Array(Type.String()),
  periodFrom: nullable(IsoDateTime),
  periodTo: nullable(IsoDateTime),
  resolution: nullable(Type.String()),
  route: Type.String({ description: 'the API route the data was read through' }),
});

export const ProcessingActivity = Type.Object({
  purpose: Type.String(),
  legalBases: Type.Array(Type.String(), { description: 'letters of GDPR Art. 6(1)' }),
  categories: Type.Array(Type.String()),
  retention: Type.Array(Type.String()),
  managerAccess: Type.String(),
});

export const RetentionPolicy = Type.Object({
  rawReadingsDays: Type.Integer({ minimum: 1, maximum: 36_600 }),
  intervalsDays: Type.Integer({ minimum: 1, maximum: 36_600 }),
  forecastsDays: Type.Integer({ minimum: 1, maximum: 36_600 }),
  accessLogDays: Type.Integer({ minimum: 1, maximum: 36_600 }),
  operationalLogsDays: Type.Integer({ minimum: 1, maximum: 36_600 }),
  exportFilesDays: Type.Integer({ minimum: 1, maximum: 36_600 }),
  billingRecordsYears: Type.Integer({ minimum: 0, maximum: 30 }),
}, { additionalProperties: false });
export const Retention = Type.Object({
  policy: RetentionPolicy,
  updatedAt: nullable(IsoDateTime),
  legal: Type.Object({ country: Type.String(), billingRecordsYears: Type.Integer(), source: Type.String() }),
});
export const ProcessingRegister = Type.Object({
  communityId: Uuid,
  activities: Type.Array(ProcessingActivity),
  retention: Retention,
});

export const ErasureRequest = Type.Object({
  id: Uuid,
  communityId: Uuid,
  memberId: Uuid,
  requestedBy: Type.Enum(['member', 'admin']),
  requestedAt: IsoDateTime,
  state: Type.Enum(['requested', 'done', 'failed']),
  pseudonym: nullable(Type.String({ description: 'what the member is called in kept records after the erasure' })),
  steps: Type.Array(Type.Object({ kind: Type.String(), action: Type.String(), until: nullable(IsoDateTime) }),
    { description: 'what happened to each kind of the member\'s data (empty until carried out)' }),
  finalDeletionAt: nullable(IsoDateTime),
  executedAt: nullable(IsoDateTime),
  error: nullable(Type.String()),
});

export const MaskedExport = Type.Enum(['regulator-intervals'], { description: 'an export the manager downloads, masked by the community\'s rule set for it' });
const MaskingRuleSetFields = {
  name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$' }),
  fields: Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 32 }), { description: 'field → rule (keep, drop, hash, postcode, hourly)', maxProperties: 64 }),
  otherFields: Type.Enum(['keep', 'drop'], { description: 'what happens to the fields not named' }),
};
// The export is named in the body, not the path: one more shape of path parameters makes the web
// client's union of every route's input too large for the compiler.
const MaskingRuleSetBody = Type.Object({ export: MaskedExport, ...MaskingRuleSetFields }, { additionalProperties: false });
export const MaskingRuleSet = Type.Object({
  export: Type.Object({
    name: MaskedExport,
    summary: Type.String(),
    fields: Type.Array(Type.Object({ name: Type.String(), type: Type.String(), optional: Type.Boolean() })),
  }),
  ruleSet: Type.Object(MaskingRuleSetFields),
  isDefault: Type.Boolean({ description: 'no rules of the community\'s own yet: the cautious default applies' }),
  updatedAt: nullable(IsoDateTime),
});
export const MaskingRules = Type.Object({
  rules: Type.Array(Type.Object({ name: Type.String(), summary: Type.String(), appliesTo: Type.Array(Type.String(), { description: 'field types; empty: any' }) })),
  sets: Type.Array(MaskingRuleSet),
});
const ExportPeriod = Type.Object({ from: IsoDateTime, to: IsoDateTime }, { additionalProperties: false });

export const OfferAudience = Type.Enum(['members', 'anyone'], { description: 'members: the community\'s members (priced offers: only they, paying from their wallet); anyone: also members of other communities, researchers, the grid operator, apps (free only)' });
export const DataOffer = Type.Object({
  id: Uuid,
  communityId: Uuid,
  grantor: Uuid,
  scope: Scope,
  description: Type.String(),
  audience: OfferAudience,
  price: Decimal,
  currency: Type.String(),
  grantValidityDays: Type.Integer(),
  publishedAt: IsoDateTime,
  openUntil: IsoDateTime,
  withdrawnAt: nullable(IsoDateTime),
  state: Type.Enum(['open', 'closed', 'withdrawn']),
  takers: nullable(Type.Integer({ minimum: 0, description: 'grants made from it (to its member only)' })),
  taken: Type.Boolean({ description: 'the caller (as this member) holds an active grant from it' }),
});
export const DataOffers = Type.Object({
  mine: Type.Array(DataOffer, { description: 'the member\'s offers, newest first' }),
  available: Type.Array(DataOffer, { description: 'open offers of other members of the community' }),
});
/** An open offer in the catalogue: what, for what, at which price — not which member made it. */
export const CatalogueOffer = Type.Object({
  id: Uuid,
  communityId: Uuid,
  communityName: Type.String(),
  scope: Scope,
  description: Type.String({ description: 'what the member offers it for, in their words' }),
  audience: OfferAudience,
  price: Decimal,
  currency: Type.String(),
  grantValidityDays: Type.Integer(),
  publishedAt: IsoDateTime,
  openUntil: IsoDateTime,
  mine: Type.Boolean({ description: 'published by one of the caller\'s memberships' }),
  taken: Type.Boolean({ description: 'the caller holds a running grant from it (as a member or for an organisation)' }),
});
const CatalogueQuery = Type.Object({ community: Type.Optional(Uuid) }, { additionalProperties: false });
const DataOfferBody = Type.Object({
  scope: Scope,
  description: Type.String({ minLength: 1, maxLength: 1000 }),
  audience: OfferAudience,
  price: Decimal,
  grantValidityDays: Type.Integer({ minimum: 1, maximum: 1830 }),
  openUntil: IsoDateTime,
}, { additionalProperties: false });
const AcceptOfferBody = Type.Object({
  memberId: Type.Optional(Uuid),
  recipient: Type.Optional(Type.Object({
    kind: Type.Enum(['researcher', 'grid-operator', 'app']),
    label: Type.String({ minLength: 1, maxLength: 200 }),
  }, { additionalProperties: false })),
  purpose: Purpose,
}, { additionalProperties: false, description: 'who takes it: memberId (one of the caller\'s memberships) or recipient (an organisation the caller acts for; free offers to anyone only)' });

export const ExportJobKind = Type.Enum(['member', 'regulator-intervals'], { description: 'member: everything about one member (GDPR Art. 15/20, a ZIP); regulator-intervals: the masked regulator CSV of a period' });
export const ExportJob = Type.Object({
  id: Uuid,
  communityId: Uuid,
  export: ExportJobKind,
  memberId: nullable(Uuid),
  from: nullable(IsoDateTime),
  to: nullable(IsoDateTime),
  state: Type.Enum(['queued', 'running', 'done', 'failed']),
  itemsDone: Type.Integer({ minimum: 0 }),
  itemsTotal: nullable(Type.Integer({ minimum: 0, description: 'units of work (a device\'s readings, a year of a site\'s quarter hours, a metering point); known once running' })),
  requestedAt: IsoDateTime,
  startedAt: nullable(IsoDateTime),
  finishedAt: nullable(IsoDateTime),
  expiresAt: nullable(IsoDateTime),
  fileName: nullable(Type.String()),
  bytes: nullable(Type.Integer({ minimum: 0 })),
  error: nullable(Type.String()),
});
/** A row of the managers' overview: a member's export shows its state and progress, never its file. */
export const ExportJobOverview = Type.Object({
  id: Uuid,
  export: ExportJobKind,
  memberId: nullable(Uuid),
  requestedBy: Type.String({ description: 'the name of who asked' }),
  requesterKind: Type.Enum(['member', 'manager', 'admin']),
  from: nullable(IsoDateTime),
  to: nullable(IsoDateTime),
  state: Type.Enum(['queued', 'running', 'done', 'failed']),
  itemsDone: Type.Integer({ minimum: 0 }),
  itemsTotal: nullable(Type.Integer({ minimum: 0 })),
  requestedAt: IsoDateTime,
  startedAt: nullable(IsoDateTime),
  finishedAt: nullable(IsoDateTime),
  expiresAt: nullable(IsoDateTime),
  bytes: nullable(Type.Integer({ minimum: 0 })),
  error: nullable(Type.String({ description: 'why a manager export failed; never given for a member\'s export' })),
});
const RegulatorExportJobBody = Type.Object({
  export: Type.Enum(['regulator-intervals']),
  from: IsoDateTime,
  to: IsoDateTime,
}, { additionalProperties: false });

export type Consent = Static<typeof Consent>;
export type Consents = Static<typeof Consents>;
export type GrantedConsent = Static<typeof GrantedConsent>;
export type ConsentedSeries = Static<typeof ConsentedSeries>;
export type AccessLogEntry = Static<typeof AccessLogEntry>;
export type ProcessingRegister = Static<typeof ProcessingRegister>;
export type Retention = Static<typeof Retention>;
export type RetentionPolicy = Static<typeof RetentionPolicy>;
export type ErasureRequest = Static<typeof ErasureRequest>;
export type MaskingRules = Static<typeof MaskingRules>;
export type MaskingRuleSet = Static<typeof MaskingRuleSet>;
export type ExportJob = Static<typeof ExportJob>;
export type ExportJobOverview = Static<typeof ExportJobOverview>;
export type DataOffer = Static<typeof DataOffer>;
export type DataOffers = Static<typeof DataOffers>;
export type CatalogueOffer = Static<typeof CatalogueOffer>;

export const privacyRoutes = {
  memberConsents: route('GET', '/api/v1/members/:id/consents', {
    tags: ['privacy'], summary: 'The consents a member gave and received (the member only)',
    params: IdParams, response: { 200: Consents, ...errors(401, 403, 404) },
  }),
  grantConsent: route('POST', '/api/v1/members/:id/consents', {
    tags: ['privacy'], summary: 'Let a recipient read a scope of the member\'s energy data for a stated purpose until a date (the member only)',
    params: IdParams, body: ConsentBody, response: { 201: GrantedConsent, ...errors(400, 401, 403, 404) },
  }),
  revokeConsent: route('POST', '/api/v1/consents/:id/revoke', {
    tags: ['privacy'], summary: 'Revoke a consent with immediate effect; revoking again changes nothing (its member only)',
    params: IdParams, response: { 200: Consent, ...errors(401, 403, 404) },
  }),
  reissueRecipientToken: route('POST', '/api/v1/consents/:id/recipient-token', {
    tags: ['privacy'], summary: 'A new recipient token for a consent to a researcher, the grid operator or an app (a lost or leaked one): the old token stops working at once, the new one is shown only in this answer; while the consent lasts (409 once it ended, or for a member recipient, who reads with their login); on the audit trail (its member only)',
    params: IdParams, response: { 200: GrantedConsent, ...errors(401, 403, 404, 409) },
  }),
  consentedSeries: route('GET', '/api/v1/consents/:id/series', {
    tags: ['privacy'], summary: 'A recipient reads a metering point\'s energy through a consent: the grant\'s scope only, at its resolution; every read is in the member\'s access log. A member recipient with their login or API token; any other recipient with the grant\'s recipient token (Authorization: Bearer gsc_…), which opens that grant alone — out of scope, revoked, expired or another grant\'s: 404',
    params: IdParams, querystring: SeriesQuery, response: { 200: ConsentedSeries, ...errors(400, 401, 403, 404) },
  }),
  memberDataOffers: route('GET', '/api/v1/members/:id/data-offers', {
    tags: ['privacy'], summary: 'The member\'s data offers and the open offers of other members of the community (the member only)',
    params: IdParams, response: { 200: DataOffers, ...errors(401, 403, 404) },
  }),
  publishDataOffer: route('POST', '/api/v1/members/:id/data-offers', {
    tags: ['privacy'], summary: 'Offer a scope of the member\'s own energy data for a price (0: free); whoever accepts gets a consent grant on exactly that scope; on the audit trail (the member only)',
    params: IdParams, body: DataOfferBody, response: { 201: DataOffer, ...errors(400, 401, 403, 404) },
  }),
  dataOfferCatalogue: route('GET', '/api/v1/data-offers', {
    tags: ['privacy'], summary: 'The catalogue of open data offers, newest first (at most 200): every open offer of the communities the caller is a member of, and every open offer to anyone — with its scope, price, purpose and terms, never which member made it (signed-in users, with a login or an API token; ?community= narrows it to one community)',
    querystring: CatalogueQuery, response: { 200: Type.Array(CatalogueOffer), ...errors(400, 401) },
  }),
  withdrawDataOffer: route('POST', '/api/v1/data-offers/:id/withdraw', {
    tags: ['privacy'], summary: 'Withdraw a data offer: nobody can accept it any more, grants made from it run on until revoked; withdrawing again changes nothing (its member only)',
    params: IdParams, response: { 200: DataOffer, ...errors(401, 403, 404) },
  }),
  acceptDataOffer: route('POST', '/api/v1/data-offers/:id/accept', {
    tags: ['privacy'], summary: 'Accept a data offer: a priced one is paid from the taker\'s wallet to the member\'s (409 when the wallet holds less), and the offer becomes a consent grant, in the verifiable record like any grant; 409 when closed, withdrawn or already held (a member of the community, or anyone for an offer to anyone)',
    params: IdParams, body: AcceptOfferBody, response: { 201: GrantedConsent, ...errors(400, 401, 403, 404, 409) },
  }),
  memberAccessLog: route('GET', '/api/v1/members/:id/access-log', {
    tags: ['privacy'], summary: 'Who read the member\'s personal data, when, through which route and why, newest first (the member only)',
    params: IdParams, response: { 200: Type.Array(AccessLogEntry), ...errors(401, 403, 404) },
  }),
  memberExport: route('GET', '/api/v1/members/:id/export.zip', {
    tags: ['privacy'], summary: 'Everything Gridshare holds about the member as a ZIP of JSON and CSV files with a README (GDPR Art. 15/20; the member only)',
    params: IdParams, produces: ['application/zip'], response: errors(401, 403, 404),
  }),
  requestMemberExportJob: route('POST', '/api/v1/members/:id/export-jobs', {
    tags: ['privacy'], summary: 'The member\'s export (as export.zip) made by a background job: answers at once with the job; its progress at /api/v1/export-jobs/{id}, the ZIP at /api/v1/export-jobs/{id}/file when done. One at a time: while one is waiting or running, that one is answered (the member only)',
    params: IdParams, response: { 202: ExportJob, ...errors(401, 403, 404) },
  }),
  memberExportJobs: route('GET', '/api/v1/members/:id/export-jobs', {
    tags: ['privacy'], summary: 'The member\'s export jobs, newest first, until their files expire (the member only)',
    params: IdParams, response: { 200: Type.Array(ExportJob), ...errors(401, 403, 404) },
  }),
  requestCommunityExportJob: route('POST', '/api/v1/communities/:id/export-jobs', {
    tags: ['privacy'], summary: 'A manager\'s masked export of a longer period (regulator-intervals: at most 366 days) made by a background job; one at a time per community (409 while one waits or runs); each member in it has the read in their access log (managers)',
    params: IdParams, body: RegulatorExportJobBody, response: { 202: ExportJob, ...errors(400, 401, 403, 404, 409) },
  }),
  communityExportJobs: route('GET', '/api/v1/communities/:id/export-jobs', {
    tags: ['privacy'], summary: 'The community\'s manager exports made by the background job, newest first, until their files expire (managers; members\' own exports are not listed)',
    params: IdParams, response: { 200: Type.Array(ExportJob), ...errors(401, 403, 404) },
  }),
  communityExportJobOverview: route('GET', '/api/v1/communities/:id/export-jobs/overview', {
    tags: ['privacy'], summary: 'Every export job of the community, members\' personal exports included: what, whose, who asked, state, progress and when, newest first, at most 100 — never a member export\'s file, file name or error (managers)',
    params: IdParams, response: { 200: Type.Array(ExportJobOverview), ...errors(401, 403, 404) },
  }),
  exportJob: route('GET', '/api/v1/export-jobs/:id', {
    tags: ['privacy'], summary: 'An export job\'s state and progress (items done of the total): a member\'s to that member alone, a manager export to the community\'s managers; nobody else learns it exists',
    params: IdParams, response: { 200: ExportJob, ...errors(401, 403, 404) },
  }),
  exportJobFile: route('GET', '/api/v1/export-jobs/:id/file', {
    tags: ['privacy'], summary: 'The file of a finished export job (ZIP or CSV); 409 until it is done, 404 once expired (who may see the job)',
    params: IdParams, produces: ['application/zip', 'text/csv'], response: errors(401, 403, 404, 409),
  }),
  requestErasure: route('POST', '/api/v1/members/:id/erasure', {
    tags: ['privacy'], summary: 'Erase the account (GDPR Art. 17): personal data deleted or pseudonymised, billing records kept under a pseudonym for the legal period; the request is carried out by the privacy job (the member, or an admin on request)',
    params: IdParams, response: { 201: ErasureRequest, ...errors(401, 403, 404, 409) },
  }),
  processingRegister: route('GET', '/api/v1/communities/:id/processing-register', {
    tags: ['privacy'], summary: 'What the community does with members\' data, why, on which legal basis and for how long (members)',
    params: IdParams, response: { 200: ProcessingRegister, ...errors(401, 404) },
  }),
  erasureRequests: route('GET', '/api/v1/communities/:id/erasure-requests', {
    tags: ['privacy'], summary: 'The community\'s erasure requests and their state (managers)',
    params: IdParams, response: { 200: Type.Array(ErasureRequest), ...errors(401, 403, 404) },
  }),
  putRetention: route('PUT', '/api/v1/communities/:id/retention', {
    tags: ['privacy'], summary: 'How long the community keeps each kind of data; billing records at least the country\'s legal minimum (managers)',
    params: IdParams, body: RetentionPolicy, response: { 200: Retention, ...errors(400, 401, 403, 404) },
  }),
  maskingRules: route('GET', '/api/v1/communities/:id/masking-rules', {
    tags: ['privacy'], summary: 'The masking rules and, per export, the rule set the community applies (its own or the cautious default; managers)',
    params: IdParams, response: { 200: MaskingRules, ...errors(401, 403, 404) },
  }),
  putMaskingRuleSet: route('PUT', '/api/v1/communities/:id/masking-rules', {
    tags: ['privacy'], summary: 'Set the rule per field of one export (drop, hash with the community salt, postcode, hourly, keep); every problem is reported at once (managers)',
    params: IdParams, body: MaskingRuleSetBody, response: { 200: MaskingRuleSet, ...errors(400, 401, 403, 404) },
  }),
  regulatorExport: route('GET', '/api/v1/communities/:id/exports/regulator-intervals.csv', {
    tags: ['privacy'], summary: 'Per metering point and quarter hour: who, where, how much, for the regulator or grid operator — masked by the community\'s rule set; at most 32 days; each member\'s access log records it (managers)',
    params: IdParams, querystring: ExportPeriod, produces: ['text/csv'], response: errors(400, 401, 403, 404),
  }),
};
