import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import { compareCommunities, searchCommunities } from './service.js';
import { BadRequestError } from '../kernel/errors.js';
import { discoveryRoutes as contract } from '@gridshare/contract/discovery';

export async function discoveryRoutes(app: Api, { db }: { db: Db }): Promise<void> {
  app.get(contract.searchCommunities.path, { schema: contract.searchCommunities.schema }, async (request) => {
    const { lat, lon, ...rest } = request.query;
    if ((lat === undefined) !== (lon === undefined)) {
      throw new BadRequestError('querystring/lat: lat and lon go together', 'querystring/lat');
    }
    const near = lat !== undefined && lon !== undefined ? { latitude: lat, longitude: lon } : undefined;
    return searchCommunities(db, request.principal, { ...rest, near });
  });

  app.get(contract.compareCommunities.path, { schema: contract.compareCommunities.schema }, async (request) => compareCommunities(db, request.principal, request.query.ids));
}
