import { call } from '../api/client.js';
import { ErrorNote, Field, Page } from '../components/ui.js';
import { formValues, useAction } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';
import { navigate, useLocation } from '../router.js';
import { useSession } from '../session.js';

/** Where to go after logging in: only a path inside the app, never another site. */
export function nextPath(query: URLSearchParams): string {
  const next = query.get('next') ?? '/';
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export default function Login() {
  const { query } = useLocation();
  const { refresh } = useSession();
  const { t } = useI18n();
  const action = useAction();
  const submit = (event: Event) => {
    const { email, password } = formValues(event);
    void action.run(async () => {
      await call('login', { body: { email: email!, password: password! } });
      await refresh();
      navigate(nextPath(query), { replace: true });
    });
  };
  return (
    <Page title={t('login.title')}>
      <form class="card narrow" onSubmit={submit}>
        <Field id="login-email" label={t('login.email')}>
          <input id="login-email" name="email" type="email" autocomplete="username" required />
        </Field>
        <Field id="login-password" label={t('login.password')}>
          <input id="login-password" name="password" type="password" autocomplete="current-password" required />
        </Field>
        <ErrorNote error={action.error} />
        <button type="submit" disabled={action.busy}>{action.busy ? t('login.loggingIn') : t('login.submit')}</button>
        <p><a href="/forgot-password">{t('login.forgotPassword')}</a></p>
        <p>{t.rich('login.newHere', { a: (chunks) => <a href={`/signup${query.get('next') ? `?next=${encodeURIComponent(nextPath(query))}` : ''}`}>{chunks}</a> })}</p>
      </form>
    </Page>
  );
}
