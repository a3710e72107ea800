import type { Api } from '../platform/http/api.js';
import { brokerSecurityRoutes as contract } from '@gridshare/contract/broker-security';
import type { BrokerAuthHook } from './auth-hook.js';

const verdict = (allowed: boolean) => ({ result: allowed ? 'allow' as const : 'deny' as const });

/** The HTTP auth hook: open to every caller, since it only answers for the credentials it is given. */
export async function brokerSecurityRoutes(app: Api, options: { hook: BrokerAuthHook }): Promise<void> {
  app.post(contract.brokerAuthenticate.path, { schema: contract.brokerAuthenticate.schema }, async (request) =>
    verdict(await options.hook.authenticate(request.body)));
  app.post(contract.brokerAuthorize.path, { schema: contract.brokerAuthorize.schema }, async (request) =>
    verdict(await options.hook.authorize(request.body)));
}
