import { useEffect } from 'preact/hooks';
import type { Community, MeteringPoint } from '@gridshare/contract/registry';
import { useSession } from '../session.js';
import { useApi, type Loaded } from './hooks.js';

/** A community a page is about; remembered by the session for the nav and number formats. */
export function useCommunity(communityId: string | undefined): Loaded<Community> {
  const { remember } = useSession();
  const community = useApi('getCommunity', communityId ? { params: { id: communityId } } : null);
  useEffect(() => {
    if (community.data) remember(community.data);
  }, [community.data, remember]);
  return community;
}

/**
 * A member's pages start from the member record: the API answers 404 for anyone else's (other
 * than their managers'), and the page then shows "not found".
 */
export function useMemberContext(memberId: string) {
  const member = useApi('getMember', { params: { id: memberId } });
  const community = useCommunity(member.data?.communityId);
  const points = useApi('listMeteringPoints', member.data ? { params: { id: member.data.communityId } } : null);
  // Managers get every point of the community; a member's page shows only the member's own.
  const own = points.data?.filter((p) => p.memberId === memberId);
  return { member, community, points: { ...points, data: own } as Loaded<MeteringPoint[]> };
}
