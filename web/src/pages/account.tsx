import { useState } from 'preact/hooks';
import type { ApiToken } from '@gridshare/contract/accounts';
import type { NotificationPreference } from '@gridshare/contract/notifications';
import { EVENT_NAME } from '../components/notifications.js';
import { call, type Answer } from '../api/client.js';
import { Async, Empty, ErrorNote, Field, Page } from '../components/ui.js';
import type { Formatter } from '../lib/format.js';
import { useAction, useApi } from '../lib/hooks.js';
import { isLanguage, LANGUAGES } from '../lib/i18n/index.js';
import { useI18n } from '../lib/i18n/provider.js';
import { navigate } from '../router.js';
import { useFormat, useSession } from '../session.js';

export default function Account() {
  const { me, refresh, logout } = useSession();
  const { t } = useI18n();
  const fmt = useFormat(undefined);
  // A new password revokes every API token: the list is read again.
  const [passwordChanges, setPasswordChanges] = useState(0);
  const passwordChanged = async () => {
    setPasswordChanges((n) => n + 1);
    await refresh();
  };
  return (
    <Page title={t('account.title')}>
      <section class="card" aria-labelledby="profile-heading">
        <h2 id="profile-heading">{t('account.you')}</h2>
        <p>{me?.user.displayName} · {me?.user.email}{me?.user.isAdmin ? ` · ${t('account.platformAdmin')}` : ''}</p>
        <button type="button" class="secondary" onClick={() => void logout().then(() => navigate('/login'))}>{t('nav.logOut')}</button>
      </section>
      <LanguageForm />
      <NotificationPreferences />
      <PasswordForm mustChange={me?.user.mustChangePassword ?? false} onChanged={passwordChanged} />
      <Tokens key={passwordChanges} fmt={fmt} />
    </Page>
  );
}

/**
 * The app's language, kept with the account (and in this browser, for the first frame); each language
 * is named in itself ("Deutsch"), so anyone finds theirs. Automatic: the browser's languages decide.
 */
function LanguageForm() {
  const { t, setLanguage } = useI18n();
  const { me, refresh } = useSession();
  const action = useAction();
  const [saved, setSaved] = useState(false);
  const AUTOMATIC = 'automatic';
  const choose = (value: string) => {
    const choice = isLanguage(value) ? value : null;
    setSaved(false);
    void action.run(async () => {
      await call('updateMe', { body: { locale: choice } });
      await setLanguage(choice);
      await refresh();
      setSaved(true);
    });
  };
  return (
    <section class="card" aria-labelledby="language-heading">
      <h2 id="language-heading">{t('account.language')}</h2>
      <Field id="language" label={t('account.languageLabel')} hint={t('account.languageHint')}>
        <select id="language" value={me?.user.locale ?? AUTOMATIC} disabled={action.busy} aria-describedby="language-hint"
          onChange={(e) => choose(e.currentTarget.value)}>
          <option value={AUTOMATIC}>{t('account.languageAuto')}</option>
          {LANGUAGES.map((code) => <option key={code} value={code} lang={code}>{new Intl.DisplayNames([code], { type: 'language' }).of(code)}</option>)}
        </select>
      </Field>
      <ErrorNote error={action.error} />
      {saved && <p role="status" class="ok">{t('account.languageSaved')}</p>}
    </section>
  );
}

/** What the person is told, per event, by email and in the app; messages about their account and membership cannot be switched off. */
function NotificationPreferences() {
  const { t } = useI18n();
  const preferences = useApi('notificationPreferences', {});
  const action = useAction();
  const [saved, setSaved] = useState(false);
  // What the person just chose shows at once; the list read again afterwards confirms it.
  const [chosen, setChosen] = useState<Readonly<Record<string, boolean>>>({});
  const choose = (preference: NotificationPreference, channel: 'email' | 'in-app', enabled: boolean) => {
    setSaved(false);
    setChosen((c) => ({ ...c, [`${preference.event}-${channel}`]: enabled }));
    void action.run(async () => {
      await call('setNotificationPreferences', { body: { preferences: [{ event: preference.event, channel, enabled }] } });
      preferences.reload();
      setSaved(true);
    });
  };
  const box = (preference: NotificationPreference, channel: 'email' | 'in-app') => {
    const id = `notify-${preference.event}-${channel}`;
    const label = t(channel === 'email' ? 'account.notificationEmailFor' : 'account.notificationInAppFor', { event: t(EVENT_NAME[preference.event]) });
    return (
      <input id={id} type="checkbox" aria-label={label} checked={chosen[`${preference.event}-${channel}`] ?? (channel === 'email' ? preference.email : preference.inApp)}
        disabled={!preference.switchable} onChange={(e) => choose(preference, channel, e.currentTarget.checked)} />
    );
  };
  return (
    <section class="card" aria-labelledby="notifications-heading">
      <h2 id="notifications-heading">{t('account.notifications')}</h2>
      <p class="muted">{t('account.notificationsHint')}</p>
      <Async state={preferences} what={t('account.notifications')}>
        {(list) => (
          <table class="stack">
            <thead><tr><th scope="col">{t('account.notificationEvent')}</th><th scope="col">{t('account.notificationEmail')}</th><th scope="col">{t('account.notificationInApp')}</th></tr></thead>
            <tbody>
              {list.map((preference) => (
                <tr key={preference.event}>
                  <th scope="row">{t(EVENT_NAME[preference.event])}{!preference.switchable && <small class="muted"> · {t('account.notificationAlways')}</small>}</th>
                  <td data-label={t('account.notificationEmail')}>{box(preference, 'email')}</td>
                  <td data-label={t('account.notificationInApp')}>{box(preference, 'in-app')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Async>
      <ErrorNote error={action.error} />
      {saved && <p role="status" class="ok">{t('account.notificationsSaved')}</p>}
    </section>
  );
}

function PasswordForm({ mustChange, onChanged }: { mustChange: boolean; onChanged: () => Promise<void> }) {
  const action = useAction();
  const { t } = useI18n();
  const [done, setDone] = useState(false);
  const submit = (event: Event) => {
    setDone(false);
    action.submit(event, async (v) => {
      if (v.newPassword !== v.repeat) throw new Error(t('account.passwordsDiffer'));
      await call('changePassword', { body: { currentPassword: v.currentPassword!, newPassword: v.newPassword! } });
      setDone(true);
      await onChanged();
    });
  };
  return (
    <section class="card" aria-labelledby="password-heading">
      <h2 id="password-heading">{t('account.password')}</h2>
      {mustChange && <p role="alert">{t('account.oneTimePassword')}</p>}
      <form onSubmit={submit} class="narrow">
        <Field id="pw-current" label={t('account.currentPassword')}><input id="pw-current" name="currentPassword" type="password" autocomplete="current-password" required /></Field>
        <Field id="pw-new" label={t('account.newPassword')} hint={t('account.passwordHint')}>
          <input id="pw-new" name="newPassword" type="password" autocomplete="new-password" required minLength={10} aria-describedby="pw-new-hint" />
        </Field>
        <Field id="pw-repeat" label={t('account.newPasswordAgain')}><input id="pw-repeat" name="repeat" type="password" autocomplete="new-password" required minLength={10} /></Field>
        <ErrorNote error={action.error} />
        {done && <p role="status" class="ok">{t('account.passwordChanged')}</p>}
        <button type="submit" disabled={action.busy}>{t('account.changePassword')}</button>
      </form>
    </section>
  );
}

/** How long a new token works: until revoked, or a number of days. */
const TOKEN_VALIDITY_DAYS = [0, 30, 90, 365] as const;

function Tokens({ fmt }: { fmt: Formatter }) {
  const { t } = useI18n();
  const tokens = useApi('listApiTokens', {});
  const create = useAction();
  const revoke = useAction();
  const [created, setCreated] = useState<Answer<'createApiToken'> | undefined>(undefined);
  const submit = (event: Event) => {
    create.submit(event, async ({ name, validity }) => {
      const days = Number(validity);
      const expiresAt = days > 0 ? new Date(Date.now() + days * 86_400_000).toISOString() : undefined;
      setCreated(await call('createApiToken', { body: { name: name!, ...(expiresAt ? { expiresAt } : {}) } }));
      tokens.reload();
    });
  };
  const expiry = (token: ApiToken) => {
    if (token.expiresAt === null) return t('account.tokenNoExpiry');
    return t(Date.parse(token.expiresAt) > Date.now() ? 'account.tokenExpires' : 'account.tokenExpired', { time: fmt.dateTime(token.expiresAt) });
  };
  return (
    <section class="card" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">{t('account.tokens')}</h2>
      <p class="muted">{t.rich('account.tokensHint', { code: (chunks) => <code>{chunks}</code> })}</p>
      <Async state={tokens} what={t('thing.tokens')}>
        {(list) => list.length === 0 ? <Empty><p>{t('account.noTokens')}</p></Empty> : (
          <ul class="rows" aria-label={t('account.tokens')}>
            {list.map((token) => (
              <li key={token.id}>
                <div>
                  <strong>{token.name}</strong>{' '}
                  <small class="muted">
                    {t('account.tokenCreated', { time: fmt.dateTime(token.createdAt) })} · {token.lastUsedAt ? t('account.tokenLastUsed', { time: fmt.dateTime(token.lastUsedAt) }) : t('account.tokenNeverUsed')} · {expiry(token)}
                  </small>
                </div>
                <button type="button" class="danger" disabled={revoke.busy}
                  onClick={() => void revoke.run(async () => { await call('revokeApiToken', { params: { id: token.id } }); tokens.reload(); })}>
                  {t('account.revoke')}<span class="sr-only"> {token.name}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </Async>
      <ErrorNote error={revoke.error} />
      {created && (
        <div role="status" class="secret">
          <p>{t.rich('account.tokenShownOnce', { name: created.name, strong: (chunks) => <strong>{chunks}</strong> })}</p>
          <output><code>{created.token}</code></output>
        </div>
      )}
      <form onSubmit={submit} class="inline-form">
        <Field id="token-name" label={t('account.newTokenName')}><input id="token-name" name="name" required maxLength={100} /></Field>
        <Field id="token-validity" label={t('account.tokenValidity')}>
          <select id="token-validity" name="validity">
            {TOKEN_VALIDITY_DAYS.map((days) => <option key={days} value={days}>{days === 0 ? t('account.tokenValidityUnlimited') : t('account.tokenValidityDays', { days })}</option>)}
          </select>
        </Field>
        <ErrorNote error={create.error} />
        <button type="submit" disabled={create.busy}>{t('account.createToken')}</button>
      </form>
    </section>
  );
}
