import { useState } from 'preact/hooks';
import { del, post } from '../api/client.js';
import type { ApiToken } from '../api/types.js';
import { Async, Empty, ErrorNote, Field, Page } from '../components/ui.js';
import { formatter } from '../lib/format.js';
import { useAction, useApi } from '../lib/hooks.js';
import { navigate } from '../router.js';
import { useSession } from '../session.js';

export default function Account() {
  const { me, refresh, logout } = useSession();
  const fmt = formatter();
  return (
    <Page title="Account">
      <section class="card" aria-labelledby="profile-heading">
        <h2 id="profile-heading">You</h2>
        <p>{me?.user.displayName} · {me?.user.email}{me?.user.isAdmin ? ' · platform admin' : ''}</p>
        <button type="button" class="secondary" onClick={() => void logout().then(() => navigate('/login'))}>Log out</button>
      </section>
      <PasswordForm mustChange={me?.user.mustChangePassword ?? false} onChanged={refresh} />
      <Tokens fmt={fmt} />
    </Page>
  );
}

function PasswordForm({ mustChange, onChanged }: { mustChange: boolean; onChanged: () => Promise<void> }) {
  const action = useAction();
  const [done, setDone] = useState(false);
  const submit = (event: Event) => {
    setDone(false);
    action.submit(event, async (v) => {
      if (v.newPassword !== v.repeat) throw new Error('The two new passwords differ.');
      await post('/api/v1/me/password', { currentPassword: v.currentPassword, newPassword: v.newPassword });
      setDone(true);
      await onChanged();
    });
  };
  return (
    <section class="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      {mustChange && <p role="alert">You logged in with a one-time password. Choose your own to go on.</p>}
      <form onSubmit={submit} class="narrow">
        <Field id="pw-current" label="Current password"><input id="pw-current" name="currentPassword" type="password" autocomplete="current-password" required /></Field>
        <Field id="pw-new" label="New password" hint="At least 10 characters">
          <input id="pw-new" name="newPassword" type="password" autocomplete="new-password" required minLength={10} aria-describedby="pw-new-hint" />
        </Field>
        <Field id="pw-repeat" label="New password again"><input id="pw-repeat" name="repeat" type="password" autocomplete="new-password" required minLength={10} /></Field>
        <ErrorNote error={action.error} />
        {done && <p role="status" class="ok">Password changed.</p>}
        <button type="submit" disabled={action.busy}>Change password</button>
      </form>
    </section>
  );
}

function Tokens({ fmt }: { fmt: ReturnType<typeof formatter> }) {
  const tokens = useApi<ApiToken[]>('/api/v1/me/tokens');
  const create = useAction();
  const revoke = useAction();
  const [created, setCreated] = useState<(ApiToken & { token: string }) | undefined>(undefined);
  const submit = (event: Event) => {
    create.submit(event, async ({ name }) => {
      setCreated(await post<ApiToken & { token: string }>('/api/v1/me/tokens', { name }));
      tokens.reload();
    });
  };
  return (
    <section class="card" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">API tokens</h2>
      <p class="muted">For scripts and the <code>gridshare</code> command: send as <code>Authorization: Bearer …</code>.</p>
      <Async state={tokens} what="tokens">
        {(list) => list.length === 0 ? <Empty><p>No API tokens.</p></Empty> : (
          <ul class="rows" aria-label="API tokens">
            {list.map((t) => (
              <li key={t.id}>
                <div><strong>{t.name}</strong> <small class="muted">created {fmt.dateTime(t.createdAt)} · {t.lastUsedAt ? `last used ${fmt.dateTime(t.lastUsedAt)}` : 'never used'}</small></div>
                <button type="button" class="danger" disabled={revoke.busy}
                  onClick={() => void revoke.run(async () => { await del(`/api/v1/me/tokens/${t.id}`); tokens.reload(); })}>
                  Revoke<span class="sr-only"> {t.name}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </Async>
      <ErrorNote error={revoke.error} />
      {created && (
        <div role="status" class="secret">
          <p>Token <strong>{created.name}</strong>, shown only now: copy it.</p>
          <output><code>{created.token}</code></output>
        </div>
      )}
      <form onSubmit={submit} class="inline-form">
        <Field id="token-name" label="New token name"><input id="token-name" name="name" required maxLength={100} /></Field>
        <ErrorNote error={create.error} />
        <button type="submit" disabled={create.busy}>Create token</button>
      </form>
    </section>
  );
}
