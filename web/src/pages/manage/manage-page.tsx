import type { ComponentChildren } from 'preact';
import type { Community } from '@gridshare/contract/registry';
import { Async, NotFound, Page } from '../../components/ui.js';
import { useCommunity } from '../../lib/context.js';
import type { Formatter } from '../../lib/format.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { useFormat, useSession } from '../../session.js';

/**
 * A manager console page. Only the community's managers (and platform admins) get it; anyone
 * else sees "not found", as the API answers them.
 */
export function ManagePage({ communityId, title, children }: {
  communityId: string;
  title: string;
  children: (community: Community, fmt: Formatter) => ComponentChildren;
}) {
  const { me } = useSession();
  const { t } = useI18n();
  const allowed = me?.user.isAdmin || me?.memberships.some((m) => m.communityId === communityId && m.role === 'manager' && m.state === 'active');
  const community = useCommunity(allowed ? communityId : undefined);
  const fmt = useFormat(community.data);
  if (!allowed) return <NotFound />;
  return (
    <Async state={community} what={t('thing.community')}>
      {(c) => <Page title={t('manage.pageTitle', { page: title, community: c.name })}>{children(c, fmt)}</Page>}
    </Async>
  );
}
