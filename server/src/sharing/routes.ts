import type { Db } from '../platform/store/db.js';
import type { JobWaker } from '../platform/jobs/index.js';
import type { EventPublisher } from '../platform/events/index.js';
import { SHARING_JOB } from './job.js';
import type { Api } from '../platform/http/api.js';
import { utf8Body } from '../platform/http/body.js';
import { sharingRoutes as contract } from '@gridshare/contract/sharing';
import { communityEnergy, memberEnergy, memberEnergyCsv, type MemberSavings } from './energy.js';
import { getCo2Settings, listShares, putCo2Settings, putShares } from './settings.js';
import { getCoefficientCoverage, putCoefficients } from './coefficient-uploads.js';

/** A year of hourly coefficients for about 200 supply points. */
const COEFFICIENT_FILE_LIMIT_BYTES = 64 * 1024 * 1024;

export async function sharingRoutes(
  app: Api, { db, events, jobs, memberSavings }: { db: Db; events: EventPublisher; jobs: JobWaker; memberSavings: MemberSavings },
): Promise<void> {
  app.get(contract.listShares.path, { schema: contract.listShares.schema }, async (request) => listShares(db, request.principal, request.params.id));

  app.put(contract.putShares.path, { schema: contract.putShares.schema }, async (request) => {
    const version = await putShares(db, events, request.principal, request.params.id, request.body);
    jobs.wake(SHARING_JOB);
    return version;
  });

  // Coefficient files; not text/plain, which a cross-site form could send (see http/app.ts).
  app.addContentTypeParser('text/csv', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, utf8Body(request.headers['content-type'], body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.get(contract.coefficientCoverage.path, { schema: contract.coefficientCoverage.schema }, async (request) => getCoefficientCoverage(db, request.principal, request.params.id));

  app.put(contract.putCoefficients.path, {
    bodyLimit: COEFFICIENT_FILE_LIMIT_BYTES,
    schema: contract.putCoefficients.schema,
  }, async (request) => {
    const { year, fileName, utcOffset, resolution } = request.query;
    const result = await putCoefficients(db, events, request.principal, request.params.id, request.body,
      { year, fileName, utcOffsetHours: utcOffset, resolutionMinutes: resolution });
    jobs.wake(SHARING_JOB);
    return result;
  });

  app.get(contract.co2Intensity.path, { schema: contract.co2Intensity.schema }, async (request) => getCo2Settings(db, request.principal, request.params.id));

  app.put(contract.putCo2Intensity.path, { schema: contract.putCo2Intensity.schema }, async (request) => putCo2Settings(db, events, request.principal, request.params.id, request.body));

  app.get(contract.memberEnergy.path, { schema: contract.memberEnergy.schema }, async (request) => memberEnergy(db, memberSavings, request.principal, request.params.id, request.query));

  app.get(contract.memberEnergyCsv.path, { schema: contract.memberEnergyCsv.schema }, async (request, reply) => {
    const { fileName, csv } = await memberEnergyCsv(db, request.principal, request.params.id, request.query);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${fileName}"`)
      .send(csv);
  });

  app.get(contract.communityEnergy.path, { schema: contract.communityEnergy.schema }, async (request) => communityEnergy(db, request.principal, request.params.id, request.query));
}
