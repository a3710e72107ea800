import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { matchPath, navigate, useLocation, type Location } from './router.js';
import { ROUTES, type Route } from './routes.js';
import { adminPath, managePath, memberPath } from './paths.js';
import { activeMemberships, SessionProvider, useSession } from './session.js';
import { ErrorNote, Loading, NotFound } from './components/ui.js';
import { call } from './api/client.js';
import { useAction } from './lib/hooks.js';
import type { Membership } from '@gridshare/contract/accounts';
import { NotificationBell } from './components/notifications.js';
import { I18nProvider, useI18n } from './lib/i18n/provider.js';
import type { Language, Messages } from './lib/i18n/index.js';

type PageComponent = ComponentType<{ params: Record<string, string> }>;
const loaded = new Map<Route, PageComponent>();

function resolve(location: Location): { route: Route; params: Record<string, string> } | undefined {
  for (const route of ROUTES) {
    const params = matchPath(route.pattern, location.path);
    if (params) return { route, params };
  }
  return undefined;
}

/** Loads a page's chunk on first use; later visits render at once. */
function LazyPage({ route, params }: { route: Route; params: Record<string, string> }) {
  const [, setVersion] = useState(0);
  const [error, setError] = useState<unknown>(undefined);
  const { t } = useI18n();
  const Component = loaded.get(route);
  useEffect(() => {
    if (Component) return;
    route.load().then((module) => {
      loaded.set(route, module.default);
      setVersion((v) => v + 1);
    }, setError);
  }, [route, Component]);
  if (error) return <ErrorNote error={t('app.pageLoadFailed')} />;
  return Component ? <Component params={params} /> : <Loading what={t('thing.page')} />;
}

/** The membership the current page is about: the one in the URL, else the first active one. */
function currentMembership(memberships: Membership[], params: Record<string, string>): Membership | undefined {
  return memberships.find((m) => m.memberId === params.memberId)
    ?? memberships.find((m) => m.communityId === params.communityId)
    ?? memberships[0];
}

function Nav({ params, path }: { params: Record<string, string>; path: string }) {
  const { me, communities, invitations, logout } = useSession();
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [path]);
  const memberships = activeMemberships(me);
  const membership = currentMembership(memberships, params);
  const community = membership && communities.get(membership.communityId);
  const link = (href: string, text: string) => (
    <li><a href={href} aria-current={path === href ? 'page' : undefined}>{text}</a></li>
  );
  return (
    <nav aria-label={t('nav.main')} class={open ? 'open' : ''}>
      <button type="button" class="menu-button" aria-expanded={open} aria-controls="nav-lists" onClick={() => setOpen(!open)}>
        {t('nav.menu')}
      </button>
      <div id="nav-lists">
        {memberships.length > 1 && (
          <label class="switcher">
            {t('nav.community')}{' '}
            <select
              value={membership?.memberId}
              onChange={(e) => navigate(memberPath((e.currentTarget as HTMLSelectElement).value))}
            >
              {memberships.map((m) => <option value={m.memberId}>{communities.get(m.communityId)?.name ?? m.communityId}</option>)}
            </select>
          </label>
        )}
        {membership && (
          <ul aria-label={community ? t('nav.yourEnergyIn', { community: community.name }) : t('nav.yourEnergy')}>
            {link(memberPath(membership.memberId), t('nav.myEnergy'))}
            {link(memberPath(membership.memberId, 'statements'), t('nav.statements'))}
            {link(memberPath(membership.memberId, 'devices'), t('nav.myDevices'))}
            {link(memberPath(membership.memberId, 'privacy'), t('nav.myPrivacy'))}
            {link(memberPath(membership.memberId, 'market'), t('nav.myMarket'))}
            {link(memberPath(membership.memberId, 'plan'), t('nav.myPlan'))}
          </ul>
        )}
        {membership?.role === 'manager' && (
          <ul aria-label={community ? t('nav.manageCommunity', { community: community.name }) : t('nav.manage')}>
            {link(managePath(membership.communityId), t('nav.overview'))}
            {link(managePath(membership.communityId, 'forecast'), t('nav.forecast'))}
            {link(managePath(membership.communityId, 'market'), t('nav.market'))}
            {link(managePath(membership.communityId, 'flex'), t('nav.flex'))}
            {link(managePath(membership.communityId, 'plan'), t('nav.plan'))}
            {link(managePath(membership.communityId, 'members'), t('nav.members'))}
            {link(managePath(membership.communityId, 'devices'), t('nav.devices'))}
            {link(managePath(membership.communityId, 'commands'), t('nav.commands'))}
            {link(managePath(membership.communityId, 'connectors'), t('nav.connectors'))}
            {link(managePath(membership.communityId, 'tariffs'), t('nav.sharingTariffs'))}
            {link(managePath(membership.communityId, 'billing'), t('nav.billing'))}
            {link(managePath(membership.communityId, 'settlements'), t('nav.settlement'))}
            {link(managePath(membership.communityId, 'privacy'), t('nav.privacy'))}
            {link(managePath(membership.communityId, 'ledger'), t('nav.ledger'))}
            {link(managePath(membership.communityId, 'audit'), t('nav.audit'))}
          </ul>
        )}
        {me?.user.isAdmin && (
          <ul aria-label={t('nav.admin')}>
            {link(adminPath(), t('nav.adminHealth'))}
            {link(adminPath('communities'), t('nav.adminCommunities'))}
            {link(adminPath('users'), t('nav.adminUsers'))}
            {link(adminPath('ledger'), t('nav.adminLedger'))}
          </ul>
        )}
        <ul aria-label={t('nav.accountList')}>
          {link('/communities', invitations.length > 0 ? t('nav.communitiesInvited', { count: invitations.length }) : t('nav.communities'))}
          {link('/data-offers', t('nav.dataOffers'))}
          {link('/account', t('nav.account'))}
          <li><button type="button" class="link" onClick={() => void logout().then(() => navigate('/login'))}>{t('nav.logOut')}</button></li>
        </ul>
      </div>
    </nav>
  );
}

/** Until the address is confirmed some steps are refused: the person is told why, and may ask for a new link. */
function UnverifiedEmailNotice({ email }: { email: string }) {
  const { t } = useI18n();
  const action = useAction();
  const [sent, setSent] = useState(false);
  const resend = () => void action.run(async () => {
    await call('resendVerificationEmail');
    setSent(true);
  });
  return (
    <div class="notice" role="status" data-testid="email-unverified">
      <p>{t('app.emailUnverified', { email })}</p>
      {sent
        ? <p class="ok">{t('app.emailUnverifiedSent')}</p>
        : <button type="button" class="secondary" disabled={action.busy} onClick={resend}>{t('app.emailUnverifiedResend')}</button>}
      <ErrorNote error={action.error} />
    </div>
  );
}

function Shell() {
  const location = useLocation();
  const { me, communities } = useSession();
  const { t } = useI18n();
  const match = resolve(location);

  const needsLogin = me === null && !match?.route.public;
  useEffect(() => {
    if (needsLogin) navigate(`/login?next=${encodeURIComponent(location.path + window.location.search)}`, { replace: true });
  }, [needsLogin, location.path]);

  const membership = me ? currentMembership(activeMemberships(me), match?.params ?? {}) : undefined;
  const community = membership && communities.get(membership.communityId);

  let content;
  if (me === undefined) content = <Loading what={t('thing.session')} />;
  else if (needsLogin) content = null;
  else if (me?.user.mustChangePassword && location.path !== '/account') {
    content = <p role="alert">{t.rich('app.oneTimePassword', { a: (chunks) => <a href="/account">{chunks}</a> })}</p>;
  } else if (!match) content = <NotFound />;
  else content = <LazyPage key={match.route.pattern} route={match.route} params={match.params} />;

  return (
    <>
      <a class="skip" href="#main">{t('app.skip')}</a>
      <header>
        <a class="brand" href="/">{t('app.brand')}</a>
        {community && <span class="community-name">{community.name}</span>}
        {me && <span class="user muted">{me.user.displayName}</span>}
        {me && <NotificationBell />}
      </header>
      {me && <Nav params={match?.params ?? {}} path={location.path} />}
      {me?.memberships.some((m) => m.state === 'active' && m.communitySuspended) && <p class="error" role="alert">{t('app.communitySuspended')}</p>}
      {me && me.user.emailVerifiedAt === null && location.path !== '/verify-email' && <UnverifiedEmailNotice email={me.user.email} />}
      <main id="main" tabIndex={-1}>{content}</main>
    </>
  );
}

/** The app in `language`, whose catalog main.tsx loaded before the first render. */
export function App({ language, messages }: { language: Language; messages: Messages }) {
  return (
    <I18nProvider initial={{ language, messages }}>
      <SessionProvider>
        <Shell />
      </SessionProvider>
    </I18nProvider>
  );
}
