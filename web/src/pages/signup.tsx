import { post } from '../api/client.js';
import { ErrorNote, Field, Page } from '../components/ui.js';
import { formValues, useAction } from '../lib/hooks.js';
import { navigate, useLocation } from '../router.js';
import { useSession } from '../session.js';
import { nextPath } from './login.js';

export default function Signup() {
  const { query } = useLocation();
  const { refresh } = useSession();
  const action = useAction();
  const submit = (event: Event) => {
    const { displayName, email, password } = formValues(event);
    void action.run(async () => {
      await post('/api/v1/auth/signup', { displayName, email, password });
      await refresh();
      navigate(query.get('next') ? nextPath(query) : '/communities', { replace: true });
    });
  };
  return (
    <Page title="Create an account">
      <form class="card narrow" onSubmit={submit}>
        <Field id="signup-name" label="Your name" hint="Shown to your community's managers">
          <input id="signup-name" name="displayName" autocomplete="name" required maxLength={100} aria-describedby="signup-name-hint" />
        </Field>
        <Field id="signup-email" label="Email">
          <input id="signup-email" name="email" type="email" autocomplete="email" required />
        </Field>
        <Field id="signup-password" label="Password" hint="At least 10 characters">
          <input id="signup-password" name="password" type="password" autocomplete="new-password" required minLength={10} aria-describedby="signup-password-hint" />
        </Field>
        <ErrorNote error={action.error} />
        <button type="submit" disabled={action.busy}>{action.busy ? 'Creating…' : 'Create account'}</button>
        <p>Already have an account? <a href="/login">Log in</a></p>
      </form>
    </Page>
  );
}
