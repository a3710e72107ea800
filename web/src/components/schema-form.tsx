import { useState } from 'preact/hooks';
import { useI18n } from '../lib/i18n/provider.js';
import { chosenBranch, controlOf, getAt, initialValue, parseNumber, pointerOf, setAt, type JsonSchema } from '../lib/schema-form.js';

type Path = readonly (string | number)[];

interface FieldsProps {
  /** The whole value being edited and how to replace it. */
  readonly root: unknown;
  readonly onChange: (root: unknown) => void;
  /** Pointers of the secret fields the server holds a value for (left empty, they keep it). */
  readonly secretsSet: readonly string[];
  readonly idPrefix: string;
}

/**
 * A form generated from a JSON Schema (a connector kind's configuration): text, number, yes/no
 * and choice fields, nested groups, lists of groups, a choice of variant for unions named by a
 * constant, password fields for secrets, JSON text for anything else. Field names are the
 * schema's own (technical names a manager finds in the source's documentation too); its
 * descriptions are the hints.
 */
export function SchemaFields({ schema, ...props }: FieldsProps & { readonly schema: JsonSchema }) {
  return <ObjectFields schema={schema} path={[]} {...props} />;
}

function ObjectFields({ schema, path, ...props }: FieldsProps & { readonly schema: JsonSchema; readonly path: Path; readonly skip?: string }) {
  const required = new Set(schema.required ?? []);
  return (
    <>
      {Object.entries(schema.properties ?? {}).filter(([key]) => key !== props.skip).map(([key, child]) => (
        <SchemaField key={key} name={key} schema={child} path={[...path, key]} required={required.has(key)} {...props} />
      ))}
    </>
  );
}

function SchemaField({ name, schema, path, required, root, onChange, secretsSet, idPrefix }: FieldsProps & {
  readonly name: string; readonly schema: JsonSchema; readonly path: Path; readonly required: boolean;
}) {
  const { t } = useI18n();
  const control = controlOf(schema);
  const id = `${idPrefix}-${path.join('-')}`;
  const value = getAt(root, path);
  const set = (next: unknown) => onChange(setAt(root, path, next));
  const hintId = schema.description ? `${id}-hint` : undefined;
  // A field the server fills with its default need not be filled in.
  const mustFill = required && schema.default === undefined;
  const label = `${name}${mustFill ? ' *' : ''}`;
  const hint = schema.description ? <small id={hintId} class="muted">{schema.description}</small> : null;
  const props = { root, onChange, secretsSet, idPrefix };

  switch (control.kind) {
    case 'object':
      return (
        <fieldset>
          <legend>{name}</legend>
          {hint}
          <ObjectFields schema={schema} path={path} {...props} />
        </fieldset>
      );
    case 'choice': {
      const branch = chosenBranch(control, value);
      return (
        <fieldset>
          <legend>{name}</legend>
          {hint}
          <div class="field">
            <label for={id}>{control.key}</label>
            <select id={id} value={branch.value} onChange={(e) => {
              const next = control.branches.find((b) => b.value === e.currentTarget.value)!;
              set({ ...(initialValue({ ...next.schema, default: undefined }) as Record<string, unknown>), [control.key]: next.value });
            }}>
              {control.branches.map((b) => <option key={b.value} value={b.value}>{b.value}</option>)}
            </select>
          </div>
          <ObjectFields schema={branch.schema} path={path} skip={control.key} {...props} />
        </fieldset>
      );
    }
    case 'list': {
      const items = Array.isArray(value) ? value : [];
      return (
        <fieldset>
          <legend>{name}</legend>
          {hint}
          {items.map((_, index) => (
            <fieldset key={index} class="list-item">
              <legend>{t('schemaForm.item', { name, number: index + 1 })}</legend>
              <ObjectFields schema={schema.items!} path={[...path, index]} {...props} />
              <button type="button" class="secondary" onClick={() => set(items.filter((__, i) => i !== index))}>{t('schemaForm.remove')}</button>
            </fieldset>
          ))}
          <button type="button" class="secondary" onClick={() => set([...items, initialValue(schema.items!) ?? {}])}>{t('schemaForm.add', { name })}</button>
        </fieldset>
      );
    }
    case 'boolean':
      return (
        <div class="field">
          <label class="inline" for={id}>
            <input id={id} type="checkbox" checked={value === true || (value === undefined && schema.default === true)} onChange={(e) => set(e.currentTarget.checked)} aria-describedby={hintId} /> {name}
          </label>
          {hint}
        </div>
      );
    case 'enum':
      return (
        <div class="field">
          <label for={id}>{label}</label>
          <select id={id} value={typeof value === 'string' ? value : ''} onChange={(e) => set(e.currentTarget.value === '' ? undefined : e.currentTarget.value)} aria-describedby={hintId}>
            {(!mustFill || value === undefined) && <option value="">{schema.default === undefined ? '' : t('schemaForm.default', { value: String(schema.default) })}</option>}
            {control.options.map((o) => <option key={o} value={o}>{o}</option>)}
          </select>
          {hint}
        </div>
      );
    case 'number':
      return (
        <div class="field">
          <label for={id}>{label}</label>
          <input id={id} type="number" step={control.integer ? '1' : 'any'} min={schema.minimum} max={schema.maximum} required={mustFill}
            value={typeof value === 'number' ? String(value) : ''} placeholder={schema.default === undefined ? undefined : String(schema.default)}
            onInput={(e) => set(parseNumber(e.currentTarget.value, control.integer))} aria-describedby={hintId} />
          {hint}
        </div>
      );
    case 'text': {
      const stored = control.secret && secretsSet.includes(pointerOf(path));
      return (
        <div class="field">
          <label for={id}>{label}</label>
          {control.secret
            ? <input id={id} type="password" autoComplete="new-password" required={mustFill && !stored} value={typeof value === 'string' ? value : ''}
              placeholder={stored ? t('schemaForm.secretKept') : undefined} onInput={(e) => set(e.currentTarget.value === '' ? undefined : e.currentTarget.value)} aria-describedby={hintId} />
            : <input id={id} type="text" autoComplete="off" required={mustFill} value={typeof value === 'string' ? value : ''}
              placeholder={schema.default === undefined ? undefined : String(schema.default)} onInput={(e) => set(e.currentTarget.value === '' ? undefined : e.currentTarget.value)} aria-describedby={hintId} />}
          {hint}
        </div>
      );
    }
    case 'json':
      return <JsonField id={id} label={label} hint={hint} hintId={hintId} value={value} onChange={set} />;
  }
}

/** Free JSON (a record of headers, a request body): kept as text until it parses. */
function JsonField({ id, label, hint, hintId, value, onChange }: {
  id: string; label: string; hint: preact.ComponentChildren; hintId: string | undefined; value: unknown; onChange: (value: unknown) => void;
}) {
  const { t } = useI18n();
  const [text, setText] = useState(value === undefined ? '' : JSON.stringify(value, null, 2));
  const [invalid, setInvalid] = useState(false);
  const update = (next: string) => {
    setText(next);
    if (next.trim() === '') {
      setInvalid(false);
      onChange(undefined);
      return;
    }
    try {
      onChange(JSON.parse(next));
      setInvalid(false);
    } catch {
      setInvalid(true);
    }
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <textarea id={id} rows={3} value={text} onInput={(e) => update(e.currentTarget.value)} aria-invalid={invalid} aria-describedby={hintId} spellcheck={false} />
      {invalid && <small class="error-text">{t('schemaForm.invalidJson')}</small>}
      {hint}
    </div>
  );
}
