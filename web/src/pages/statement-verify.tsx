import type { StatementVerification } from '@gridshare/contract/ledger';
import { statementRecordDownload } from '../api/sharing.js';
import { Async, Badge, Page } from '../components/ui.js';
import { useMemberContext } from '../lib/context.js';
import { useApi } from '../lib/hooks.js';
import { useI18n } from '../lib/i18n/provider.js';
import { memberPath } from '../paths.js';
import { useFormat } from '../session.js';

/** "Verify my statement": the receipt checked against the log's key as `gridshare verify` checks it, and the files to check it yourself. */
export default function StatementVerify({ params }: { params: Record<string, string> }) {
  const memberId = params.memberId!;
  const statementId = params.statementId!;
  const { member, community } = useMemberContext(memberId);
  const fmt = useFormat(community.data);
  const { t } = useI18n();
  const verification = useApi('statementVerification', member.data ? { params: { id: statementId } } : null);
  return (
    <Page title={t('verify.title')} actions={<a href={memberPath(memberId, 'statements')}>{t('verify.back')}</a>}>
      <Async state={verification} what={t('thing.receipt')}>
        {(v) => (
          <>
            <section class="card" aria-labelledby="verify-result" data-testid="verify-result">
              <h2 id="verify-result">
                {v.verified ? <Badge tone="good">{t('verify.verified')}</Badge> : <Badge tone="bad">{t('verify.notVerified')}</Badge>}
              </h2>
              {v.verified ? <Proof v={v} count={fmt.count} /> : <p>{t('verify.failed', { reason: v.reason ?? '', message: v.message ?? '' })}</p>}
            </section>
            <section class="card" aria-labelledby="verify-yourself">
              <h2 id="verify-yourself">{t('verify.yourselfTitle')}</h2>
              <p>{t('verify.yourself')}</p>
              <div class="row-actions">
                <a href={statementRecordDownload(statementId, 'receipt')} download>{t('verify.receipt')}</a>
                <a href={statementRecordDownload(statementId, 'statement')} download>{t('verify.statement')}</a>
              </div>
              <p><code>{t('verify.command', { key: v.verifierKey })}</code></p>
              <p class="muted">{t('verify.key', { did: v.did })}</p>
              {v.communityDid && <p class="muted">{t('verify.communityKey', { did: v.communityDid })}</p>}
            </section>
          </>
        )}
      </Async>
    </Page>
  );
}

function Proof({ v, count }: { v: StatementVerification; count: (n: number) => string }) {
  const { t } = useI18n();
  return (
    <>
      <p>{t('verify.explained', { index: count(v.index ?? 0), size: count(v.treeSize ?? 0) })}</p>
      {v.erasedFields.length > 0 && <p data-testid="verify-erased">{t('verify.erased', { fields: v.erasedFields.join(', ') })}</p>}
      <dl>
        <dt>{t('verify.document')}</dt><dd><code>{v.documentSha256}</code></dd>
        <dt>{t('verify.root')}</dt><dd><code>{v.rootHash}</code></dd>
        <dt>{t('verify.communitySignature')}</dt>
        <dd data-testid="verify-community-signature">{v.communitySignature === 'valid' ? t('verify.communitySigned') : t('verify.communityUnsigned')}</dd>
      </dl>
    </>
  );
}
