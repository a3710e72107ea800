import { useEffect } from 'preact/hooks';
import { navigate } from '../router.js';
import { managePath, memberPath } from '../paths.js';
import { activeMemberships, useSession } from '../session.js';
import { Loading } from '../components/ui.js';
import { useI18n } from '../lib/i18n/provider.js';

/** The start page is where a person works: a manager's console, a member's energy, or finding a community. */
export default function Home() {
  const { me } = useSession();
  const { t } = useI18n();
  useEffect(() => {
    const memberships = activeMemberships(me);
    const managed = memberships.find((m) => m.role === 'manager');
    if (managed) navigate(managePath(managed.communityId), { replace: true });
    else if (memberships[0]) navigate(memberPath(memberships[0].memberId), { replace: true });
    else navigate('/communities', { replace: true });
  }, [me]);
  return <Loading what={t('thing.startPage')} />;
}
