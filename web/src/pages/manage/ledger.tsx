import { apiUrl } from '../../api/client.js';
import { Badge, Empty, ErrorNote, Loading, Stat } from '../../components/ui.js';
import { useApi } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { ManagePage } from './manage-page.js';

/** The verifiable record as a manager sees it: the log's size, latest checkpoint, last append, audit, the community's entries and its signing key. */
export default function LedgerPage({ params }: { params: Record<string, string> }) {
  const { t } = useI18n();
  const communityId = params.communityId!;
  const ledger = useApi('communityLedger', { params: { id: communityId } }, { refreshMs: 60_000 });
  const publishedKey = apiUrl('ledgerCommunityKey', { params: { id: communityId } });
  return (
    <ManagePage communityId={communityId} title={t('nav.ledger')}>
      {(_c, fmt) => {
        if (ledger.error) return <ErrorNote error={ledger.error} />;
        const l = ledger.data;
        if (!l) return <Loading what={t('nav.ledger')} />;
        return (
          <>
            <section class="card" aria-labelledby="ledger-log">
              <h2 id="ledger-log">{t('ledger.log')}</h2>
              <p class="muted">{t('ledger.intro')}</p>
              <dl class="stats" data-testid="ledger-stats">
                <Stat label={t('ledger.size')} value={fmt.count(l.size)} />
                <Stat label={t('ledger.lastAppend')} value={l.lastAppendAt ? fmt.dateTime(l.lastAppendAt) : t('ledger.never')} />
                <Stat label={t('ledger.checkpoint')} value={l.checkpoint ? fmt.count(l.checkpoint.size) : t('ledger.never')}
                  {...(l.checkpoint ? { detail: fmt.dateTime(l.checkpoint.publishedAt) } : {})} />
                <Stat label={t('ledger.communityEntries')} value={fmt.count(l.community.entries)} />
              </dl>
              {l.audit && (
                <p>
                  {l.audit.failures === 0
                    ? <Badge tone="good">{t('ledger.auditPassed', { at: fmt.dateTime(l.audit.auditedAt), entries: fmt.count(l.audit.entries) })}</Badge>
                    : <Badge tone="bad">{t('ledger.auditFailed', { failures: fmt.count(l.audit.failures), message: l.audit.message ?? '' })}</Badge>}
                </p>
              )}
            </section>
            <section class="card" aria-labelledby="ledger-key">
              <h2 id="ledger-key">{t('ledger.key')}</h2>
              {l.verifierKey
                ? (
                  <dl>
                    <dt>{t('ledger.origin')}</dt><dd><code>{l.origin}</code></dd>
                    <dt>{t('ledger.verifierKey')}</dt><dd><code>{l.verifierKey}</code></dd>
                    <dt>{t('ledger.did')}</dt><dd><code>{l.did}</code></dd>
                    {l.checkpoint && <><dt>{t('ledger.rootHash')}</dt><dd><code>{l.checkpoint.rootHash}</code></dd></>}
                  </dl>
                )
                : <Empty><p>{t('ledger.noKey')}</p></Empty>}
            </section>
            <section class="card" aria-labelledby="ledger-community-key" data-testid="ledger-community-key">
              <h2 id="ledger-community-key">{t('ledger.communityKey')}</h2>
              <p class="muted">{t('ledger.communityKeyIntro')}</p>
              <dl>
                <dt>{t('ledger.did')}</dt><dd><code>{l.communityDid}</code></dd>
                <dt>{t('ledger.communityKeyPublished')}</dt><dd><a href={publishedKey}><code>{publishedKey}</code></a></dd>
              </dl>
            </section>
          </>
        );
      }}
    </ManagePage>
  );
}
