import type { FlexMyDevices } from '@gridshare/contract/flex';
import { call } from '../api/client.js';
import type { Formatter } from '../lib/format.js';
import { useAction, useApi } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';
import { Async, Empty, ErrorNote } from './ui.js';

type MyDevice = FlexMyDevices['devices'][number];

/**
 * The member's side of flexibility for the grid operator: which of their devices take part in
 * which of the community's contracts, the most power each may shift, and what they earned.
 */
export function FlexParticipation({ communityId, fmt }: { communityId: string; fmt: Formatter }) {
  const { t } = useI18n();
  const mine = useApi('myFlexDevices', { params: { id: communityId } });
  const rewards = useApi('myFlexRewards', { params: { id: communityId } });
  const action = useAction();
  const optIn = (event: Event, contractId: string, device: MyDevice) => action.submit(event, async (v) => {
    await call('optInFlexDevice', { params: { id: contractId, deviceId: device.id }, body: { maxPowerW: v.maxPowerW ? Number(v.maxPowerW) : null } });
    mine.reload();
  });
  const optOut = (contractId: string, device: MyDevice) => void action.run(async () => {
    await call('optOutFlexDevice', { params: { id: contractId, deviceId: device.id } });
    mine.reload();
  });
  const view = (data: FlexMyDevices) => {
    if (data.contracts.length === 0 || data.devices.length === 0) return <Empty><p>{t('flex.nothingToJoin')}</p></Empty>;
    return (
      <ul class="rows" aria-label={t('flex.title')}>
        {data.contracts.flatMap((c) => data.devices.map((d) => {
          const joined = d.optIns.find((o) => o.contractId === c.id);
          const label = t('flex.deviceInContract', { device: d.name, service: t(`manageFlex.service.${c.serviceType}`), from: fmt.day(c.validFrom), to: fmt.day(c.validTo) });
          return (
            <li key={`${c.id} ${d.id}`}>
              <div><strong>{label}</strong></div>
              <div><small class="muted">{joined ? t('flex.joined', { power: joined.maxPowerW === null ? t('flex.noLimit') : fmt.power(joined.maxPowerW) }) : t('flex.notJoined')}</small></div>
              {c.state !== 'ended' && (
                <form onSubmit={(e) => optIn(e, c.id, d)} aria-label={label}>
                  <label>{t('flex.maxPowerW')} <input name="maxPowerW" type="number" min="1" step="1" defaultValue={joined?.maxPowerW === null || !joined ? '' : String(joined.maxPowerW)} /></label>
                  <button type="submit" disabled={action.busy}>{joined ? t('flex.update') : t('flex.join')}</button>
                  {joined && <button type="button" class="secondary" onClick={() => optOut(c.id, d)} disabled={action.busy}>{t('flex.leave')}</button>}
                </form>
              )}
            </li>
          );
        }))}
      </ul>
    );
  };
  return (
    <section class="card" aria-labelledby="flex-heading">
      <h2 id="flex-heading">{t('flex.title')}</h2>
      <p class="muted">{t('flex.intro')}</p>
      <Async state={mine} what={t('flex.title')}>{view}</Async>
      <ErrorNote error={action.error} />
      <h3>{t('flex.rewards')}</h3>
      <Async state={rewards} what={t('flex.rewards')}>
        {(r) => r.rewards.length === 0 ? <p>{t('flex.noRewards')}</p> : (
          <>
            <p>{r.totals.map((total) => t('flex.total', { amount: fmt.money(total.amount) })).join(' · ')}</p>
            <ul class="rows" aria-label={t('flex.rewards')}>
              {r.rewards.map((w) => (
                <li key={`${w.orderReference} ${w.period}`}>
                  <div>{fmt.day(w.period)} · {w.congestionPoint}</div>
                  <div>{t('flex.reward', { amount: fmt.money(w.amount), energy: fmt.energy(w.contributionWh) })}</div>
                </li>
              ))}
            </ul>
          </>
        )}
      </Async>
    </section>
  );
}
