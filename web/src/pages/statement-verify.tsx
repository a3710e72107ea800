import { useEffect, useState } from 'preact/hooks';
import { statementRecordDownload } from '../api/sharing.js';
import { Badge, ErrorNote, Page } from '../components/ui.js';
import { useMemberContext } from '../lib/context.js';
import { useI18n } from '../lib/i18n/provider.js';
import { checkStatementInBrowser, type StatementCheck } from '../lib/statement-proof.js';
import { uncheckedReason } from '../lib/browser-check.js';
import { memberPath } from '../paths.js';
import { useFormat } from '../session.js';

/**
 * "Verify my statement": the receipt and the statement checked here, in the browser, against the
 * record's published keys (lib/statement-proof.ts), and the files to check them offline.
 */
export default function StatementVerify({ params }: { params: Record<string, string> }) {
  const memberId = params.memberId!;
  const statementId = params.statementId!;
  const { member, community } = useMemberContext(memberId);
  const fmt = useFormat(community.data);
  const { t } = useI18n();
  const communityId = member.data?.communityId;
  const [check, setCheck] = useState<{ statementId: string; result?: StatementCheck; error?: unknown }>({ statementId });
  useEffect(() => {
    if (communityId === undefined) return undefined;
    let current = true;
    checkStatementInBrowser(statementId, communityId).then(
      (result) => current && setCheck({ statementId, result }),
      (error: unknown) => current && setCheck({ statementId, error }),
    );
    return () => {
      current = false;
    };
  }, [statementId, communityId]);
  const shown = check.statementId === statementId ? check : { statementId };
  const error = shown.error ?? member.error;
  return (
    <Page title={t('verify.title')} actions={<a href={memberPath(memberId, 'statements')}>{t('verify.back')}</a>}>
      <section class="card" aria-labelledby="verify-result" data-testid="verify-result" aria-live="polite">
        {error !== undefined
          ? <ErrorNote error={error} />
          : shown.result === undefined
            ? <p>{t('verify.checking')}</p>
            : <Result check={shown.result} count={fmt.count} />}
      </section>
      {shown.result && (
        <section class="card" aria-labelledby="verify-yourself">
          <h2 id="verify-yourself">{t('verify.yourselfTitle')}</h2>
          <p>{t('verify.yourself')}</p>
          <div class="row-actions">
            <a href={statementRecordDownload(statementId, 'receipt')} download>{t('verify.receipt')}</a>
            <a href={statementRecordDownload(statementId, 'statement')} download>{t('verify.statement')}</a>
          </div>
          <p><code>{t('verify.command', { key: shown.result.keys.verifierKey })}</code></p>
          <p class="muted">{t('verify.key', { did: shown.result.keys.did })}</p>
          {shown.result.keys.communityDid && <p class="muted">{t('verify.communityKey', { did: shown.result.keys.communityDid })}</p>}
        </section>
      )}
    </Page>
  );
}

function Result({ check, count }: { check: StatementCheck; count: (n: number) => string }) {
  const { t } = useI18n();
  if (check.state === 'unchecked') {
    return (
      <>
        <h2 id="verify-result"><Badge tone="neutral">{t('verify.unchecked')}</Badge></h2>
        <p>{uncheckedReason(t, check.lacking)}</p>
      </>
    );
  }
  if (check.state === 'refused') {
    return (
      <>
        <h2 id="verify-result"><Badge tone="bad">{t('verify.notVerified')}</Badge></h2>
        <p>{t('verify.failed', { reason: check.reason, message: check.message })}</p>
      </>
    );
  }
  const v = check.verified;
  return (
    <>
      <h2 id="verify-result"><Badge tone="good">{t('verify.verified')}</Badge></h2>
      <p>{t('verify.explained', { index: count(v.index), size: count(v.treeSize) })}</p>
      {v.erasedFields.length > 0 && <p data-testid="verify-erased">{t('verify.erased', { fields: v.erasedFields.join(', ') })}</p>}
      <dl>
        <dt>{t('verify.document')}</dt><dd><code>{v.documentSha256}</code></dd>
        <dt>{t('verify.root')}</dt><dd><code>{v.rootHash}</code></dd>
        <dt>{t('verify.communitySignature')}</dt>
        <dd data-testid="verify-community-signature">{v.communitySigned ? t('verify.communitySigned') : t('verify.communityUnsigned')}</dd>
      </dl>
    </>
  );
}
