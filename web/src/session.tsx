import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, call, setUnauthorizedHandler } from './api/client.js';
import type { Me, Membership } from '@gridshare/contract/accounts';
import type { Community, ReceivedInvitation } from '@gridshare/contract/registry';
import { formatter, type Formatter } from './lib/format.js';
import { useI18n } from './lib/i18n/provider.js';

export interface Session {
  /** Undefined while the first /me is loading; null when nobody is logged in. */
  me: Me | null | undefined;
  communities: ReadonlyMap<string, Community>;
  /** Open invitations to the person's email (also those made before they signed up). */
  invitations: ReceivedInvitation[];
  refresh(): Promise<void>;
  logout(): Promise<void>;
  /** Remembers a community read by a page (its name, currency and time zone serve the nav and formats). */
  remember(community: Community): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside <SessionProvider>');
  return session;
}

/** Memberships that open pages: active ones in communities that are not suspended. */
export const activeMemberships = (me: Me | null | undefined): Membership[] =>
  me?.memberships.filter((m) => m.state === 'active' && !m.communitySuspended) ?? [];

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [communities, setCommunities] = useState<ReadonlyMap<string, Community>>(new Map());
  const [invitations, setInvitations] = useState<ReceivedInvitation[]>([]);

  const remember = useCallback((community: Community) => {
    setCommunities((known) => (known.get(community.id) === community ? known : new Map(known).set(community.id, community)));
  }, []);

  const refresh = useCallback(async () => {
    try {
      const [loaded, open] = await Promise.all([call('me'), call('receivedInvitations').catch((): ReceivedInvitation[] => [])]);
      setInvitations(open);
      setMe(loaded);
      // The communities' names serve the header and nav; pages do not wait for them.
      const ids = [...new Set(activeMemberships(loaded).map((m) => m.communityId))];
      void Promise.all(ids.map((id) => call('getCommunity', { params: { id } }).catch(() => undefined))).then((found) =>
        setCommunities((known) => {
          const next = new Map(known);
          for (const community of found) if (community) next.set(community.id, community);
          return next;
        }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setMe(null);
      else throw error;
    }
  }, []);

  const logout = useCallback(async () => {
    await call('logout');
    setInvitations([]);
    setMe(null);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => setMe(null));
    void refresh().catch(() => setMe(null));
  }, [refresh]);

  // The language kept with the account wins over this browser's: the person's choice follows them to every browser.
  const { language, setLanguage } = useI18n();
  const accountLanguage = me?.user.locale;
  useEffect(() => {
    if (accountLanguage && accountLanguage !== language) void setLanguage(accountLanguage);
    // Only when the account's choice is loaded or changes; a language switched meanwhile is the person's own doing.
  }, [accountLanguage, setLanguage]);

  const value = useMemo(() => ({ me, communities, invitations, refresh, logout, remember }), [me, communities, invitations, refresh, logout, remember]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/**
 * Formats in the person's locale (lib/i18n), with the community's currency and time zone once
 * the community is known (the browser's zone until then).
 */
export function useFormat(community: Community | undefined): Formatter {
  const { locale } = useI18n();
  return useMemo(
    () => formatter({ locale, ...(community ? { currency: community.currency, timeZone: community.timeZone } : {}) }),
    [locale, community],
  );
}
