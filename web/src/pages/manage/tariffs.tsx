import { useState } from 'preact/hooks';
import { call } from '../../api/client.js';
import type { CoefficientUpload, Co2Settings, ShareVersion } from '@gridshare/contract/sharing';
import { ALLOCATION_MODES, ALLOCATION_RULES, type AllocationMode, type AllocationRuleName, type Community, type Member, type Tariff } from '@gridshare/contract/registry';
import { Async, Empty, ErrorNote, Field } from '../../components/ui.js';
import { takingPart } from '../../lib/members.js';
import { NO_VALUE, UNIT, type Formatter } from '../../lib/format.js';
import { formValues, useAction, useApi } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { MODE_NAMES, ruleName, RULES_WITH_SHARES } from '../../lib/rules.js';
import { equalShares, formatUnits, ONE_UNITS, SHARE_PATTERN, sumShares } from '../../lib/shares.js';
import { midnightOfDateInput } from '../../lib/time.js';
import { useSession } from '../../session.js';
import { ManagePage } from './manage-page.js';
import { DateInput } from '../../components/date-input.js';

export default function Tariffs({ params }: { params: Record<string, string> }) {
  const communityId = params.communityId!;
  const tariffs = useApi('listTariffs', { params: { id: communityId } });
  const { t } = useI18n();
  return (
    <ManagePage communityId={communityId} title={t('tariffs.title')}>
      {(community, fmt) => (
        <>
          <Sharing community={community} fmt={fmt} />
          <Co2Form community={community} fmt={fmt} />
          <section class="card" aria-labelledby="tariffs-heading">
            <h2 id="tariffs-heading">{t('tariffs.tariffs')}</h2>
            <Async state={tariffs} what={t('thing.tariffs')}>
              {(list) => list.length === 0 ? <Empty><p>{t('tariffs.none')}</p></Empty> : <TariffTable tariffs={list} fmt={fmt} />}
            </Async>
            <TariffForm communityId={communityId} currency={community.currency} onAdded={tariffs.reload} />
          </section>
        </>
      )}
    </ManagePage>
  );
}

/** The allocation mode and rule, and the static key for the rules that split by one. */
function Sharing({ community: loaded, fmt }: { community: Community; fmt: Formatter }) {
  // What was saved last: the shares card follows the rule in force, not the page's first copy.
  const [community, setCommunity] = useState(loaded);
  return (
    <>
      <RuleForm community={community} onSaved={setCommunity} />
      <SharesForm community={community} fmt={fmt} />
      <CoefficientsForm community={community} fmt={fmt} />
    </>
  );
}

function RuleForm({ community, onSaved }: { community: Community; onSaved: (community: Community) => void }) {
  const { remember } = useSession();
  const action = useAction();
  const [saved, setSaved] = useState<Community | undefined>(undefined);
  const [mode, setMode] = useState<AllocationMode>(community.allocationMode);
  const [rule, setRule] = useState(community.allocationRule);
  const { t } = useI18n();
  const submit = (event: Event) => {
    event.preventDefault();
    setSaved(undefined);
    void action.run(async () => {
      const updated = await call('updateCommunity', { params: { id: community.id }, body: { allocationMode: mode, allocationRule: rule as AllocationRuleName } });
      remember(updated);
      onSaved(updated);
      setSaved(updated);
    });
  };
  return (
    <section class="card" aria-labelledby="rule-heading">
      <h2 id="rule-heading">{t('allocation.title')}</h2>
      <p class="muted">{t('allocation.intro')}</p>
      <form onSubmit={submit}>
        <fieldset>
          <legend>{t('allocation.mode')}</legend>
          {ALLOCATION_MODES.map((m) => (
            <label class="inline" key={m}>
              <input type="radio" name="allocationMode" value={m} checked={mode === m} onChange={() => setMode(m)} /> {t(MODE_NAMES[m])}
            </label>
          ))}
        </fieldset>
        <div class="inline-form">
          <Field id="rule" label={t('allocation.rule')} hint={mode === 'operator' ? t('allocation.ruleUnused') : undefined}>
            <select id="rule" name="allocationRule" value={rule} onChange={(e) => setRule(e.currentTarget.value)} aria-describedby={mode === 'operator' ? 'rule-hint' : undefined}>
              {ALLOCATION_RULES.map((r) => <option key={r} value={r}>{ruleName(r, t)}</option>)}
            </select>
          </Field>
          <button type="submit" disabled={action.busy}>{t('allocation.save')}</button>
          <ErrorNote error={action.error} />
          {saved && <p role="status" class="ok">{t('allocation.saved', { what: saved.allocationMode === 'operator' ? t('allocation.operatorFigures') : ruleName(saved.allocationRule, t) })}</p>}
        </div>
      </form>
    </section>
  );
}

function SharesForm({ community, fmt }: { community: Community; fmt: Formatter }) {
  const members = useApi('listMembers', { params: { id: community.id }, query: { state: 'active' } });
  const points = useApi('listMeteringPoints', { params: { id: community.id } });
  const versions = useApi('listShares', { params: { id: community.id } });
  const used = community.allocationMode === 'compute' && RULES_WITH_SHARES.has(community.allocationRule);
  const { t } = useI18n();
  return (
    <section class="card" aria-labelledby="shares-heading">
      <h2 id="shares-heading">{t('shares.title')}</h2>
      <p class="muted">{used ? t('shares.used', { rule: ruleName(community.allocationRule, t) }) : t('shares.unused')}</p>
      <Async state={versions} what={t('thing.shares')}>
        {(list) => (
          <Async state={members} what={t('thing.members')}>
            {(active) => (
              <Async state={points} what={t('thing.sites')}>
                {(sites) => <SharesEditor community={community} members={fmt.sortBy(takingPart(active, sites), (m) => m.displayName)} current={list[0]} fmt={fmt} onSaved={versions.reload} />}
              </Async>
            )}
          </Async>
        )}
      </Async>
    </section>
  );
}

function SharesEditor({ community, members, current, fmt, onSaved }: {
  community: Community; members: Member[]; current: ShareVersion | undefined; fmt: Formatter; onSaved: () => void;
}) {
  const initial = () => Object.fromEntries(members.map((m) => [m.id, current?.shares.find((s) => s.memberId === m.id)?.share ?? '']));
  const [shares, setShares] = useState<Record<string, string>>(initial);
  const [from, setFrom] = useState('');
  const action = useAction();
  const [saved, setSaved] = useState<ShareVersion | undefined>(undefined);
  const { t } = useI18n();
  const sum = sumShares(Object.values(shares));
  const setShare = (memberId: string, value: string) => setShares((s) => ({ ...s, [memberId]: value }));
  const submit = (event: Event) => {
    event.preventDefault();
    setSaved(undefined);
    void action.run(async () => {
      const validFrom = from ? midnightOfDateInput(from, community.timeZone).toISOString() : undefined;
      const version = await call('putShares', {
        params: { id: community.id },
        body: {
          ...(validFrom ? { validFrom } : {}),
          shares: members.filter((m) => shares[m.id]!.trim() !== '').map((m) => ({ memberId: m.id, share: shares[m.id]!.trim() })),
        },
      });
      setSaved(version);
      onSaved();
    });
  };
  const equal = () => {
    const values = equalShares(members.length);
    setShares(Object.fromEntries(members.map((m, i) => [m.id, values[i]!])));
  };
  return (
    <form onSubmit={submit}>
      <p>{current ? t('shares.inForce', { time: fmt.dateTime(current.validFrom), count: current.shares.length }) : t('shares.noneSet')}</p>
      <div class="table-scroll">
        <table class="shares">
          <caption class="sr-only">{t('shares.caption')}</caption>
          <thead><tr><th scope="col">{t('overview.member')}</th><th scope="col">{t('shares.share')}</th></tr></thead>
          <tbody>
            {members.map((m) => (
              <tr key={m.id}>
                <th scope="row"><label for={`share-${m.id}`}>{m.displayName}</label></th>
                <td>
                  <input id={`share-${m.id}`} value={shares[m.id]} onInput={(e) => setShare(m.id, e.currentTarget.value)}
                    inputMode="decimal" pattern={SHARE_PATTERN} autoComplete="off" aria-describedby="shares-sum" />
                </td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">{t('shares.sum')}</th>
              <td id="shares-sum" data-testid="shares-sum" class={sum.units > ONE_UNITS ? 'error-text' : undefined}>
                {formatUnits(sum.units)}
                {sum.units > ONE_UNITS ? ` — ${t('shares.tooMuch')}` : sum.units < ONE_UNITS ? ` — ${t('shares.notShared', { rest: formatUnits(ONE_UNITS - sum.units) })}` : ''}
                {sum.invalid > 0 && ` (${t('shares.invalid', { count: sum.invalid })})`}
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
      <div class="inline-form">
        <Field id="shares-from" label={t('shares.from')} hint={t('shares.fromHint', { timeZone: community.timeZone })}>
          <DateInput id="shares-from" value={from} onValue={setFrom} aria-describedby="shares-from-hint" />
        </Field>
        <button type="button" class="secondary" onClick={equal} disabled={members.length === 0}>{t('shares.equal')}</button>
        <button type="submit" disabled={action.busy}>{t('shares.save')}</button>
        <ErrorNote error={action.error} />
        {saved && <p role="status" class="ok">{t('shares.saved', { count: saved.shares.length, time: fmt.dateTime(saved.validFrom) })}</p>}
      </div>
    </form>
  );
}

/** Time-varying keys: Spain's hourly coefficient file, a French PMO's coefficients per step. */
function CoefficientsForm({ community, fmt }: { community: Community; fmt: Formatter }) {
  const coverage = useApi('coefficientCoverage', { params: { id: community.id } });
  const action = useAction();
  const [result, setResult] = useState<CoefficientUpload | undefined>(undefined);
  const { t } = useI18n();
  const submit = (event: Event) => {
    const form = event.currentTarget as HTMLFormElement;
    const file = (form.elements.namedItem('coefficients-file') as HTMLInputElement).files?.[0];
    const { year, resolution } = formValues(event);
    setResult(undefined);
    void action.run(async () => {
      if (!file) throw new Error(t('coefficients.chooseFile'));
      const query = { fileName: file.name, resolution: Number(resolution) as 15 | 30 | 60, ...(year ? { year: Number(year) } : {}) };
      setResult(await call('putCoefficients', { params: { id: community.id }, query, raw: { contentType: 'text/csv', data: file } }));
      coverage.reload();
    });
  };
  return (
    <section class="card" aria-labelledby="coefficients-heading">
      <h2 id="coefficients-heading">{t('coefficients.title')}</h2>
      <p class="muted">{t.rich('coefficients.intro', { code: (chunks) => <code>{chunks}</code> })}</p>
      <Async state={coverage} what={t('thing.coefficients')}>
        {(c) => (
          <p data-testid="coefficient-coverage">
            {c.periods === 0 ? t('coefficients.none') : t('coefficients.coverage', { count: c.periods, from: fmt.dateTime(c.from!), to: fmt.dateTime(c.to!) })}
          </p>
        )}
      </Async>
      <form onSubmit={submit} class="inline-form">
        <Field id="coefficients-file" label={t('coefficients.file')}><input id="coefficients-file" name="coefficients-file" type="file" accept=".txt,.csv,text/csv,text/plain" required /></Field>
        <Field id="coefficients-year" label={t('coefficients.year')} hint={t('coefficients.yearHint')}>
          <input id="coefficients-year" name="year" type="number" min="2000" max="2100" aria-describedby="coefficients-year-hint" />
        </Field>
        <Field id="coefficients-resolution" label={t('coefficients.resolution')}>
          <select id="coefficients-resolution" name="resolution"><option value="60">60</option><option value="30">30</option><option value="15">15</option></select>
        </Field>
        <button type="submit" disabled={action.busy}>{t('coefficients.upload')}</button>
        <ErrorNote error={action.error} />
        {result && (
          <p role="status" class="ok">
            {t('coefficients.stored', { coefficients: result.coefficients, periods: result.periods, minutes: result.periodMinutes })}
            {result.unmatched.length > 0 && ` ${t('coefficients.unmatched', { ids: result.unmatched.join(', ') })}`}
          </p>
        )}
      </form>
    </section>
  );
}

function Co2Form({ community, fmt }: { community: Community; fmt: Formatter }) {
  const settings = useApi('co2Intensity', { params: { id: community.id } });
  const action = useAction();
  const { t } = useI18n();
  const [saved, setSaved] = useState<Co2Settings | undefined>(undefined);
  const submit = (event: Event) => {
    const { gramsPerKWh } = formValues(event);
    setSaved(undefined);
    void action.run(async () => {
      const updated = await call('putCo2Intensity', { params: { id: community.id }, body: { gramsPerKWh: Number(gramsPerKWh) } });
      setSaved(updated);
      settings.reload();
    });
  };
  return (
    <section class="card" aria-labelledby="co2-heading">
      <h2 id="co2-heading">{t('co2.title')}</h2>
      <p class="muted">{t('co2.intro')}</p>
      <Async state={settings} what={t('thing.co2Intensity')}>
        {(s) => (
          <form onSubmit={submit} class="inline-form">
            <Field id="co2" label={t('co2.label')} hint={s.hourly.hours > 0 ? t('co2.hourly', { count: s.hourly.hours }) : undefined}>
              <input id="co2" name="gramsPerKWh" type="number" min="0" max="5000" step="any" required defaultValue={s.gramsPerKWh === null ? '' : String(s.gramsPerKWh)}
                aria-describedby={s.hourly.hours > 0 ? 'co2-hint' : undefined} />
            </Field>
            <button type="submit" disabled={action.busy}>{t('co2.save')}</button>
            <ErrorNote error={action.error} />
            {saved && <p role="status" class="ok">{t('co2.saved', { intensity: saved.gramsPerKWh === null ? NO_VALUE : fmt.co2Intensity(saved.gramsPerKWh) })}</p>}
          </form>
        )}
      </Async>
    </section>
  );
}

function TariffTable({ tariffs, fmt }: { tariffs: Tariff[]; fmt: Formatter }) {
  const { t } = useI18n();
  return (
    <div class="table-scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">{t('tariffs.name')}</th><th scope="col">{t('tariffs.from')}</th><th scope="col" class="num">{t('chart.grid')}</th>
            <th scope="col" class="num">{t('chart.community')}</th><th scope="col" class="num">{t('tariffs.feedIn')}</th>
            <th scope="col" class="num">{t('tariffs.gridFeeReduction')}</th><th scope="col">{t('tariffs.timeOfUse')}</th>
          </tr>
        </thead>
        <tbody>
          {tariffs.map((tariff) => (
            <tr key={tariff.id}>
              <td>{tariff.name}</td>
              <td>{fmt.day(tariff.validFrom)}</td>
              <td class="num">{fmt.pricePerKWh(tariff.gridPrice)}</td>
              <td class="num">{fmt.pricePerKWh(tariff.communityPrice)}</td>
              <td class="num">{fmt.pricePerKWh(tariff.feedInPrice)}</td>
              <td class="num">{fmt.pricePerKWh(tariff.gridFeeReduction)}</td>
              <td>{tariff.timeOfUse?.length ? tariff.timeOfUse.map((w) => `${w.from}–${w.to} ${fmt.pricePerKWh(w.gridPrice)}`).join(', ') : NO_VALUE}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const PRICE = '\\d{1,6}(\\.\\d{1,6})?';

function TariffForm({ communityId, currency, onAdded }: { communityId: string; currency: string; onAdded: () => void }) {
  const action = useAction();
  const { t } = useI18n();
  const submit = (event: Event) => {
    action.submit(event, async (v) => {
      await call('createTariff', {
        params: { id: communityId },
        body: {
          name: v.name!, validFrom: v.validFrom!, gridPrice: v.gridPrice!, communityPrice: v.communityPrice!, feedInPrice: v.feedInPrice!,
          ...(v.gridFeeReduction ? { gridFeeReduction: v.gridFeeReduction } : {}),
        },
      });
      onAdded();
    });
  };
  const price = (name: string, label: string, required = true) => (
    <Field id={`tariff-${name}`} label={t('tariffs.priceLabel', { label, unit: `${currency}/${UNIT.kWh}` })}>
      <input id={`tariff-${name}`} name={name} inputMode="decimal" pattern={PRICE} required={required} placeholder="0.2450" />
    </Field>
  );
  return (
    <details>
      <summary>{t('tariffs.add')}</summary>
      <form onSubmit={submit}>
        <Field id="tariff-name" label={t('tariffs.name')}><input id="tariff-name" name="name" required maxLength={120} /></Field>
        <Field id="tariff-from" label={t('tariffs.validFrom')}><DateInput id="tariff-from" name="validFrom" required /></Field>
        {price('gridPrice', t('communities.gridPrice'))}
        {price('communityPrice', t('communities.communityPrice'))}
        {price('feedInPrice', t('communities.feedInPrice'))}
        {price('gridFeeReduction', t('tariffs.gridFeeReduction'), false)}
        <ErrorNote error={action.error} />
        <button type="submit" disabled={action.busy}>{t('tariffs.submit')}</button>
      </form>
    </details>
  );
}
