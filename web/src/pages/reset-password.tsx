import { useEffect, useState } from 'preact/hooks';
import { ApiError, call } from '../api/client.js';
import { ErrorNote, Field, Page } from '../components/ui.js';
import { fromFragment } from '../lib/fragment.js';
import { formValues, useAction } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';


/** Sets a new password with the token of an emailed reset link. */
export default function ResetPassword() {
  const { t } = useI18n();
  const action = useAction();
  const [token] = useState(() => fromFragment(window.location.hash, 'token'));
  const [done, setDone] = useState(false);
  // Read once, then out of the address bar and the history: the token is a password until it is used.
  useEffect(() => {
    if (window.location.hash) window.history.replaceState(null, '', window.location.pathname);
  }, []);
  const submit = (event: Event) => {
    const { newPassword, repeat } = formValues(event);
    void action.run(async () => {
      if (newPassword !== repeat) throw new Error(t('account.passwordsDiffer'));
      try {
        await call('confirmPasswordReset', { body: { token: token!, newPassword: newPassword! } });
      } catch (error) {
        if (error instanceof ApiError && error.reason === 'expired') throw new Error(t('resetPassword.expired'));
        if (error instanceof ApiError && error.reason === 'invalid') throw new Error(t('resetPassword.invalid'));
        throw error;
      }
      setDone(true);
    });
  };
  const askAgain = <p><a href="/forgot-password">{t('resetPassword.askAgain')}</a></p>;
  if (done) {
    return (
      <Page title={t('resetPassword.title')}>
        <div class="card narrow">
          <p role="status" class="ok">{t('resetPassword.done')}</p>
          <p><a href="/login">{t('resetPassword.logIn')}</a></p>
        </div>
      </Page>
    );
  }
  if (!token) {
    return (
      <Page title={t('resetPassword.title')}>
        <div class="card narrow">
          <p role="alert" class="error">{t('resetPassword.invalid')}</p>
          {askAgain}
        </div>
      </Page>
    );
  }
  return (
    <Page title={t('resetPassword.title')}>
      <form class="card narrow" onSubmit={submit}>
        <Field id="reset-new" label={t('account.newPassword')} hint={t('account.passwordHint')}>
          <input id="reset-new" name="newPassword" type="password" autocomplete="new-password" required minLength={10} maxLength={256} aria-describedby="reset-new-hint" />
        </Field>
        <Field id="reset-repeat" label={t('account.newPasswordAgain')}>
          <input id="reset-repeat" name="repeat" type="password" autocomplete="new-password" required minLength={10} maxLength={256} />
        </Field>
        <ErrorNote error={action.error} />
        <button type="submit" disabled={action.busy}>{action.busy ? t('resetPassword.saving') : t('resetPassword.submit')}</button>
        {askAgain}
      </form>
    </Page>
  );
}
