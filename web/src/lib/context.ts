import { useEffect } from 'preact/hooks';
import type { Community, Member, MeteringPoint } from '../api/types.js';
import { useSession } from '../session.js';
import { useApi, type Loaded } from './hooks.js';

/** A community a page is about; remembered by the session for the nav and number formats. */
export function useCommunity(communityId: string | undefined): Loaded<Community> {
  const { remember } = useSession();
  const community = useApi<Community>(communityId ? `/api/v1/communities/${communityId}` : null);
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
  const member = useApi<Member>(`/api/v1/members/${memberId}`);
  const community = useCommunity(member.data?.communityId);
  const points = useApi<MeteringPoint[]>(member.data ? `/api/v1/communities/${member.data.communityId}/metering-points` : null);
  // Managers get every point of the community; a member's page shows only the member's own.
  const own = points.data?.filter((p) => p.memberId === memberId);
  return { member, community, points: { ...points, data: own } as Loaded<MeteringPoint[]> };
}
