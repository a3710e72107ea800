import type { Community } from '@gridshare/contract/registry';
import type { MarketDispute, MarketPayout, MarketSettings, MarketStatistics, SlotDepth, SlotSummary, WalletTotals } from '@gridshare/contract/market';
import { useMemo, useState } from 'preact/hooks';
import { call } from '../../api/client.js';
import { Chart, preloadCharts } from '../../components/chart.js';
import { Async, Badge, Empty, ErrorNote, Field, Stat } from '../../components/ui.js';
import { depthOption } from '../../lib/chart-options.js';
import { NO_VALUE, type Formatter } from '../../lib/format.js';
import { useAction, useApi } from '../../lib/hooks.js';
import { clearingPoint, depthSteps } from '../../lib/market-depth.js';
import { PERIODS, periodQuery, type Period } from '../../lib/periods.js';
import type { Translate } from '../../lib/i18n/index.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { ManagePage } from './manage-page.js';
import { disputeState, postingKind, postingPeriod } from '../../components/wallet.js';

preloadCharts();

/** The community's market: its settings, the wallets' totals, statistics over a period and the latest cleared slots with their depth. */
export default function MarketPage({ params }: { params: Record<string, string> }) {
  const { t } = useI18n();
  return (
    <ManagePage communityId={params.communityId!} title={t('nav.market')}>
      {(c, fmt) => (
        <>
          <Settings community={c} />
          <Statistics community={c} fmt={fmt} />
          <Totals community={c} fmt={fmt} />
          <Disputes community={c} fmt={fmt} />
          <Payouts community={c} fmt={fmt} />
          <Slots community={c} fmt={fmt} />
        </>
      )}
    </ManagePage>
  );
}

function Settings({ community }: { community: Community }) {
  const { t } = useI18n();
  const settings = useApi('marketSettings', { params: { id: community.id } });
  const action = useAction();
  const save = (event: Event) => action.submit(event, async (v) => {
    await call('putMarketSettings', {
      params: { id: community.id },
      body: {
        mechanism: v.mechanism!, gateLeadMinutes: Number(v.gateLeadMinutes), gridFee: v.gridFee!, floor: v.floor ? v.floor : null,
        ceiling: v.ceiling ? v.ceiling : null, surplusPrice: v.surplusPrice!, shortfallPrice: v.shortfallPrice!,
        payoutThreshold: v.payoutThreshold ? v.payoutThreshold : null,
      },
    });
    settings.reload();
  });
  const form = (s: MarketSettings) => (
    <form onSubmit={save} key={JSON.stringify(s)}>
      <p>{s.enabled ? <Badge tone="good">{t('manageMarket.running')}</Badge> : <Badge tone="warn">{t('manageMarket.notRunning')}</Badge>}</p>
      <Field id="market-mechanism" label={t('manageMarket.mechanism')}>
        <select id="market-mechanism" name="mechanism">{s.mechanisms.map((m) => <option value={m} selected={m === s.mechanism}>{m}</option>)}</select>
      </Field>
      <Field id="market-gate" label={t('manageMarket.gateLead')}><input id="market-gate" name="gateLeadMinutes" type="number" min="0" max="1440" step="1" defaultValue={String(s.gateLeadMinutes)} required /></Field>
      <Field id="market-fee" label={t('manageMarket.gridFee')}><input id="market-fee" name="gridFee" inputMode="decimal" defaultValue={s.gridFee} required /></Field>
      <Field id="market-floor" label={t('manageMarket.floor')}><input id="market-floor" name="floor" inputMode="decimal" defaultValue={s.floor ?? ''} /></Field>
      <Field id="market-ceiling" label={t('manageMarket.ceiling')}><input id="market-ceiling" name="ceiling" inputMode="decimal" defaultValue={s.ceiling ?? ''} /></Field>
      <Field id="market-surplus" label={t('manageMarket.surplusPrice')}><input id="market-surplus" name="surplusPrice" inputMode="decimal" defaultValue={s.surplusPrice} required /></Field>
      <Field id="market-shortfall" label={t('manageMarket.shortfallPrice')}><input id="market-shortfall" name="shortfallPrice" inputMode="decimal" defaultValue={s.shortfallPrice} required /></Field>
      <Field id="market-payout" label={t('manageMarket.payoutThreshold')}><input id="market-payout" name="payoutThreshold" inputMode="decimal" defaultValue={s.payoutThreshold ?? ''} /></Field>
      <button type="submit" disabled={action.busy}>{t('manageMarket.save')}</button>
      <ErrorNote error={action.error} />
    </form>
  );
  return (
    <section class="card" aria-labelledby="market-settings-heading">
      <h2 id="market-settings-heading">{t('manageMarket.settings')}</h2>
      <Async state={settings} what={t('manageMarket.settings')}>{form}</Async>
    </section>
  );
}

function Totals({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const totals = useApi('marketWalletTotals', { params: { id: community.id } }, { refreshMs: 60_000 });
  const view = (w: WalletTotals) => (
    <dl class="stats">
      <Stat label={t('manageMarket.walletsTotal')} value={fmt.money(w.walletsTotal)} />
      <Stat label={t('manageMarket.communityTotal')} value={fmt.money(w.communityTotal)} />
      <Stat label={t('manageMarket.sum')} value={fmt.money(w.sum)} detail={w.drifted === 0 ? t('manageMarket.balanced') : t('manageMarket.drifted', { count: w.drifted })} />
    </dl>
  );
  return (
    <section class="card" aria-labelledby="market-totals-heading">
      <h2 id="market-totals-heading">{t('manageMarket.wallets')}</h2>
      <Async state={totals} what={t('manageMarket.wallets')}>{view}</Async>
    </section>
  );
}

function Slots({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const slots = useApi('marketSlots', { params: { id: community.id }, query: { limit: 24 } }, { refreshMs: 60_000 });
  const [chosen, choose] = useState<string | undefined>(undefined);
  // The slot shown in depth: the one chosen, else the latest with trades, else the latest.
  const shown = chosen ?? (slots.data?.find((s) => s.trades > 0) ?? slots.data?.[0])?.slotStart;
  const table = (list: SlotSummary[]) => list.length === 0
    ? <Empty><p>{t('manageMarket.noSlots')}</p></Empty>
    : (
      <div class="table-scroll">
        <table class="stack">
          <caption>{t('manageMarket.slotsCaption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('market.slot')}</th><th scope="col" class="num">{t('market.price')}</th><th scope="col" class="num">{t('manageMarket.volume')}</th>
              <th scope="col" class="num">{t('manageMarket.tradeCount')}</th><th scope="col" class="num">{t('manageMarket.orderCount')}</th><th scope="col">{t('manageMarket.settled')}</th>
              <th scope="col"><span class="sr-only">{t('manageMarket.depth')}</span></th>
            </tr>
          </thead>
          <tbody>
            {list.map((s) => (
              <tr key={s.slotStart}>
                <td data-label={t('market.slot')}>{fmt.dateTime(s.slotStart)}</td>
                <td data-label={t('market.price')} class="num">{s.clearingPrice === null ? '' : fmt.pricePerKWh(s.clearingPrice)}</td>
                <td data-label={t('manageMarket.volume')} class="num">{fmt.energy(s.volumeWh)}</td>
                <td data-label={t('manageMarket.tradeCount')} class="num">{fmt.count(s.trades)}</td>
                <td data-label={t('manageMarket.orderCount')} class="num">{fmt.count(s.orders)}</td>
                <td data-label={t('manageMarket.settled')}>{s.settledAt ? <Badge tone="good">{t('manageMarket.yes')}</Badge> : <Badge tone="neutral">{t('manageMarket.pending')}</Badge>}</td>
                <td>
                  <button type="button" class="link" aria-pressed={s.slotStart === shown} onClick={() => choose(s.slotStart)}>
                    {t('manageMarket.showDepth', { slot: fmt.dateTime(s.slotStart) })}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  return (
    <section class="card" aria-labelledby="market-slots-heading">
      <h2 id="market-slots-heading">{t('manageMarket.slots')}</h2>
      <Async state={slots} what={t('manageMarket.slots')}>{table}</Async>
      {shown && <Depth community={community} slotStart={shown} fmt={fmt} />}
    </section>
  );
}

/** One slot's order book as demand and supply curves with the clearing point, and the same figures as a table. */
function Depth({ community, slotStart, fmt }: { community: Community; slotStart: string; fmt: Formatter }) {
  const { t } = useI18n();
  const depth = useApi('marketSlotDepth', { params: { id: community.id, start: slotStart } });
  const view = (d: SlotDepth) => <DepthView depth={d} fmt={fmt} />;
  return (
    <div data-testid="market-depth">
      <h3>{t('manageMarket.depthOf', { slot: fmt.dateTime(slotStart) })}</h3>
      <Async state={depth} what={t('manageMarket.depth')}>{view}</Async>
    </div>
  );
}

function DepthView({ depth, fmt }: { depth: SlotDepth; fmt: Formatter }) {
  const { t } = useI18n();
  const option = useMemo(() => depthOption({ bids: depthSteps(depth.bids), offers: depthSteps(depth.offers), clearing: clearingPoint(depth) }, fmt, t), [depth, fmt, t]);
  if (depth.bids.length === 0 && depth.offers.length === 0) return <Empty><p>{t('manageMarket.noOrders')}</p></Empty>;
  const summary = depth.clearingPrice === null
    ? t('manageMarket.depthNoTrade')
    : t('manageMarket.depthSummary', { price: fmt.pricePerKWh(depth.clearingPrice), energy: fmt.energy(depth.volumeWh) });
  const rows = (side: 'bids' | 'offers') => depth[side].map((l) => (
    <tr key={`${side}-${l.price}`}>
      <td data-label={t('manageMarket.side')}>{t(side === 'bids' ? 'manageMarket.bids' : 'manageMarket.offers')}</td>
      <td data-label={t('market.price')} class="num">{fmt.pricePerKWh(l.price)}</td>
      <td data-label={t('market.energy')} class="num">{fmt.energy(l.energyWh)}</td>
      <td data-label={t('manageMarket.cumulative')} class="num">{fmt.energy(l.cumulativeWh)}</td>
    </tr>
  ));
  return (
    <>
      <p>{summary} · {t('manageMarket.depthFee', { fee: fmt.pricePerKWh(depth.gridFee) })}</p>
      <Chart option={option} summary={summary} height={300} />
      <div class="table-scroll">
        <table class="stack">
          <caption class="sr-only">{t('manageMarket.depthCaption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('manageMarket.side')}</th><th scope="col" class="num">{t('market.price')}</th>
              <th scope="col" class="num">{t('market.energy')}</th><th scope="col" class="num">{t('manageMarket.cumulative')}</th>
            </tr>
          </thead>
          <tbody>{rows('bids')}{rows('offers')}</tbody>
        </table>
      </div>
    </>
  );
}

/** The periods the statistics are asked for (a custom span is for the energy pages). */
const STATISTICS_PERIODS = PERIODS.filter((p) => p.id !== 'custom');

/** The market over a chosen period: volume, clearing prices, welfare and the share of the community's shared energy traded. */
function Statistics({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const [period, setPeriod] = useState<Period>('last24h');
  const query = useMemo(() => periodQuery(period, new Date(), community.timeZone), [period, community.timeZone]);
  const stats = useApi('marketStatistics', query ? { params: { id: community.id }, query: query.range } : null, { refreshMs: 60_000 });
  const price = (p: string | null) => (p === null ? NO_VALUE : fmt.pricePerKWh(p));
  const view = (s: MarketStatistics) => (
    <dl class="stats" data-testid="market-statistics">
      <Stat label={t('manageMarket.volume')} value={fmt.energy(s.volumeWh)} detail={t('manageMarket.tradesInSlots', { trades: s.trades, slots: s.tradedSlots })} />
      <Stat label={t('manageMarket.averagePrice')} value={price(s.averagePrice)} detail={t('manageMarket.priceRange', { min: price(s.minPrice), max: price(s.maxPrice) })} />
      <Stat label={t('manageMarket.welfare')} value={fmt.money(s.welfare)} detail={t('manageMarket.gridFees', { fees: fmt.money(s.gridFees) })} />
      <Stat label={t('manageMarket.tradedShare')} value={fmt.percent(s.tradedShare)} detail={t('manageMarket.sharedEnergy', { energy: fmt.energy(s.sharedWh) })} />
    </dl>
  );
  return (
    <section class="card" aria-labelledby="market-statistics-heading">
      <div class="section-head">
        <h2 id="market-statistics-heading">{t('manageMarket.statistics')}</h2>
        <div role="group" aria-label={t('period.group')} class="toggle">
          {STATISTICS_PERIODS.map((p) => (
            <button key={p.id} type="button" aria-pressed={period === p.id} onClick={() => setPeriod(p.id)}>{t(p.label)}</button>
          ))}
        </div>
      </div>
      <Async state={stats} what={t('manageMarket.statistics')}>{view}</Async>
    </section>
  );
}

/** The community's disputes, open ones first; each open one is resolved here, by a note or a correction. */
function Disputes({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const disputes = useApi('communityMarketDisputes', { params: { id: community.id } }, { refreshMs: 60_000 });
  const action = useAction();
  const resolve = (event: Event, d: MarketDispute) => action.submit(event, async (v) => {
    const corrected = v.outcome === 'corrected';
    await call('resolveMarketDispute', {
      params: { id: community.id, disputeId: d.id },
      body: corrected ? { outcome: 'corrected', note: v.note!, amount: v.amount! } : { outcome: 'rejected', note: v.note! },
    });
    disputes.reload();
  });
  const row = (d: MarketDispute) => (
    <li key={d.id}>
      <p>
        {disputeState(t, d)} {fmt.dateTime(d.openedAt)} · {postingKind(t, d.posting.kind, d.posting.line)}
        {d.posting.slotStart ? ` · ${postingPeriod(t, fmt, d.posting)}` : ''} · {fmt.money(d.posting.amount)}
      </p>
      <p>{t('manageMarket.disputeReason', { reason: d.reason })}</p>
      {d.state === 'open'
        ? (
          <form onSubmit={(e) => resolve(e, d)} class="inline-form">
            <Field id={`outcome-${d.id}`} label={t('manageMarket.outcome')}>
              <select id={`outcome-${d.id}`} name="outcome">
                <option value="corrected">{t('manageMarket.correct')}</option>
                <option value="rejected">{t('manageMarket.reject')}</option>
              </select>
            </Field>
            <Field id={`amount-${d.id}`} label={t('manageMarket.creditAmount')}><input id={`amount-${d.id}`} name="amount" inputMode="decimal" pattern="\d{1,9}(\.\d{1,4})?" /></Field>
            <Field id={`note-${d.id}`} label={t('manageMarket.note')}><input id={`note-${d.id}`} name="note" maxLength={500} required /></Field>
            <button type="submit" disabled={action.busy}>{t('manageMarket.resolve')}</button>
          </form>
        )
        : <p>{t('manageMarket.answered', { note: d.note ?? '' })}{d.amount === null ? '' : ` · ${fmt.money(d.amount)}`}</p>}
    </li>
  );
  return (
    <section class="card" aria-labelledby="market-disputes-heading">
      <h2 id="market-disputes-heading">{t('manageMarket.disputes')}</h2>
      <Async state={disputes} what={t('manageMarket.disputes')}>
        {(list) => list.length === 0 ? <Empty><p>{t('manageMarket.noDisputes')}</p></Empty> : <ul class="plain">{list.map(row)}</ul>}
      </Async>
      <ErrorNote error={action.error} />
    </section>
  );
}

/** Payout requests (made monthly for wallets above the threshold): each confirmed with the transfer's reference, or cancelled. */
function Payouts({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const payouts = useApi('marketPayouts', { params: { id: community.id } }, { refreshMs: 60_000 });
  const action = useAction();
  const decide = (event: Event, p: MarketPayout) => action.submit(event, async (v) => {
    await call('decideMarketPayout', {
      params: { id: community.id, payoutId: p.id }, body: { outcome: v.outcome === 'cancelled' ? 'cancelled' : 'confirmed', reference: v.reference! },
    });
    payouts.reload();
  });
  const row = (p: MarketPayout) => (
    <li key={p.id}>
      <p>{payoutState(t, p)} {fmt.dateTime(p.requestedAt)} · {fmt.money(p.amount)}{p.reference ? ` · ${p.reference}` : ''}</p>
      {p.state === 'requested' && (
        <form onSubmit={(e) => decide(e, p)} class="inline-form">
          <Field id={`payout-outcome-${p.id}`} label={t('manageMarket.outcome')}>
            <select id={`payout-outcome-${p.id}`} name="outcome">
              <option value="confirmed">{t('manageMarket.confirmPayout')}</option>
              <option value="cancelled">{t('manageMarket.cancelPayout')}</option>
            </select>
          </Field>
          <Field id={`payout-reference-${p.id}`} label={t('manageMarket.payoutReference')}><input id={`payout-reference-${p.id}`} name="reference" maxLength={120} required /></Field>
          <button type="submit" disabled={action.busy}>{t('manageMarket.decide')}</button>
        </form>
      )}
    </li>
  );
  return (
    <section class="card" aria-labelledby="market-payouts-heading">
      <h2 id="market-payouts-heading">{t('manageMarket.payouts')}</h2>
      <Async state={payouts} what={t('manageMarket.payouts')}>
        {(list) => list.length === 0 ? <Empty><p>{t('manageMarket.noPayouts')}</p></Empty> : <ul class="plain">{list.map(row)}</ul>}
      </Async>
      <ErrorNote error={action.error} />
    </section>
  );
}

function payoutState(t: Translate, p: MarketPayout) {
  if (p.state === 'requested') return <Badge tone="warn">{t('manageMarket.payoutRequested')}</Badge>;
  if (p.state === 'confirmed') return <Badge tone="good">{t('manageMarket.payoutConfirmed')}</Badge>;
  return <Badge tone="neutral">{t('manageMarket.payoutCancelled')}</Badge>;
}
