import { useState } from 'preact/hooks';
import { patch, post } from '../../api/client.js';
import { ALLOCATION_RULES, type Community, type Tariff } from '../../api/types.js';
import { Async, Empty, ErrorNote, Field } from '../../components/ui.js';
import type { Formatter } from '../../lib/format.js';
import { formValues, useAction, useApi } from '../../lib/hooks.js';
import { useSession } from '../../session.js';
import { ruleName } from '../../lib/rules.js';
import { ManagePage } from './manage-page.js';


export default function Tariffs({ params }: { params: Record<string, string> }) {
  const communityId = params.communityId!;
  const tariffs = useApi<Tariff[]>(`/api/v1/communities/${communityId}/tariffs`);
  return (
    <ManagePage communityId={communityId} title="Tariffs and allocation rule">
      {(community, fmt) => (
        <>
          <RuleForm community={community} />
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

function RuleForm({ community }: { community: Community }) {
  const { remember } = useSession();
  const action = useAction();
  const [saved, setSaved] = useState<string | undefined>(undefined);
  const [rule, setRule] = useState(community.allocationRule);
  const submit = (event: Event) => {
    const { allocationRule } = formValues(event);
    setSaved(undefined);
    void action.run(async () => {
      const updated = await patch<Community>(`/api/v1/communities/${community.id}`, { allocationRule });
      remember(updated);
      setSaved(updated.allocationRule);
    });
  };
  return (
    <section class="card" aria-labelledby="rule-heading">
      <h2 id="rule-heading">Allocation rule</h2>
      <p class="muted">How each quarter hour's shared production is divided among the members.</p>
      <form onSubmit={submit} class="inline-form">
        <Field id="rule" label="Rule">
          <select id="rule" name="allocationRule" value={rule} onChange={(e) => setRule(e.currentTarget.value)}>
            {ALLOCATION_RULES.map((r) => <option value={r}>{ruleName(r)}</option>)}
          </select>
        </Field>
        <button type="submit" disabled={action.busy}>Save rule</button>
        <ErrorNote error={action.error} />
        {saved && <p role="status" class="ok">Saved: {ruleName(saved)}.</p>}
      </form>
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
