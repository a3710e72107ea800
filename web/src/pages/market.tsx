import { useEffect, useMemo, useState } from 'preact/hooks';
import type { AgentLimits, MarketOrder, MarketTrade, Wallet } from '@gridshare/contract/market';
import { call } from '../api/client.js';
import { Async, Badge, Empty, ErrorNote, Field, Page, Stat } from '../components/ui.js';
import { useMemberContext } from '../lib/context.js';
import type { Formatter } from '../lib/format.js';
import { useAction, useApi, useTicker } from '../lib/hooks.js';
import type { Translate } from '../lib/i18n/index.js';
import { useI18n } from '../lib/i18n/provider.js';
import { useFormat } from '../session.js';
import { disputeState, postingKind, postingPeriod } from '../components/wallet.js';
import { checkMovementInBrowser, type MovementCheck } from '../lib/movement-proof.js';
import { uncheckedReason } from '../lib/browser-check.js';

const QUARTER_HOUR_MS = 900_000;

/** The member's market: wallet, trades, orders and the automatic agent's limits. */
export default function Market({ params }: { params: Record<string, string> }) {
  const memberId = params.memberId!;
  const { member, community } = useMemberContext(memberId);
  const fmt = useFormat(community.data);
  const { t } = useI18n();
  const wallet = useApi('marketWallet', member.data ? { params: { id: memberId } } : null, { refreshMs: 60_000 });
  const trades = useApi('marketTrades', member.data ? { params: { id: memberId } } : null, { refreshMs: 60_000 });
  return (
    <Async state={member} what={t('thing.member')}>
      {(m) => (
        <Page title={t('market.title', { name: m.displayName })}>
          <Async state={wallet} what={t('market.wallet')}>{(w) => <WalletCard memberId={memberId} communityId={m.communityId} wallet={w} fmt={fmt} />}</Async>
          <Async state={wallet} what={t('market.disputes')}>{(w) => <Disputes memberId={memberId} wallet={w} fmt={fmt} onChange={wallet.reload} />}</Async>
          <Async state={trades} what={t('market.trades')}>{(list) => <Trades trades={list} fmt={fmt} />}</Async>
          <Orders memberId={memberId} fmt={fmt} />
          <Limits memberId={memberId} />
        </Page>
      )}
    </Async>
  );
}

/** Dispute a posting of the wallet; the member's disputes with the manager's answers. */
function Disputes({ memberId, wallet, fmt, onChange }: { memberId: string; wallet: Wallet; fmt: Formatter; onChange: () => void }) {
  const { t } = useI18n();
  const disputes = useApi('marketDisputes', { params: { id: memberId } }, { refreshMs: 60_000 });
  const action = useAction();
  const file = (event: Event) => action.submit(event, async (v) => {
    await call('openMarketDispute', { params: { id: memberId }, body: { posting: Number(v.posting), reason: v.reason! } });
    disputes.reload();
    onChange();
  });
  return (
    <section class="card" aria-labelledby="disputes-heading">
      <h2 id="disputes-heading">{t('market.disputes')}</h2>
      {wallet.postings.length > 0 && (
        <form onSubmit={file}>
          <Field id="dispute-posting" label={t('market.disputePosting')}>
            <select id="dispute-posting" name="posting">
              {wallet.postings.map((p) => (
                <option value={String(p.sequence)}>
                  {`${fmt.dateTime(p.at)} · ${postingKind(t, p.kind, p.line)}${p.slotStart ? ` · ${postingPeriod(t, fmt, p)}` : ''} · ${fmt.money(p.amount)}`}
                </option>
              ))}
            </select>
          </Field>
          <Field id="dispute-reason" label={t('market.disputeReason')}><textarea id="dispute-reason" name="reason" maxLength={1000} required /></Field>
          <button type="submit" disabled={action.busy}>{t('market.dispute')}</button>
          <ErrorNote error={action.error} />
        </form>
      )}
      <Async state={disputes} what={t('market.disputes')}>
        {(list) => list.length === 0
          ? <Empty><p>{t('market.noDisputes')}</p></Empty>
          : (
            <div class="table-scroll">
              <table class="stack">
                <caption>{t('market.disputesCaption')}</caption>
                <thead><tr><th scope="col">{t('market.when')}</th><th scope="col">{t('market.what')}</th><th scope="col">{t('market.disputeReason')}</th><th scope="col">{t('market.state')}</th><th scope="col">{t('market.disputeAnswer')}</th><th scope="col" class="num">{t('market.disputeCredited')}</th></tr></thead>
                <tbody>
                  {list.map((d) => (
                    <tr key={d.id}>
                      <td data-label={t('market.when')}>{fmt.dateTime(d.openedAt)}</td>
                      <td data-label={t('market.what')}>{`${postingKind(t, d.posting.kind, d.posting.line)}${d.posting.slotStart ? ` · ${postingPeriod(t, fmt, d.posting)}` : ''} · ${fmt.money(d.posting.amount)}`}</td>
                      <td data-label={t('market.disputeReason')}>{d.reason}</td>
                      <td data-label={t('market.state')}>{disputeState(t, d)}</td>
                      <td data-label={t('market.disputeAnswer')}>{d.note ?? ''}</td>
                      <td data-label={t('market.disputeCredited')} class="num">{d.amount === null ? '' : fmt.money(d.amount)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
      </Async>
    </section>
  );
}

function WalletCard({ memberId, communityId, wallet, fmt }: { memberId: string; communityId: string; wallet: Wallet; fmt: Formatter }) {
  const { t } = useI18n();
  const [proofOf, setProofOf] = useState<number | null>(null);
  return (
    <section class="card" aria-labelledby="wallet-heading">
      <h2 id="wallet-heading">{t('market.wallet')}</h2>
      <dl class="stats"><Stat label={t('market.balance')} value={fmt.money(wallet.balance)} /></dl>
      {wallet.postings.length === 0
        ? <Empty><p>{t('market.noPostings')}</p></Empty>
        : (
          <div class="table-scroll">
            <table class="stack">
              <caption>{t('market.postingsCaption')}</caption>
              <thead><tr><th scope="col">{t('market.when')}</th><th scope="col">{t('market.what')}</th><th scope="col">{t('market.period')}</th><th scope="col" class="num">{t('market.amount')}</th><th scope="col"><span class="sr-only">{t('market.proof')}</span></th></tr></thead>
              <tbody>
                {wallet.postings.map((p) => (
                  <tr key={p.sequence}>
                    <td data-label={t('market.when')}>{fmt.dateTime(p.at)}</td>
                    <td data-label={t('market.what')}>{postingKind(t, p.kind, p.line)}</td>
                    <td data-label={t('market.period')}>{postingPeriod(t, fmt, p)}</td>
                    <td data-label={t('market.amount')} class="num">{fmt.money(p.amount)}</td>
                    <td class="actions">
                      {p.recorded
                        ? <button type="button" class="link" aria-pressed={proofOf === p.sequence} onClick={() => setProofOf(p.sequence)}>{t('market.proof')}</button>
                        : <span class="muted">{t('market.notRecordedYet')}</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      {proofOf !== null && <MovementProof memberId={memberId} communityId={communityId} sequence={proofOf} fmt={fmt} />}
    </section>
  );
}

/**
 * A movement's proof, checked here in the browser (lib/movement-proof.ts) against the keys the
 * record publishes, shown with the proof to download and the command that checks it offline.
 */
function MovementProof({ memberId, communityId, sequence, fmt }: { memberId: string; communityId: string; sequence: number; fmt: Formatter }) {
  const { t } = useI18n();
  const [check, setCheck] = useState<{ sequence: number; result?: MovementCheck; error?: unknown }>({ sequence });
  useEffect(() => {
    let current = true;
    checkMovementInBrowser(memberId, communityId, sequence).then(
      (result) => current && setCheck({ sequence, result }),
      (error: unknown) => current && setCheck({ sequence, error }),
    );
    return () => {
      current = false;
    };
  }, [memberId, communityId, sequence]);
  const shown = check.sequence === sequence ? check : { sequence };
  return (
    <section aria-labelledby="movement-proof-heading" data-testid="movement-proof" aria-live="polite">
      <h3 id="movement-proof-heading">{t('market.proofTitle', { sequence: fmt.count(sequence) })}</h3>
      {shown.error !== undefined
        ? <ErrorNote error={shown.error} />
        : shown.result === undefined
          ? <p>{t('market.proofChecking')}</p>
          : shown.result.state === 'not-recorded'
            ? <p>{t('market.proofNotYet')}</p>
            : <MovementProofResult check={shown.result} sequence={sequence} fmt={fmt} />}
    </section>
  );
}

function MovementProofResult({ check, sequence, fmt }: { check: Exclude<MovementCheck, { state: 'not-recorded' }>; sequence: number; fmt: Formatter }) {
  const { t } = useI18n();
  const file = `movement-proof-${sequence}.json`;
  const { keys } = check;
  return (
    <>
      {check.state === 'verified'
        ? (
          <>
            <p><Badge tone="good">{t('market.proofVerifiedHere')}</Badge></p>
            <p>{t('market.proofExplained', {
              amount: fmt.money(check.verified.record.amount), index: fmt.count(check.proof.batch.index + 1), size: fmt.count(check.proof.batch.size),
              logIndex: fmt.count(check.verified.receipt.index), treeSize: fmt.count(check.verified.receipt.checkpoint.size),
            })}</p>
          </>
        )
        : check.state === 'refused'
          ? (
            <>
              <p><Badge tone="bad">{t('market.proofRefusedHere')}</Badge></p>
              <p>{t('market.proofRefusal', { reason: check.reason, message: check.message })}</p>
            </>
          )
          : (
            <>
              <p><Badge tone="neutral">{t('verify.unchecked')}</Badge></p>
              <p>{uncheckedReason(t, check.lacking)}</p>
            </>
          )}
      <p class="muted">{keys.communityDid
        ? t('market.proofKeys', { key: keys.verifierKey, did: keys.communityDid })
        : t('market.proofKeysUnsigned', { key: keys.verifierKey })}</p>
      <div class="row-actions">
        <a href={`data:application/json;charset=utf-8,${encodeURIComponent(JSON.stringify(check.proof, null, 2))}`} download={file}>{t('market.proofDownload', { file })}</a>
      </div>
      <p><code>{keys.communityDid
        ? t('market.proofCommand', { file, key: keys.verifierKey, did: keys.communityDid })
        : t('market.proofCommandUnsigned', { file, key: keys.verifierKey })}</code></p>
    </>
  );
}

function Trades({ trades, fmt }: { trades: MarketTrade[]; fmt: Formatter }) {
  const { t } = useI18n();
  return (
    <section class="card" aria-labelledby="trades-heading">
      <h2 id="trades-heading">{t('market.trades')}</h2>
      {trades.length === 0
        ? <Empty><p>{t('market.noTrades')}</p></Empty>
        : (
          <div class="table-scroll">
            <table class="stack">
              <caption>{t('market.tradesCaption')}</caption>
              <thead><tr><th scope="col">{t('market.slot')}</th><th scope="col">{t('market.side')}</th><th scope="col" class="num">{t('market.energy')}</th><th scope="col" class="num">{t('market.price')}</th></tr></thead>
              <tbody>
                {trades.map((trade, i) => (
                  <tr key={`${trade.slotStart}-${trade.orderId}-${i}`}>
                    <td data-label={t('market.slot')}>{fmt.dateTime(trade.slotStart)}</td>
                    <td data-label={t('market.side')}>{trade.side === 'buy' ? t('market.bought') : t('market.sold')}</td>
                    <td data-label={t('market.energy')} class="num">{fmt.energy(trade.energyWh)}</td>
                    <td data-label={t('market.price')} class="num">{fmt.pricePerKWh(trade.price)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </section>
  );
}

function orderState(t: Translate, o: MarketOrder) {
  if (o.state === 'open') return <Badge tone="good">{t('market.open')}</Badge>;
  if (o.state === 'withdrawn') return <Badge tone="neutral">{t('market.withdrawn')}</Badge>;
  return <Badge tone="neutral">{t('market.closed')}</Badge>;
}

function Orders({ memberId, fmt }: { memberId: string; fmt: Formatter }) {
  const { t } = useI18n();
  const orders = useApi('marketOrders', { params: { id: memberId } }, { refreshMs: 60_000 });
  const action = useAction();
  const quarter = Math.floor(useTicker(60_000) / QUARTER_HOUR_MS);
  // The next slots whose gate is surely open: from the second quarter hour ahead, for four hours.
  const slots = useMemo(() => Array.from({ length: 16 }, (_, k) => new Date((quarter + 2 + k) * QUARTER_HOUR_MS).toISOString()), [quarter]);
  const place = (event: Event) => action.submit(event, async (v) => {
    await call('submitMarketOrder', { params: { id: memberId }, body: { slotStart: v.slotStart!, side: v.side === 'sell' ? 'sell' : 'buy', energyWh: Number(v.energyWh), price: v.price! } });
    orders.reload();
  });
  const withdraw = (id: string) => void action.run(async () => {
    await call('withdrawMarketOrder', { params: { id } });
    orders.reload();
  });
  return (
    <section class="card" aria-labelledby="orders-heading">
      <h2 id="orders-heading">{t('market.orders')}</h2>
      <form onSubmit={place} class="inline-form">
        <Field id="order-slot" label={t('market.slot')}>
          <select id="order-slot" name="slotStart">{slots.map((s) => <option value={s}>{fmt.dateTime(s)}</option>)}</select>
        </Field>
        <Field id="order-side" label={t('market.side')}>
          <select id="order-side" name="side"><option value="buy">{t('market.buy')}</option><option value="sell">{t('market.sell')}</option></select>
        </Field>
        <Field id="order-energy" label={t('market.energyWh')}><input id="order-energy" name="energyWh" type="number" min="1" max="10000000" step="1" required /></Field>
        <Field id="order-price" label={t('market.pricePerKWh')}><input id="order-price" name="price" inputMode="decimal" pattern="\d{1,6}(\.\d{1,4})?" required /></Field>
        <button type="submit" disabled={action.busy}>{t('market.place')}</button>
      </form>
      <ErrorNote error={action.error} />
      <Async state={orders} what={t('market.orders')}>
        {(list) => list.length === 0
          ? <Empty><p>{t('market.noOrders')}</p></Empty>
          : (
            <div class="table-scroll">
              <table class="stack">
                <caption>{t('market.ordersCaption')}</caption>
                <thead><tr><th scope="col">{t('market.slot')}</th><th scope="col">{t('market.side')}</th><th scope="col" class="num">{t('market.energy')}</th><th scope="col" class="num">{t('market.price')}</th><th scope="col">{t('market.by')}</th><th scope="col">{t('market.state')}</th><th scope="col"><span class="sr-only">{t('market.withdraw')}</span></th></tr></thead>
                <tbody>
                  {list.map((o) => (
                    <tr key={o.id}>
                      <td data-label={t('market.slot')}>{fmt.dateTime(o.slotStart)}</td>
                      <td data-label={t('market.side')}>{o.side === 'buy' ? t('market.buy') : t('market.sell')}</td>
                      <td data-label={t('market.energy')} class="num">{fmt.energy(o.energyWh)}</td>
                      <td data-label={t('market.price')} class="num">{fmt.pricePerKWh(o.price)}</td>
                      <td data-label={t('market.by')}>{o.origin === 'agent' ? t('market.byAgent') : t('market.byYou')}</td>
                      <td data-label={t('market.state')}>{orderState(t, o)}</td>
                      <td class="actions">{o.state === 'open' && o.origin === 'member'
                        ? <button type="button" class="link" disabled={action.busy} onClick={() => withdraw(o.id)}>{t('market.withdraw')}</button>
                        : null}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
      </Async>
    </section>
  );
}

function Limits({ memberId }: { memberId: string }) {
  const { t } = useI18n();
  const limits = useApi('marketAgentLimits', { params: { id: memberId } });
  const action = useAction();
  const save = (event: Event, current: AgentLimits) => action.submit(event, async (v) => {
    await call('putMarketAgentLimits', {
      params: { id: memberId },
      body: {
        enabled: v.enabled === 'on', minSellPrice: v.minSellPrice ? v.minSellPrice : null, maxBuyPrice: v.maxBuyPrice ? v.maxBuyPrice : null,
        sellShare: v.sellShare!, buyShare: v.buyShare!, meteringPointIds: current.meteringPointIds,
      },
    });
    limits.reload();
  });
  return (
    <section class="card" aria-labelledby="limits-heading">
      <h2 id="limits-heading">{t('market.agent')}</h2>
      <p class="muted">{t('market.agentIntro')}</p>
      <Async state={limits} what={t('market.agent')}>
        {(l) => (
          <form onSubmit={(e) => save(e, l)} key={JSON.stringify(l)}>
            <label><input type="checkbox" name="enabled" defaultChecked={l.enabled} /> {t('market.agentEnabled')}</label>
            <Field id="limit-sell" label={t('market.minSellPrice')}><input id="limit-sell" name="minSellPrice" inputMode="decimal" defaultValue={l.minSellPrice ?? ''} /></Field>
            <Field id="limit-buy" label={t('market.maxBuyPrice')}><input id="limit-buy" name="maxBuyPrice" inputMode="decimal" defaultValue={l.maxBuyPrice ?? ''} /></Field>
            <Field id="limit-sell-share" label={t('market.sellShare')}><input id="limit-sell-share" name="sellShare" inputMode="decimal" defaultValue={l.sellShare} required /></Field>
            <Field id="limit-buy-share" label={t('market.buyShare')}><input id="limit-buy-share" name="buyShare" inputMode="decimal" defaultValue={l.buyShare} required /></Field>
            <button type="submit" disabled={action.busy}>{t('market.saveLimits')}</button>
            <ErrorNote error={action.error} />
          </form>
        )}
      </Async>
    </section>
  );
}
