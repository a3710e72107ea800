import type { ComponentType } from 'preact';

type PageModule = { default: ComponentType<{ params: Record<string, string> }> };

export interface Route {
  pattern: string;
  load: () => Promise<PageModule>;
  /** Open to visitors without a login. */
  public?: boolean;
}

/** Every page of the app; each is its own chunk, so a member never downloads the manager console. */
export const ROUTES: Route[] = [
  { pattern: '/login', load: () => import('./pages/login.js'), public: true },
  { pattern: '/signup', load: () => import('./pages/signup.js'), public: true },
  { pattern: '/forgot-password', load: () => import('./pages/forgot-password.js'), public: true },
  { pattern: '/reset-password', load: () => import('./pages/reset-password.js'), public: true },
  { pattern: '/verify-email', load: () => import('./pages/verify-email.js'), public: true },
  { pattern: '/', load: () => import('./pages/home.js') },
  { pattern: '/members/:memberId', load: () => import('./pages/dashboard.js') },
  { pattern: '/members/:memberId/statements', load: () => import('./pages/statements.js') },
  { pattern: '/members/:memberId/statements/:statementId/verify', load: () => import('./pages/statement-verify.js') },
  { pattern: '/members/:memberId/devices', load: () => import('./pages/devices.js') },
  { pattern: '/members/:memberId/privacy', load: () => import('./pages/privacy.js') },
  { pattern: '/members/:memberId/market', load: () => import('./pages/market.js') },
  { pattern: '/members/:memberId/plan', load: () => import('./pages/plan.js') },
  { pattern: '/claim', load: () => import('./pages/claim.js') },
  { pattern: '/communities', load: () => import('./pages/communities.js') },
  { pattern: '/data-offers', load: () => import('./pages/data-offers.js') },
  { pattern: '/account', load: () => import('./pages/account.js') },
  { pattern: '/manage/:communityId', load: () => import('./pages/manage/overview.js') },
  { pattern: '/manage/:communityId/members', load: () => import('./pages/manage/members.js') },
  { pattern: '/manage/:communityId/devices', load: () => import('./pages/manage/devices.js') },
  { pattern: '/manage/:communityId/connectors', load: () => import('./pages/manage/connectors.js') },
  { pattern: '/manage/:communityId/tariffs', load: () => import('./pages/manage/tariffs.js') },
  { pattern: '/manage/:communityId/forecast', load: () => import('./pages/manage/forecast.js') },
  { pattern: '/manage/:communityId/privacy', load: () => import('./pages/manage/privacy.js') },
  { pattern: '/manage/:communityId/market', load: () => import('./pages/manage/market.js') },
  { pattern: '/manage/:communityId/flex', load: () => import('./pages/manage/flex.js') },
  { pattern: '/manage/:communityId/plan', load: () => import('./pages/manage/plan.js') },
  { pattern: '/manage/:communityId/commands', load: () => import('./pages/manage/commands.js') },
  { pattern: '/manage/:communityId/billing', load: () => import('./pages/manage/billing.js') },
  { pattern: '/manage/:communityId/settlements', load: () => import('./pages/manage/settlements.js') },
  { pattern: '/manage/:communityId/ledger', load: () => import('./pages/manage/ledger.js') },
  { pattern: '/manage/:communityId/audit', load: () => import('./pages/manage/audit.js') },
  { pattern: '/manage/:communityId/settlements/:settlementId', load: () => import('./pages/manage/settlement.js') },
  { pattern: '/admin', load: () => import('./pages/admin/health.js') },
  { pattern: '/admin/communities', load: () => import('./pages/admin/communities.js') },
  { pattern: '/admin/users', load: () => import('./pages/admin/users.js') },
  { pattern: '/admin/ledger', load: () => import('./pages/admin/ledger.js') },
];

