import type { Db } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { Api } from '../platform/http/api.js';
import { marketRoutes as contract } from '@gridshare/contract/market';
import {
  agentLimits, marketSettings, marketSlot, marketSlots, memberOrders, memberTrades, memberWallet, putAgentLimits, putMarketSettings, recordTopUp,
  submitOrder, walletTotals, withdraw, type RecordedPostings,
} from './views.js';
import { communityDisputes, fileDispute, memberDisputes, settleDispute } from './disputes.js';
import { communityPayouts, decideOnPayout } from './payouts.js';
import { marketSlotDepth, marketStatistics } from './statistics.js';

export async function marketRoutes(
  app: Api, { db, events, now = Date.now, wake, recordedThrough }: { db: Db; events: EventPublisher; now?: () => number; wake: () => void; recordedThrough: RecordedPostings },
): Promise<void> {
  app.get(contract.marketOrders.path, { schema: contract.marketOrders.schema },
    async (request) => memberOrders(db, now(), request.principal, request.params.id, request.query));

  app.post(contract.submitMarketOrder.path, { schema: contract.submitMarketOrder.schema }, async (request, reply) => {
    const order = await submitOrder(db, now(), request.principal, request.params.id, request.body);
    return reply.status(201).send(order);
  });

  app.delete(contract.withdrawMarketOrder.path, { schema: contract.withdrawMarketOrder.schema }, async (request, reply) => {
    await withdraw(db, now(), request.principal, request.params.id);
    return reply.status(204).send(null);
  });

  app.get(contract.marketAgentLimits.path, { schema: contract.marketAgentLimits.schema },
    async (request) => agentLimits(db, request.principal, request.params.id));

  app.put(contract.putMarketAgentLimits.path, { schema: contract.putMarketAgentLimits.schema },
    async (request) => putAgentLimits(db, events, now(), request.principal, request.params.id, request.body));

  app.get(contract.marketTrades.path, { schema: contract.marketTrades.schema },
    async (request) => memberTrades(db, now(), request.principal, request.params.id, request.query));

  app.get(contract.marketWallet.path, { schema: contract.marketWallet.schema },
    async (request) => memberWallet(db, request.principal, request.params.id, recordedThrough));

  app.get(contract.marketSettings.path, { schema: contract.marketSettings.schema },
    async (request) => marketSettings(db, request.principal, request.params.id));

  app.put(contract.putMarketSettings.path, { schema: contract.putMarketSettings.schema }, async (request) => {
    const settings = await putMarketSettings(db, events, now(), request.principal, request.params.id, request.body);
    wake();
    return settings;
  });

  app.get(contract.marketSlots.path, { schema: contract.marketSlots.schema },
    async (request) => marketSlots(db, request.principal, request.params.id, request.query.limit ?? 48));

  app.get(contract.marketSlot.path, { schema: contract.marketSlot.schema },
    async (request) => marketSlot(db, request.principal, request.params.id, request.params.start));

  app.get(contract.marketSlotDepth.path, { schema: contract.marketSlotDepth.schema },
    async (request) => marketSlotDepth(db, request.principal, request.params.id, request.params.start));

  app.get(contract.marketStatistics.path, { schema: contract.marketStatistics.schema },
    async (request) => marketStatistics(db, now(), request.principal, request.params.id, request.query));

  app.get(contract.marketWalletTotals.path, { schema: contract.marketWalletTotals.schema },
    async (request) => walletTotals(db, request.principal, request.params.id));

  app.post(contract.marketTopUp.path, { schema: contract.marketTopUp.schema }, async (request, reply) => {
    const posting = await recordTopUp(db, events, now(), request.principal, request.params.id, request.body);
    return reply.status(201).send(posting);
  });

  app.get(contract.marketDisputes.path, { schema: contract.marketDisputes.schema },
    async (request) => memberDisputes(db, request.principal, request.params.id));

  app.post(contract.openMarketDispute.path, { schema: contract.openMarketDispute.schema }, async (request, reply) => {
    const dispute = await fileDispute(db, events, now(), request.principal, request.params.id, request.body);
    return reply.status(201).send(dispute);
  });

  app.get(contract.communityMarketDisputes.path, { schema: contract.communityMarketDisputes.schema },
    async (request) => communityDisputes(db, request.principal, request.params.id, request.query.state));

  app.post(contract.resolveMarketDispute.path, { schema: contract.resolveMarketDispute.schema },
    async (request) => settleDispute(db, events, now(), request.principal, request.params.id, request.params.disputeId, request.body));

  app.get(contract.marketPayouts.path, { schema: contract.marketPayouts.schema },
    async (request) => communityPayouts(db, request.principal, request.params.id));

  app.post(contract.decideMarketPayout.path, { schema: contract.decideMarketPayout.schema },
    async (request) => decideOnPayout(db, events, now(), request.principal, request.params.id, request.params.payoutId, request.body));
}
