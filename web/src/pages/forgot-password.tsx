import { useState } from 'preact/hooks';
import { call } from '../api/client.js';
import { ErrorNote, Field, Page } from '../components/ui.js';
import { formValues, useAction } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';

/** Asks for a password reset link. The server's answer is the same whether the account exists or not, and so is this page's. */
export default function ForgotPassword() {
  const { t } = useI18n();
  const action = useAction();
  const [sentTo, setSentTo] = useState<string | undefined>(undefined);
  const submit = (event: Event) => {
    const { email } = formValues(event);
    setSentTo(undefined);
    void action.run(async () => {
      await call('requestPasswordReset', { body: { email: email! } });
      setSentTo(email);
    });
  };
  return (
    <Page title={t('forgotPassword.title')}>
      <form class="card narrow" onSubmit={submit}>
        <p>{t('forgotPassword.intro')}</p>
        <Field id="forgot-email" label={t('login.email')}>
          <input id="forgot-email" name="email" type="email" autocomplete="username" required />
        </Field>
        <ErrorNote error={action.error} />
        {sentTo && <p role="status" class="ok">{t('forgotPassword.sent', { email: sentTo })}</p>}
        <button type="submit" disabled={action.busy}>{action.busy ? t('forgotPassword.sending') : t('forgotPassword.submit')}</button>
        <p><a href="/login">{t('forgotPassword.backToLogin')}</a></p>
      </form>
    </Page>
  );
}
