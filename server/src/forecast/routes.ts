import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import type { JobWaker } from '../platform/jobs/index.js';
import type { EventPublisher } from '../platform/events/index.js';
import { forecastRoutes as contract } from '@gridshare/contract/forecast';
import { FORECAST_JOB } from './job.js';
import {
  communityAccuracy, communityForecast, getWeatherSource, memberBestHours, meteringPointAccuracy, meteringPointForecast, putWeatherSource,
} from './views.js';

export async function forecastRoutes(app: Api, { db, events, jobs, now = Date.now }: { db: Db; events: EventPublisher; jobs: JobWaker; now?: () => number }): Promise<void> {
  app.get(contract.meteringPointForecast.path, { schema: contract.meteringPointForecast.schema },
    async (request) => meteringPointForecast(db, now(), request.principal, request.params.id, request.query));

  app.get(contract.communityForecast.path, { schema: contract.communityForecast.schema },
    async (request) => communityForecast(db, now(), request.principal, request.params.id, request.query));

  app.get(contract.communityForecastAccuracy.path, { schema: contract.communityForecastAccuracy.schema },
    async (request) => communityAccuracy(db, now(), request.principal, request.params.id));

  app.get(contract.meteringPointForecastAccuracy.path, { schema: contract.meteringPointForecastAccuracy.schema },
    async (request) => meteringPointAccuracy(db, now(), request.principal, request.params.id));

  app.get(contract.memberBestHours.path, { schema: contract.memberBestHours.schema },
    async (request) => memberBestHours(db, now(), request.principal, request.params.id));

  app.get(contract.weatherSource.path, { schema: contract.weatherSource.schema },
    async (request) => getWeatherSource(db, request.principal, request.params.id));

  app.put(contract.putWeatherSource.path, { schema: contract.putWeatherSource.schema }, async (request) => {
    const state = await putWeatherSource(db, events, request.principal, request.params.id, request.body.url);
    jobs.wake(FORECAST_JOB);
    return state;
  });
}
