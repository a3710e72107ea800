import { useMemo } from 'preact/hooks';
import type { DeviceControl, MyPlan } from '@gridshare/contract/optimise';
import { call } from '../api/client.js';
import { preloadCharts } from '../components/chart.js';
import { assetLines, DeviceStarts, LimitExcessList, PlanFigures, ScheduleChart } from '../components/plan.js';
import { Async, Empty, ErrorNote, Field, Page } from '../components/ui.js';
import { useMemberContext } from '../lib/context.js';
import type { Formatter } from '../lib/format.js';
import { useAction, useApi } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';
import { nextLocalTime } from '../lib/time.js';
import { deviceKindName } from '../lib/names.js';
import type { Translate } from '../lib/i18n/index.js';
import { ruleName } from '../lib/rules.js';
import { useFormat } from '../session.js';

preloadCharts();

/** My plan: what the community's plan does with my devices and what it saves me; which devices it may control, within which limits. */
export default function MemberPlan({ params }: { params: Record<string, string> }) {
  const memberId = params.memberId!;
  const { t } = useI18n();
  const { member, community, points } = useMemberContext(memberId);
  const fmt = useFormat(community.data);
  const plan = useApi('memberPlan', { params: { id: memberId } }, { refreshMs: 60_000 });
  const devices = useApi('listDevices', member.data ? { params: { id: member.data.communityId } } : null);
  return (
    <Page title={t('plan.myTitle')}>
      <section class="card" aria-labelledby="my-plan-heading">
        <h2 id="my-plan-heading">{t('plan.myTitle')}</h2>
        <Async state={plan} what={t('plan.myTitle')}>{(p) => <MyPlanView plan={p} fmt={fmt} />}</Async>
      </section>
      <section class="card" aria-labelledby="control-heading">
        <h2 id="control-heading">{t('plan.controlTitle')}</h2>
        <p class="muted">{t('plan.controlIntro')}</p>
        <Async state={points} what={t('thing.sites')}>
          {(sites) => (
            <Async state={devices} what={t('thing.devices')}>
              {(all) => {
                const own = all.filter((d) => d.meteringPointId && sites.some((s) => s.id === d.meteringPointId) && CONTROLLABLE.has(d.kind));
                if (own.length === 0) return <Empty><p>{t('plan.noControllable')}</p></Empty>;
                return own.map((d) => <DeviceControlCard key={d.id} deviceId={d.id} fmt={fmt} onChanged={plan.reload} />);
              }}
            </Async>
          )}
        </Async>
      </section>
    </Page>
  );
}

/** What the member changes on a device: permission, limits or an override. */
type ControlChange = { controllable?: boolean; limits?: DeviceControl['limits']; overrideUntil?: string | null };

const CONTROLLABLE = new Set(['battery', 'ev-charger', 'heat-pump', 'smart-plug', 'inverter']);

function MyPlanView({ plan, fmt }: { plan: MyPlan; fmt: Formatter }) {
  const { t } = useI18n();
  const lines = useMemo(() => assetLines(plan.assets, t), [plan.assets, t]);
  if (!plan.plan) return <Empty><p>{t('plan.none')}</p></Empty>;
  return (
    <>
      <PlanFigures plan={plan.plan} fmt={fmt} />
      {plan.saving && (
        <p data-testid="my-saving">
          {t('plan.mySaving', { total: fmt.money(plan.saving.total), direct: fmt.money(plan.saving.direct), share: fmt.money(plan.saving.communityShare) })}
        </p>
      )}
      {plan.saving?.sharing && <p data-testid="my-share-rule">{shareText(plan.saving.sharing, fmt, t)}</p>}
      {plan.assets.length === 0
        ? <p class="muted">{t('plan.noAssets')}</p>
        : <ScheduleChart plan={plan.plan} lines={lines} fmt={fmt} />}
      <DeviceStarts assets={plan.assets} fmt={fmt} />
      <LimitExcessList excess={plan.limitExcess} fmt={fmt} />
      {plan.because.length > 0 && (
        <>
          <h3>{t('plan.why')}</h3>
          <ul>{plan.because.map((line) => <li key={line}>{line}</li>)}</ul>
        </>
      )}
    </>
  );
}

/** How my part of the community's saving was found: by the community's sharing rule (and my key), or by baseline import. */
function shareText(sharing: NonNullable<NonNullable<MyPlan['saving']>['sharing']>, fmt: Formatter, t: Translate): string {
  const energy = fmt.energy(sharing.weightWh);
  if (sharing.basis === 'baseline-import') return t('plan.shareByBaselineImport', { energy });
  const rule = ruleName(sharing.rule, t);
  return sharing.key === null ? t('plan.shareByRule', { rule, energy }) : t('plan.shareByRuleWithKey', { rule, key: fmt.percent(Number(sharing.key)), energy });
}

/** One device: may the plan control it, its limits, a manual override, and (appliances) start requests. */
function DeviceControlCard({ deviceId, fmt, onChanged }: { deviceId: string; fmt: Formatter; onChanged: () => void }) {
  const { t } = useI18n();
  const control = useApi('deviceControl', { params: { id: deviceId } });
  const action = useAction();
  const save = (body: ControlChange) => void action.run(async () => {
    await call('putDeviceControl', { params: { id: deviceId }, body });
    control.reload();
    onChanged();
  });
  return (
    <Async state={control} what={t('thing.devices')}>
      {(c) => (
        <details class="device-control" data-testid={`control-${c.deviceId}`}>
          <summary>
            <strong>{c.name}</strong> <small class="muted">{deviceKindName(c.kind, t)} · {c.controllable ? t('plan.allowed') : t('plan.notAllowed')}
              {c.overrideUntil ? ` · ${t('plan.overriddenUntil', { until: fmt.dateTime(c.overrideUntil) })}` : ''}</small>
          </summary>
          <label>
            <input type="checkbox" checked={c.controllable} disabled={action.busy} onChange={(e) => save({ controllable: (e.currentTarget as HTMLInputElement).checked })} />
            {' '}{t('plan.allow')}
          </label>
          <LimitsForm control={c} busy={action.busy} onSave={(limits) => save({ limits })} />
          <p>
            {c.overrideUntil
              ? <button type="button" disabled={action.busy} onClick={() => save({ overrideUntil: null })}>{t('plan.endOverride')}</button>
              : <button type="button" disabled={action.busy} onClick={() => save({ overrideUntil: new Date(Date.now() + 3 * 3_600_000).toISOString() })}>{t('plan.override3h')}</button>}
          </p>
          <ErrorNote error={action.error} />
          {c.kind === 'smart-plug' && <ApplianceRequests control={c} fmt={fmt} onChanged={() => { control.reload(); onChanged(); }} />}
        </details>
      )}
    </Async>
  );
}

/** The limits of the device's kind, as numbers and local times. */
function LimitsForm({ control, busy, onSave }: { control: DeviceControl; busy: boolean; onSave: (limits: DeviceControl['limits']) => void }) {
  const { t } = useI18n();
  const l = control.limits;
  const id = (name: string) => `${control.deviceId}-${name}`;
  const number = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  const submit = (event: Event) => {
    event.preventDefault();
    const v = Object.fromEntries(new FormData(event.currentTarget as HTMLFormElement)) as Record<string, string>;
    const limits: DeviceControl['limits'] = {};
    const reserve = number(v.reservePercent);
    if (reserve !== undefined) limits.reserveSoc = reserve / 100;
    const minCharge = number(v.minChargeKwh);
    if (minCharge !== undefined) limits.minChargeWh = Math.round(minCharge * 1000);
    if (v.readyBy) limits.readyBy = v.readyBy;
    if (v.pluggedInFrom) limits.pluggedInFrom = v.pluggedInFrom;
    const min = number(v.comfortMinC);
    const max = number(v.comfortMaxC);
    if (min !== undefined) limits.comfortMinC = min;
    if (max !== undefined) limits.comfortMaxC = max;
    if (v.windowStart) limits.windowStart = v.windowStart;
    if (v.windowEnd) limits.windowEnd = v.windowEnd;
    onSave(limits);
  };
  const fields = {
    battery: (
      <Field id={id('reserve')} label={t('plan.reserve')}>
        <input id={id('reserve')} name="reservePercent" type="number" min="0" max="90" step="1" defaultValue={l.reserveSoc === undefined ? '' : Math.round(l.reserveSoc * 100)} />
      </Field>
    ),
    'ev-charger': (
      <>
        <Field id={id('ready')} label={t('plan.readyBy')}><input id={id('ready')} name="readyBy" type="time" defaultValue={l.readyBy ?? ''} /></Field>
        <Field id={id('plugged')} label={t('plan.pluggedInFrom')}><input id={id('plugged')} name="pluggedInFrom" type="time" defaultValue={l.pluggedInFrom ?? ''} /></Field>
        <Field id={id('min')} label={t('plan.minCharge')}>
          <input id={id('min')} name="minChargeKwh" type="number" min="0" max="1000" step="0.5" defaultValue={l.minChargeWh === undefined ? '' : l.minChargeWh / 1000} />
        </Field>
      </>
    ),
    'heat-pump': (
      <>
        <Field id={id('cmin')} label={t('plan.comfortMin')}><input id={id('cmin')} name="comfortMinC" type="number" min="5" max="90" step="0.5" defaultValue={l.comfortMinC ?? ''} /></Field>
        <Field id={id('cmax')} label={t('plan.comfortMax')}><input id={id('cmax')} name="comfortMaxC" type="number" min="5" max="90" step="0.5" defaultValue={l.comfortMaxC ?? ''} /></Field>
      </>
    ),
    'smart-plug': (
      <>
        <Field id={id('ws')} label={t('plan.windowStart')}><input id={id('ws')} name="windowStart" type="time" defaultValue={l.windowStart ?? ''} /></Field>
        <Field id={id('we')} label={t('plan.windowEnd')}><input id={id('we')} name="windowEnd" type="time" defaultValue={l.windowEnd ?? ''} /></Field>
      </>
    ),
  } as Record<string, preact.JSX.Element>;
  const own = fields[control.kind];
  if (!own) return null;
  return (
    <form onSubmit={submit} aria-label={t('plan.limits')}>
      {own}
      <button type="submit" disabled={busy}>{t('plan.saveLimits')}</button>
    </form>
  );
}

function ApplianceRequests({ control, fmt, onChanged }: { control: DeviceControl; fmt: Formatter; onChanged: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const submit = (event: Event) => action.submit(event, async (v) => {
    // "18:00" in the community's zone, today if still ahead, else tomorrow.
    const ready = nextLocalTime(new Date(), v.readyBy!, fmt.context.timeZone);
    await call('createApplianceRequest', { params: { id: control.deviceId }, body: { readyBy: ready.toISOString() } });
    onChanged();
  });
  const withdraw = (id: string) => void action.run(async () => {
    await call('deleteApplianceRequest', { params: { id } });
    onChanged();
  });
  return (
    <>
      <h3>{t('plan.requests')}</h3>
      {control.requests.length > 0 && (
        <ul class="rows" aria-label={t('plan.requests')}>
          {control.requests.map((r) => (
            <li key={r.id}>
              <span>{r.startsAt ? t('plan.requestStarted', { at: fmt.dateTime(r.startsAt) }) : t('plan.requestReadyBy', { at: fmt.dateTime(r.readyBy) })}</span>
              {!r.startsAt && <button type="button" class="link" disabled={action.busy} onClick={() => withdraw(r.id)}>{t('plan.withdraw')}</button>}
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={submit}>
        <Field id={`${control.deviceId}-request`} label={t('plan.readyByRequest')}>
          <input id={`${control.deviceId}-request`} name="readyBy" type="time" required defaultValue="18:00" />
        </Field>
        <button type="submit" disabled={action.busy || !control.controllable}>{t('plan.requestRun')}</button>
      </form>
      <ErrorNote error={action.error} />
    </>
  );
}
