import { call } from '../api/client.js';
import { ErrorNote, Field, Page } from '../components/ui.js';
import { useEffect, useState } from 'preact/hooks';
import { fromFragment } from '../lib/fragment.js';
import { formValues, useAction } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';
import { navigate, useLocation } from '../router.js';
import { useSession } from '../session.js';
import { nextPath } from './login.js';

export default function Signup() {
  const { query } = useLocation();
  const { refresh } = useSession();
  const { t } = useI18n();
  const action = useAction();
  // An emailed invitation's link carries a token proving its address gets mail; read once, then out of the address bar.
  const [invitationToken] = useState(() => fromFragment(window.location.hash, 'invitation'));
  useEffect(() => {
    if (window.location.hash) window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }, []);
  const submit = (event: Event) => {
    const { displayName, email, password } = formValues(event);
    void action.run(async () => {
      await call('signup', { body: { displayName: displayName!, email: email!, password: password!, ...(invitationToken ? { invitationToken } : {}) } });
      await refresh();
      navigate(query.get('next') ? nextPath(query) : '/communities', { replace: true });
    });
  };
  return (
    <Page title={t('signup.title')}>
      <form class="card narrow" onSubmit={submit}>
        {invitationToken && <p class="muted">{t('signup.invited')}</p>}
        <Field id="signup-name" label={t('signup.name')} hint={t('signup.nameHint')}>
          <input id="signup-name" name="displayName" autocomplete="name" required maxLength={100} aria-describedby="signup-name-hint" />
        </Field>
        <Field id="signup-email" label={t('login.email')}>
          <input id="signup-email" name="email" type="email" autocomplete="email" required />
        </Field>
        <Field id="signup-password" label={t('login.password')} hint={t('account.passwordHint')}>
          <input id="signup-password" name="password" type="password" autocomplete="new-password" required minLength={10} aria-describedby="signup-password-hint" />
        </Field>
        <ErrorNote error={action.error} />
        <button type="submit" disabled={action.busy}>{action.busy ? t('signup.creating') : t('signup.submit')}</button>
        <p>{t.rich('signup.haveAccount', { a: (chunks) => <a href="/login">{chunks}</a> })}</p>
      </form>
    </Page>
  );
}
