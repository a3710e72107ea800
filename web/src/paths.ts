/** Links to the app's pages, apart from the route table (which loads the pages that link). */
export const memberPath = (memberId: string, page: '' | 'statements' | 'devices' = '') => `/members/${memberId}${page ? `/${page}` : ''}`;
export const managePath = (communityId: string, page: '' | 'members' | 'devices' | 'connectors' | 'tariffs' | 'settlements' | 'forecast' = '') =>
  `/manage/${communityId}${page ? `/${page}` : ''}`;
