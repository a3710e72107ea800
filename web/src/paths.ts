/** Links to the app's pages, apart from the route table (which loads the pages that link). */
export const memberPath = (memberId: string, page: '' | 'statements' | 'devices' | 'privacy' | 'market' | 'plan' = '') => `/members/${memberId}${page ? `/${page}` : ''}`;
export const managePath = (communityId: string, page: '' | 'members' | 'devices' | 'connectors' | 'tariffs' | 'billing' | 'settlements' | 'forecast' | 'flex' | 'privacy' | 'market' | 'plan' | 'ledger' | 'audit' | 'commands' = '') =>
  `/manage/${communityId}${page ? `/${page}` : ''}`;
/** The platform admins' console. */
export const adminPath = (page: '' | 'communities' | 'users' | 'ledger' = '') => `/admin${page ? `/${page}` : ''}`;
/** A member's statement checked against the verifiable record. */
export const statementVerifyPath = (memberId: string, statementId: string) => `/members/${memberId}/statements/${statementId}/verify`;
