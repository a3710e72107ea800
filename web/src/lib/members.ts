import type { Member, MeteringPoint } from '@gridshare/contract/registry';

/**
 * The active members who take part in the energy: every member, and a manager only with a site of
 * their own (one who just runs the community, or holds its battery, is neither counted nor given a share).
 */
export function takingPart(members: readonly Member[], points: readonly MeteringPoint[]): Member[] {
  const withSite = new Set(points.filter((p) => !p.communityBattery).map((p) => p.memberId));
  return members.filter((m) => m.state === 'active' && (m.role === 'member' || withSite.has(m.id)));
}
