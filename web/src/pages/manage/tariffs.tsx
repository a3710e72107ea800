import { useState } from 'preact/hooks';
import { patch, post, put, putCsv } from '../../api/client.js';
import type { CoefficientCoverage, CoefficientUpload, Co2Settings, ShareVersion } from '../../api/sharing.js';
import { ALLOCATION_MODES, ALLOCATION_RULES, type AllocationMode, type Community, type Member, type Tariff } from '../../api/types.js';
import { Async, Empty, ErrorNote, Field } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { formValues, useAction, useApi } from '../../lib/hooks.js';
import { MODE_NAMES, ruleName, RULES_WITH_SHARES } from '../../lib/rules.js';
import { equalShares, formatUnits, ONE_UNITS, SHARE_PATTERN, sumShares } from '../../lib/shares.js';
import { midnightOfDateInput } from '../../lib/time.js';
import { useSession } from '../../session.js';
import { ManagePage } from './manage-page.js';

export default function Tariffs({ params }: { params: Record<string, string> }) {
  const communityId = params.communityId!;
  const tariffs = useApi<Tariff[]>(`/api/v1/communities/${communityId}/tariffs`);
  return (
    <ManagePage communityId={communityId} title="Sharing and tariffs">
      {(community, fmt) => (
        <>
          <Sharing community={community} fmt={fmt} />
          <Co2Form community={community} />
          <section class="card" aria-labelledby="tariffs-heading">
            <h2 id="tariffs-heading">Tariffs</h2>
            <Async state={tariffs} what="tariffs">
              {(list) => list.length === 0 ? <Empty><p>No tariff yet: statements need one. Add the first below.</p></Empty> : <TariffTable tariffs={list} fmt={fmt} />}
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
  const submit = (event: Event) => {
    event.preventDefault();
    setSaved(undefined);
    void action.run(async () => {
      const updated = await patch<Community>(`/api/v1/communities/${community.id}`, { allocationMode: mode, allocationRule: rule });
      remember(updated);
      onSaved(updated);
      setSaved(updated);
    });
  };
  return (
    <section class="card" aria-labelledby="rule-heading">
      <h2 id="rule-heading">Allocation</h2>
      <p class="muted">How each quarter hour's shared production is divided among the members. A change splits the current month again.</p>
      <form onSubmit={submit}>
        <fieldset>
          <legend>Mode</legend>
          {ALLOCATION_MODES.map((m) => (
            <label class="inline" key={m}>
              <input type="radio" name="allocationMode" value={m} checked={mode === m} onChange={() => setMode(m)} /> {MODE_NAMES[m]}
            </label>
          ))}
        </fieldset>
        <div class="inline-form">
          <Field id="rule" label="Rule" hint={mode === 'operator' ? 'Not used while the grid operator\'s figures decide the shares.' : undefined}>
            <select id="rule" name="allocationRule" value={rule} onChange={(e) => setRule(e.currentTarget.value)} aria-describedby={mode === 'operator' ? 'rule-hint' : undefined}>
              {ALLOCATION_RULES.map((r) => <option key={r} value={r}>{ruleName(r)}</option>)}
            </select>
          </Field>
          <button type="submit" disabled={action.busy}>Save allocation</button>
          <ErrorNote error={action.error} />
          {saved && <p role="status" class="ok">Saved: {saved.allocationMode === 'operator' ? 'the grid operator\'s figures' : ruleName(saved.allocationRule)}.</p>}
        </div>
      </form>
    </section>
  );
}

function SharesForm({ community, fmt }: { community: Community; fmt: Formatter }) {
  const members = useApi<Member[]>(`/api/v1/communities/${community.id}/members?state=active`);
  const versions = useApi<ShareVersion[]>(`/api/v1/communities/${community.id}/allocation-shares`);
  const used = community.allocationMode === 'compute' && RULES_WITH_SHARES.has(community.allocationRule);
  return (
    <section class="card" aria-labelledby="shares-heading">
      <h2 id="shares-heading">Static shares</h2>
      <p class="muted">
        {used
          ? `The rule ${ruleName(community.allocationRule)} gives each member this share of the production of every quarter hour (up to what they use); what is not shared goes to the grid.`
          : 'The allocation in force does not use shares. They apply when a static rule is chosen.'}
      </p>
      <Async state={versions} what="shares">
        {(list) => (
          <Async state={members} what="members">
            {(active) => <SharesEditor community={community} members={active} current={list[0]} fmt={fmt} onSaved={versions.reload} />}
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
  const sum = sumShares(Object.values(shares));
  const setShare = (memberId: string, value: string) => setShares((s) => ({ ...s, [memberId]: value }));
  const submit = (event: Event) => {
    event.preventDefault();
    setSaved(undefined);
    void action.run(async () => {
      const validFrom = from ? midnightOfDateInput(from, community.timeZone).toISOString() : undefined;
      const version = await put<ShareVersion>(`/api/v1/communities/${community.id}/allocation-shares`, {
        ...(validFrom ? { validFrom } : {}),
        shares: members.filter((m) => shares[m.id]!.trim() !== '').map((m) => ({ memberId: m.id, share: shares[m.id]!.trim() })),
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
      <p>{current ? `In force from ${fmt.dateTime(current.validFrom)}: shares of ${current.shares.length} members.` : 'No shares set yet.'}</p>
      <div class="table-scroll">
        <table class="shares">
          <caption class="sr-only">Share of each active member</caption>
          <thead><tr><th scope="col">Member</th><th scope="col">Share (0 to 1)</th></tr></thead>
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
              <th scope="row">Σ</th>
              <td id="shares-sum" data-testid="shares-sum" class={sum.units > ONE_UNITS ? 'error-text' : undefined}>
                {formatUnits(sum.units)}
                {sum.units > ONE_UNITS ? ' — more than 1: the API will refuse it' : sum.units < ONE_UNITS ? ` — ${formatUnits(ONE_UNITS - sum.units)} not shared` : ''}
                {sum.invalid > 0 && ` (${sum.invalid} not a share between 0 and 1 with at most 9 places)`}
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
      <div class="inline-form">
        <Field id="shares-from" label="From (optional)" hint={`Start of that day in ${community.timeZone}; empty: from now on`}>
          <input id="shares-from" type="date" value={from} onInput={(e) => setFrom(e.currentTarget.value)} aria-describedby="shares-from-hint" />
        </Field>
        <button type="button" class="secondary" onClick={equal} disabled={members.length === 0}>Equal shares</button>
        <button type="submit" disabled={action.busy}>Save shares</button>
        <ErrorNote error={action.error} />
        {saved && <p role="status" class="ok">Saved: shares of {saved.shares.length} members from {fmt.dateTime(saved.validFrom)}.</p>}
      </div>
    </form>
  );
}

/** Time-varying keys: Spain's hourly coefficient file, a French PMO's coefficients per step. */
function CoefficientsForm({ community, fmt }: { community: Community; fmt: Formatter }) {
  const coverage = useApi<CoefficientCoverage>(`/api/v1/communities/${community.id}/allocation-coefficients`);
  const action = useAction();
  const [result, setResult] = useState<CoefficientUpload | undefined>(undefined);
  const submit = (event: Event) => {
    const form = event.currentTarget as HTMLFormElement;
    const file = (form.elements.namedItem('coefficients-file') as HTMLInputElement).files?.[0];
    const { year, resolution } = formValues(event);
    setResult(undefined);
    void action.run(async () => {
      if (!file) throw new Error('Choose a coefficient file first.');
      const query = new URLSearchParams({ fileName: file.name, resolution: String(resolution) });
      if (year) query.set('year', String(year));
      setResult(await putCsv<CoefficientUpload>(`/api/v1/communities/${community.id}/allocation-coefficients?${query}`, file));
      coverage.reload();
    });
  };
  return (
    <section class="card" aria-labelledby="coefficients-heading">
      <h2 id="coefficients-heading">Coefficient files</h2>
      <p class="muted">
        Spain's distribution coefficients (<code>CUPS;hour;coefficient</code>) or coefficients per step
        (<code>member_id,hour_of_year_or_timestamp,coefficient</code>, e.g. from a French PMO). In the periods a file
        covers, its coefficients replace the static shares.
      </p>
      <Async state={coverage} what="coefficients">
        {(c) => <p data-testid="coefficient-coverage">{c.periods === 0 ? 'No coefficients uploaded.' : `${c.periods} periods from ${fmt.dateTime(c.from!)} to ${fmt.dateTime(c.to!)}.`}</p>}
      </Async>
      <form onSubmit={submit} class="inline-form">
        <Field id="coefficients-file" label="File"><input id="coefficients-file" name="coefficients-file" type="file" accept=".txt,.csv,text/csv,text/plain" required /></Field>
        <Field id="coefficients-year" label="Year (hour-of-year files)" hint="Empty: from a file named <CAU>_<year>.txt">
          <input id="coefficients-year" name="year" type="number" min="2000" max="2100" aria-describedby="coefficients-year-hint" />
        </Field>
        <Field id="coefficients-resolution" label="Minutes per timestamped row">
          <select id="coefficients-resolution" name="resolution"><option value="60">60</option><option value="30">30</option><option value="15">15</option></select>
        </Field>
        <button type="submit" disabled={action.busy}>Upload</button>
        <ErrorNote error={action.error} />
        {result && (
          <p role="status" class="ok">
            Stored {result.coefficients} coefficients for {result.periods} periods of {result.periodMinutes} minutes.
            {result.unmatched.length > 0 && ` Not in this community (their part goes to the grid): ${result.unmatched.join(', ')}.`}
          </p>
        )}
      </form>
    </section>
  );
}

function Co2Form({ community }: { community: Community }) {
  const settings = useApi<Co2Settings>(`/api/v1/communities/${community.id}/co2-intensity`);
  const action = useAction();
  const [saved, setSaved] = useState<Co2Settings | undefined>(undefined);
  const submit = (event: Event) => {
    const { gramsPerKWh } = formValues(event);
    setSaved(undefined);
    void action.run(async () => {
      const updated = await put<Co2Settings>(`/api/v1/communities/${community.id}/co2-intensity`, { gramsPerKWh: Number(gramsPerKWh) });
      setSaved(updated);
      settings.reload();
    });
  };
  return (
    <section class="card" aria-labelledby="co2-heading">
      <h2 id="co2-heading">CO₂ intensity of grid energy</h2>
      <p class="muted">"CO₂ avoided" counts own PV and community energy at this intensity of the grid energy they replace.</p>
      <Async state={settings} what="CO₂ intensity">
        {(s) => (
          <form onSubmit={submit} class="inline-form">
            <Field id="co2" label="Grams of CO₂ per kWh" hint={s.hourly.hours > 0 ? `${s.hourly.hours} hours have their own value; other hours use this one.` : undefined}>
              <input id="co2" name="gramsPerKWh" type="number" min="0" max="5000" step="any" required defaultValue={s.gramsPerKWh === null ? '' : String(s.gramsPerKWh)}
                aria-describedby={s.hourly.hours > 0 ? 'co2-hint' : undefined} />
            </Field>
            <button type="submit" disabled={action.busy}>Save intensity</button>
            <ErrorNote error={action.error} />
            {saved && <p role="status" class="ok">Saved: {saved.gramsPerKWh} g CO₂/kWh.</p>}
          </form>
        )}
      </Async>
    </section>
  );
}

function TariffTable({ tariffs, fmt }: { tariffs: Tariff[]; fmt: Formatter }) {
  const perKwh = (price: string) => `${fmt.money(price)}/kWh`;
  return (
    <div class="table-scroll">
      <table>
        <thead>
          <tr><th scope="col">Name</th><th scope="col">From</th><th scope="col" class="num">Grid</th><th scope="col" class="num">Community</th><th scope="col" class="num">Feed-in</th><th scope="col" class="num">Grid-fee reduction</th><th scope="col">Time of use</th></tr>
        </thead>
        <tbody>
          {tariffs.map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td>{fmt.date(`${t.validFrom}T12:00:00Z`)}</td>
              <td class="num">{perKwh(t.gridPrice)}</td>
              <td class="num">{perKwh(t.communityPrice)}</td>
              <td class="num">{perKwh(t.feedInPrice)}</td>
              <td class="num">{perKwh(t.gridFeeReduction)}</td>
              <td>{t.timeOfUse?.length ? t.timeOfUse.map((w) => `${w.from}–${w.to} ${perKwh(w.gridPrice)}`).join(', ') : '–'}</td>
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
  const submit = (event: Event) => {
    action.submit(event, async (v) => {
      await post<Tariff>(`/api/v1/communities/${communityId}/tariffs`, {
        name: v.name, validFrom: v.validFrom, gridPrice: v.gridPrice, communityPrice: v.communityPrice, feedInPrice: v.feedInPrice,
        ...(v.gridFeeReduction ? { gridFeeReduction: v.gridFeeReduction } : {}),
      });
      onAdded();
    });
  };
  const price = (name: string, label: string, required = true) => (
    <Field id={`tariff-${name}`} label={`${label} (${currency}/kWh)`}>
      <input id={`tariff-${name}`} name={name} inputMode="decimal" pattern={PRICE} required={required} placeholder="0.2450" />
    </Field>
  );
  return (
    <details>
      <summary>Add a tariff</summary>
      <form onSubmit={submit}>
        <Field id="tariff-name" label="Name"><input id="tariff-name" name="name" required maxLength={120} /></Field>
        <Field id="tariff-from" label="Valid from"><input id="tariff-from" name="validFrom" type="date" required /></Field>
        {price('gridPrice', 'Grid price')}
        {price('communityPrice', 'Community price')}
        {price('feedInPrice', 'Feed-in price')}
        {price('gridFeeReduction', 'Grid-fee reduction', false)}
        <ErrorNote error={action.error} />
        <button type="submit" disabled={action.busy}>Add tariff</button>
      </form>
    </details>
  );
}
