import { useEffect, useState } from 'preact/hooks';
import { call } from '../api/client.js';
import type { MeteringPoint } from '@gridshare/contract/registry';
import { ClaimForm } from '../components/claim-form.js';
import { Empty, ErrorNote, Loading, Page } from '../components/ui.js';
import { claimCodeFrom } from '../lib/claim.js';
import { useI18n } from '../lib/i18n/provider.js';
import { useLocation } from '../router.js';
import { memberPath } from '../paths.js';
import { activeMemberships, useSession } from '../session.js';

/** Where a sticker's QR code leads (/claim?code=…): the code is filled in, the person picks the site. */
export default function Claim() {
  const { query } = useLocation();
  const { me } = useSession();
  const { t } = useI18n();
  const memberships = activeMemberships(me);
  const [points, setPoints] = useState<MeteringPoint[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [claimedTo, setClaimedTo] = useState<string | undefined>(undefined);
  useEffect(() => {
    Promise.all(memberships.map((m) =>
      call('listMeteringPoints', { params: { id: m.communityId } }).then((list) => list.filter((p) => p.memberId === m.memberId))))
      .then((lists) => setPoints(lists.flat()), setError);
  }, [me]);
  const code = query.get('code') ?? '';
  return (
    <Page title={t('claimPage.title')}>
      {memberships.length === 0
        ? <Empty><p>{t.rich('claimPage.notMember', { a: (chunks) => <a href="/communities">{chunks}</a> })}</p></Empty>
        : error ? <ErrorNote error={error} />
        : !points ? <Loading what={t('thing.yourSites')} />
        : (
          <section class="card">
            {code && !claimCodeFrom(code) && <p class="error" role="alert">{t('claimPage.badCode')}</p>}
            <ClaimForm points={points} initialCode={code} onClaimed={(device) => {
              const owner = points.find((p) => p.id === device.meteringPointId)?.memberId;
              setClaimedTo(owner);
            }} />
            {claimedTo && <p><a href={memberPath(claimedTo, 'devices')}>{t('claimPage.seeDevices')}</a></p>}
          </section>
        )}
    </Page>
  );
}
