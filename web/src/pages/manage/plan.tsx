import { useMemo } from 'preact/hooks';
import type { Community } from '@gridshare/contract/registry';
import type { CommunityPlan, ObjectiveWeights } from '@gridshare/contract/optimise';
import { call } from '../../api/client.js';
import { preloadCharts } from '../../components/chart.js';
import { assetLines, DeviceStarts, LimitExcessList, PlanFigures, ScheduleChart } from '../../components/plan.js';
import { Async, Empty, ErrorNote, Field } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { useAction, useApi } from '../../lib/hooks.js';
import type { MessageKey } from '../../lib/i18n/index.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { COLORS } from '../../lib/palette.js';
import { ManagePage } from './manage-page.js';

preloadCharts();

/** The community's plan: how good it is, what it saves, what each asset does, the commands sent; the objective. */
export default function PlanPage({ params }: { params: Record<string, string> }) {
  const { t } = useI18n();
  return (
    <ManagePage communityId={params.communityId!} title={t('nav.plan')}>
      {(c, fmt) => (
        <>
          <LatestPlan community={c} fmt={fmt} />
          <Objective community={c} />
        </>
      )}
    </ManagePage>
  );
}

function LatestPlan({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const latest = useApi('communityPlan', { params: { id: community.id } }, { refreshMs: 60_000 });
  const action = useAction();
  const replan = () => void action.run(async () => {
    await call('replan', { params: { id: community.id } });
    latest.reload();
  });
  return (
    <section class="card" aria-labelledby="plan-heading">
      <h2 id="plan-heading">{t('plan.communityTitle')}</h2>
      <p><button type="button" onClick={replan} disabled={action.busy}>{action.busy ? t('plan.planning') : t('plan.replan')}</button></p>
      <ErrorNote error={action.error} />
      <Async state={latest} what={t('plan.communityTitle')}>
        {(answer) => (answer.plan ? <PlanView plan={answer.plan} fmt={fmt} /> : <Empty><p>{t('plan.noneCommunity')}</p></Empty>)}
      </Async>
    </section>
  );
}

function PlanView({ plan, fmt }: { plan: CommunityPlan; fmt: Formatter }) {
  const { t } = useI18n();
  const devices = useMemo(() => plan.assets.filter((a) => a.deviceId !== null), [plan.assets]);
  const lines = useMemo(() => assetLines(devices, t), [devices, t]);
  const grid = useMemo(() => [
    { name: t('plan.importWithPlan'), color: COLORS.community, values: plan.communityImportW },
    { name: t('plan.importWithout'), color: COLORS.grid, values: plan.baselineImportW },
  ], [plan, t]);
  return (
    <>
      <PlanFigures plan={plan.plan} fmt={fmt} />
      {plan.communityImportW.length > 0 && (
        <>
          <h3>{t('plan.communityImport')}</h3>
          <ScheduleChart plan={plan.plan} lines={grid} fmt={fmt} height={220} />
        </>
      )}
      <h3>{t('plan.schedules')}</h3>
      {devices.length === 0 ? <p class="muted">{t('plan.noDevices')}</p> : <ScheduleChart plan={plan.plan} lines={lines} fmt={fmt} />}
      <DeviceStarts assets={devices} fmt={fmt} />
      <LimitExcessList excess={plan.limitExcess} fmt={fmt} />
      <h3>{t('plan.commands', { count: plan.commandList.length })}</h3>
      {plan.commandList.length > 0 && (
        <table>
          <thead><tr><th>{t('plan.device')}</th><th>{t('plan.command')}</th><th>{t('plan.value')}</th><th>{t('plan.validFrom')}</th><th>{t('plan.expiresAt')}</th></tr></thead>
          <tbody>
            {plan.commandList.map((c) => (
              <tr key={`${c.deviceId}-${c.kind}-${c.validFrom}`}>
                <td>{plan.assets.find((a) => a.deviceId === c.deviceId)?.name ?? c.deviceId}</td>
                <td>{t(COMMAND_NAMES[c.kind])}</td>
                <td>{c.value === null ? '' : fmt.power(c.value)}</td>
                <td>{fmt.time(c.validFrom)}</td>
                <td>{fmt.time(c.expiresAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

const COMMAND_NAMES: Record<CommunityPlan['commandList'][number]['kind'], MessageKey> = {
  'battery-power': 'plan.cmdBattery', 'ev-charge-power': 'plan.cmdEv', 'heat-pump-power': 'plan.cmdHeatPump', 'heat-pump-block': 'plan.cmdHeatPumpBlock',
  'appliance-start': 'plan.cmdApplianceStart', 'pv-limit': 'plan.cmdPvLimit',
};

const WEIGHTS: { key: keyof ObjectiveWeights; label: MessageKey }[] = [
  { key: 'cost', label: 'plan.weightCost' }, { key: 'co2PerKg', label: 'plan.weightCo2' }, { key: 'importPerKwh', label: 'plan.weightImport' },
  { key: 'exportPerKwh', label: 'plan.weightExport' }, { key: 'peakPerKw', label: 'plan.weightPeak' },
];

function Objective({ community }: { community: Community }) {
  const { t } = useI18n();
  const weights = useApi('planObjective', { params: { id: community.id } });
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    const v = Object.fromEntries(new FormData(event.currentTarget as HTMLFormElement)) as Record<string, string>;
    const body = Object.fromEntries(WEIGHTS.map((w) => [w.key, Number(v[w.key] || 0)])) as ObjectiveWeights;
    void action.run(async () => {
      await call('putPlanObjective', { params: { id: community.id }, body });
      weights.reload();
    });
  };
  return (
    <section class="card" aria-labelledby="objective-heading">
      <h2 id="objective-heading">{t('plan.objective')}</h2>
      <p class="muted">{t('plan.objectiveIntro')}</p>
      <Async state={weights} what={t('plan.objective')}>
        {(w) => (
          <form onSubmit={submit}>
            {WEIGHTS.map((f) => (
              <Field key={f.key} id={`weight-${f.key}`} label={t(f.label)}>
                <input id={`weight-${f.key}`} name={f.key} type="number" min="0" step="any" defaultValue={String(w[f.key])} />
              </Field>
            ))}
            <ErrorNote error={action.error} />
            <button type="submit" disabled={action.busy}>{t('plan.saveObjective')}</button>
          </form>
        )}
      </Async>
    </section>
  );
}
