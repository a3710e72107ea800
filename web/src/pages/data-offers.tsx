import type { ComponentChildren } from 'preact';
import type { CatalogueOffer } from '@gridshare/contract/privacy';
import { Async, Badge, Empty, Page } from '../components/ui.js';
import { formatter } from '../lib/format.js';
import { useApi } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';
import { nameOf, OFFER_AUDIENCES, QUANTITY_NAMES, RESOLUTION_NAMES } from '../lib/privacy.js';
import { activeMemberships, useSession } from '../session.js';
import { AcceptForm } from './privacy.js';

/**
 * The catalogue of data offers: the open offers of the user's communities and every open offer to
 * anyone, with scope, price, purpose and terms (never which member made one). A member accepts here
 * as their membership in the offer's community (or, for an offer to anyone, as their first one).
 */
export default function DataOfferCatalogue() {
  const { t } = useI18n();
  const { me } = useSession();
  const catalogue = useApi('dataOfferCatalogue', {});
  const memberships = activeMemberships(me);
  return (
    <Page title={t('privacy.catalogueTitle')}>
      <section class="card" aria-labelledby="catalogue-heading">
        <h2 id="catalogue-heading">{t('privacy.catalogueTitle')}</h2>
        <p class="muted">{t('privacy.catalogueIntro')}</p>
        <Async state={catalogue} what={t('privacy.catalogueTitle')}>
          {(offers) => offers.length === 0 ? <Empty><p>{t('privacy.catalogueNone')}</p></Empty> : (
            <ul class="rows" aria-label={t('privacy.catalogueTitle')}>
              {offers.map((offer) => {
                const taker = memberships.find((m) => m.communityId === offer.communityId) ?? (offer.audience === 'anyone' ? memberships[0] : undefined);
                return (
                  <CatalogueRow key={offer.id} offer={offer}>
                    {offer.mine ? <Badge tone="neutral">{t('privacy.catalogueMine')}</Badge>
                      : offer.taken ? <Badge tone="good">{t('privacy.offerTaken')}</Badge>
                        : taker ? <AcceptForm memberId={taker.memberId} offer={offer} onAccepted={catalogue.reload} />
                          : <small class="muted">{t('privacy.catalogueAcceptHint')}</small>}
                  </CatalogueRow>
                );
              })}
            </ul>
          )}
        </Async>
      </section>
    </Page>
  );
}

function CatalogueRow({ offer, children }: { offer: CatalogueOffer; children: ComponentChildren }) {
  const { t, locale } = useI18n();
  const fmt = formatter({ locale, currency: offer.currency });
  const price = /^0(\.0+)?$/.test(offer.price) ? t('privacy.offerFree') : fmt.money(offer.price);
  return (
    <li>
      <div>
        <strong>{offer.description}</strong>{' '}
        <Badge tone="neutral">{t('privacy.catalogueFrom', { community: offer.communityName })}</Badge>
        <br /><small class="muted">{t('privacy.offerTerms', {
          points: t('privacy.catalogueSites', { count: offer.scope.meteringPoints.length }),
          quantities: offer.scope.quantities.map((q) => nameOf(QUANTITY_NAMES, q, t)).join(', '), resolution: nameOf(RESOLUTION_NAMES, offer.scope.resolution, t),
          price, days: offer.grantValidityDays, until: fmt.date(offer.openUntil), audience: nameOf(OFFER_AUDIENCES, offer.audience, t),
        })}</small>
      </div>
      <div class="actions">{children}</div>
    </li>
  );
}
