import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { matchPath, navigate, useLocation, type Location } from './router.js';
import { ROUTES, managePath, memberPath, type Route } from './routes.js';
import { activeMemberships, SessionProvider, useSession } from './session.js';
import { ErrorNote, Loading, NotFound } from './components/ui.js';
import type { Membership } from './api/types.js';

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
  const Component = loaded.get(route);
  useEffect(() => {
    if (Component) return;
    route.load().then((module) => {
      loaded.set(route, module.default);
      setVersion((v) => v + 1);
    }, setError);
  }, [route, Component]);
  if (error) return <ErrorNote error="This page could not be loaded. Reload to try again." />;
  return Component ? <Component params={params} /> : <Loading what="page" />;
}

/** The membership the current page is about: the one in the URL, else the first active one. */
function currentMembership(memberships: Membership[], params: Record<string, string>): Membership | undefined {
  return memberships.find((m) => m.memberId === params.memberId)
    ?? memberships.find((m) => m.communityId === params.communityId)
    ?? memberships[0];
}

function Nav({ params, path }: { params: Record<string, string>; path: string }) {
  const { me, communities, invitations, logout } = useSession();
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [path]);
  const memberships = activeMemberships(me);
  const membership = currentMembership(memberships, params);
  const community = membership && communities.get(membership.communityId);
  const link = (href: string, text: string) => (
    <li><a href={href} aria-current={path === href ? 'page' : undefined}>{text}</a></li>
  );
  return (
    <nav aria-label="Main" class={open ? 'open' : ''}>
      <button type="button" class="menu-button" aria-expanded={open} aria-controls="nav-lists" onClick={() => setOpen(!open)}>
        Menu
      </button>
      <div id="nav-lists">
        {memberships.length > 1 && (
          <label class="switcher">
            Community{' '}
            <select
              value={membership?.memberId}
              onChange={(e) => navigate(memberPath((e.currentTarget as HTMLSelectElement).value))}
            >
              {memberships.map((m) => <option value={m.memberId}>{communities.get(m.communityId)?.name ?? m.communityId}</option>)}
            </select>
          </label>
        )}
        {membership && (
          <ul aria-label={`Your energy${community ? ` in ${community.name}` : ''}`}>
            {link(memberPath(membership.memberId), 'My energy')}
            {link(memberPath(membership.memberId, 'statements'), 'Statements')}
            {link(memberPath(membership.memberId, 'devices'), 'My devices')}
          </ul>
        )}
        {membership?.role === 'manager' && (
          <ul aria-label={`Manage ${community?.name ?? 'community'}`}>
            {link(managePath(membership.communityId), 'Overview')}
            {link(managePath(membership.communityId, 'members'), 'Members')}
            {link(managePath(membership.communityId, 'devices'), 'Devices')}
            {link(managePath(membership.communityId, 'tariffs'), 'Sharing & tariffs')}
            {link(managePath(membership.communityId, 'settlements'), 'Settlement')}
          </ul>
        )}
        <ul aria-label="Account">
          {link('/communities', invitations.length > 0 ? `Communities (${invitations.length} invitation${invitations.length === 1 ? '' : 's'})` : 'Communities')}
          {link('/account', 'Account')}
          <li><button type="button" class="link" onClick={() => void logout().then(() => navigate('/login'))}>Log out</button></li>
        </ul>
      </div>
    </nav>
  );
}

function Shell() {
  const location = useLocation();
  const { me, communities } = useSession();
  const match = resolve(location);

  const needsLogin = me === null && !match?.route.public;
  useEffect(() => {
    if (needsLogin) navigate(`/login?next=${encodeURIComponent(location.path + window.location.search)}`, { replace: true });
  }, [needsLogin, location.path]);

  const membership = me ? currentMembership(activeMemberships(me), match?.params ?? {}) : undefined;
  const community = membership && communities.get(membership.communityId);

  let content;
  if (me === undefined) content = <Loading what="your session" />;
  else if (needsLogin) content = null;
  else if (me?.user.mustChangePassword && location.path !== '/account') {
    content = <p role="alert">Your password is a one-time password. <a href="/account">Choose your own password</a> to go on.</p>;
  } else if (!match) content = <NotFound />;
  else content = <LazyPage key={match.route.pattern} route={match.route} params={match.params} />;

  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header>
        <a class="brand" href="/">Gridshare</a>
        {community && <span class="community-name">{community.name}</span>}
        {me && <span class="user muted">{me.user.displayName}</span>}
      </header>
      {me && <Nav params={match?.params ?? {}} path={location.path} />}
      <main id="main" tabIndex={-1}>{content}</main>
    </>
  );
}

export function App() {
  return (
    <SessionProvider>
      <Shell />
    </SessionProvider>
  );
}
