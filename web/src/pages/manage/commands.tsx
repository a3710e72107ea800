import { CommandList } from '../../components/commands.js';
import { Async } from '../../components/ui.js';
import { useApi } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { ManagePage } from './manage-page.js';

/** The commands sent to the community's devices (by the plan or by people) and where each one's delivery stands. */
export default function CommandsPage({ params }: { params: Record<string, string> }) {
  const { t } = useI18n();
  const communityId = params.communityId!;
  const devices = useApi('listDevices', { params: { id: communityId } });
  return (
    <ManagePage communityId={communityId} title={t('nav.commands')}>
      {(c, fmt) => (
        <section class="card" aria-labelledby="commands-heading">
          <h2 id="commands-heading">{t('commands.title')}</h2>
          <p class="muted">{t('commands.intro')}</p>
          <Async state={devices} what={t('thing.devices')}>
            {(all) => <CommandList communityId={c.id} devices={all} fmt={fmt} />}
          </Async>
        </section>
      )}
    </ManagePage>
  );
}
