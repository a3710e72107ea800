import { useState } from 'preact/hooks';
import type { CommandKind, CommandState, CommandView } from '@gridshare/contract/control';
import type { Device } from '@gridshare/contract/registry';
import { call } from '../api/client.js';
import type { Formatter } from '../lib/format.js';
import { useAction, useApi } from '../lib/hooks.js';
import type { MessageKey } from '../lib/i18n/index.js';
import { useI18n } from '../lib/i18n/provider.js';
import { Badge, Empty, ErrorNote, Field, Loading } from './ui.js';

const PAGE = 25;

const KIND_NAMES: Record<CommandKind, MessageKey> = {
  'battery-power': 'commands.kindBatteryPower',
  'ev-charge-power': 'commands.kindEvChargePower',
  'heat-pump-power': 'commands.kindHeatPumpPower',
  'heat-pump-block': 'commands.kindHeatPumpBlock',
  'appliance-start': 'commands.kindApplianceStart',
  'pv-limit': 'commands.kindPvLimit',
};

const STATES: Record<CommandState, { name: MessageKey; tone: 'good' | 'bad' | 'neutral' | 'warn' }> = {
  queued: { name: 'commands.stateQueued', tone: 'neutral' },
  sent: { name: 'commands.stateSent', tone: 'warn' },
  acknowledged: { name: 'commands.stateAcknowledged', tone: 'good' },
  rejected: { name: 'commands.stateRejected', tone: 'bad' },
  expired: { name: 'commands.stateExpired', tone: 'neutral' },
  superseded: { name: 'commands.stateSuperseded', tone: 'neutral' },
};

/**
 * Commands to a community's devices with their delivery, newest first, filterable by state: every
 * device's for managers, their own devices' for members (the API decides).
 */
export function CommandList({ communityId, devices, fmt }: { communityId: string; devices: readonly Device[]; fmt: Formatter }) {
  const { t } = useI18n();
  const [state, setState] = useState<CommandState | ''>('');
  const [offset, setOffset] = useState(0);
  const page = useApi('communityCommands', {
    params: { id: communityId }, query: { limit: PAGE, offset, ...(state ? { state } : {}) },
  }, { refreshMs: 10_000 });
  const names = new Map(devices.map((d) => [d.id, d.name]));
  return (
    <>
      <Field id="command-state" label={t('commands.filterState')}>
        <select id="command-state" value={state} onChange={(e) => { setState((e.currentTarget as HTMLSelectElement).value as CommandState | ''); setOffset(0); }}>
          <option value="">{t('commands.allStates')}</option>
          {(Object.keys(STATES) as CommandState[]).map((s) => <option key={s} value={s}>{t(STATES[s].name)}</option>)}
        </select>
      </Field>
      {page.error
        ? <ErrorNote error={page.error} />
        : !page.data
          ? <Loading what={t('commands.title')} />
          : page.data.items.length === 0
            ? <Empty><p>{t('commands.none')}</p></Empty>
            : (
              <>
                <div class="table-scroll">
                  <table>
                    <caption class="sr-only">{t('commands.caption')}</caption>
                    <thead>
                      <tr>
                        <th scope="col">{t('commands.device')}</th><th scope="col">{t('commands.command')}</th><th scope="col">{t('commands.valid')}</th>
                        <th scope="col">{t('commands.state')}</th><th scope="col">{t('commands.source')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {page.data.items.map((c) => <CommandRow key={c.id} command={c} device={names.get(c.deviceId) ?? c.deviceId} fmt={fmt} />)}
                    </tbody>
                  </table>
                </div>
                <p class="muted">{t('commands.range', { from: offset + 1, to: offset + page.data.items.length, total: page.data.total })}</p>
                {offset > 0 && <button type="button" class="secondary" onClick={() => setOffset(Math.max(0, offset - PAGE))}>{t('commands.newer')}</button>}
                {offset + PAGE < page.data.total && <button type="button" class="secondary" onClick={() => setOffset(offset + PAGE)}>{t('commands.older')}</button>}
              </>
            )}
    </>
  );
}

function CommandRow({ command: c, device, fmt }: { command: CommandView; device: string; fmt: Formatter }) {
  const { t } = useI18n();
  const state = STATES[c.state];
  return (
    <tr>
      <td>{device}</td>
      <td>{t(KIND_NAMES[c.kind])}{c.value === null ? '' : ` · ${fmt.power(c.value)}`}</td>
      <td>{fmt.dateTime(c.validFrom)} – {fmt.time(c.expiresAt)}</td>
      <td>
        <Badge tone={state.tone}>{t(state.name)}</Badge>
        <small class="muted"> {t('commands.attempts', { count: c.attempts })}{c.reason ? ` · ${c.reason}` : ''}</small>
      </td>
      <td>{c.source === 'plan' ? t('commands.fromPlan') : t('commands.manual')}</td>
    </tr>
  );
}

/** Start an appliance (a smart plug) now, or cap a charger or battery for an hour: the member's own command wins over the plan. */
export function ManualCommandForm({ devices, onIssued }: { devices: readonly Device[]; onIssued: () => void }) {
  const { t } = useI18n();
  const action = useAction();
  const plugs = devices.filter((d) => d.kind === 'smart-plug' && d.status === 'active');
  if (plugs.length === 0) return null;
  const submit = (event: Event) => {
    action.submit(event, async (v) => {
      await call('issueCommand', { params: { id: v.deviceId! }, body: { kind: 'appliance-start', durationMinutes: 60 } });
      onIssued();
    });
  };
  return (
    <form onSubmit={submit}>
      <Field id="command-device" label={t('commands.startAppliance')} hint={t('commands.startApplianceHint')}>
        <select id="command-device" name="deviceId" aria-describedby="command-device-hint">
          {plugs.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
        </select>
      </Field>
      <ErrorNote error={action.error} />
      <button type="submit" disabled={action.busy}>{t('commands.startNow')}</button>
    </form>
  );
}
