import { useEffect, useState } from 'preact/hooks';
import { ApiError, call } from '../api/client.js';
import { ErrorNote, Page } from '../components/ui.js';
import { fromFragment } from '../lib/fragment.js';
import { useI18n } from '../lib/i18n/provider.js';
import { useSession } from '../session.js';

type Outcome = 'working' | 'done' | 'expired' | 'invalid' | { error: unknown };

/**
 * Opens an emailed verification link: the token (in the fragment, never sent to a server by the
 * browser) is used at once, then taken out of the address bar and the history.
 */
export default function VerifyEmail() {
  const { t } = useI18n();
  const { me, refresh } = useSession();
  const [token] = useState(() => fromFragment(window.location.hash, 'token'));
  const [outcome, setOutcome] = useState<Outcome>(token ? 'working' : 'invalid');
  useEffect(() => {
    if (window.location.hash) window.history.replaceState(null, '', window.location.pathname);
    if (!token) return;
    call('confirmEmail', { body: { token } }).then(
      async () => {
        setOutcome('done');
        // A logged-in person's notice goes at once.
        await refresh().catch(() => undefined);
      },
      (error: unknown) => setOutcome(error instanceof ApiError && (error.reason === 'expired' || error.reason === 'invalid') ? error.reason : { error }),
    );
  }, [token, refresh]);
  return (
    <Page title={t('verifyEmail.title')}>
      <div class="card narrow">
        {outcome === 'working' && <p role="status">{t('verifyEmail.working')}</p>}
        {outcome === 'done' && (
          <>
            <p role="status" class="ok">{t('verifyEmail.done')}</p>
            <p><a href={me ? '/communities' : '/login'}>{t('verifyEmail.continue')}</a></p>
          </>
        )}
        {(outcome === 'expired' || outcome === 'invalid') && (
          <>
            <p role="alert" class="error">{outcome === 'expired' ? t('verifyEmail.expired') : t('verifyEmail.invalid')}</p>
            <p><a href="/account">{t('verifyEmail.askAgain')}</a></p>
          </>
        )}
        {typeof outcome === 'object' && <ErrorNote error={outcome.error} />}
      </div>
    </Page>
  );
}
