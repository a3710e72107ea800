import { useMemo } from 'preact/hooks';
import type { Community } from '@gridshare/contract/registry';
import { preloadCharts } from '../../components/chart.js';
import { AccuracyTable, ForecastChart } from '../../components/forecast.js';
import { Empty, ErrorNote, Loading } from '../../components/ui.js';
import { seriesOf } from '../../lib/forecast.js';
import type { Formatter } from '../../lib/format.js';
import { useApi, useTicker } from '../../lib/hooks.js';
import { useI18n } from '../../lib/i18n/provider.js';
import { COLORS } from '../../lib/palette.js';
import { restOfTodayAndTomorrow } from '../../lib/time.js';
import { ManagePage } from './manage-page.js';

preloadCharts();

/** The community's forecast (consumption, production, surplus with its band) and how accurate the forecasts have been. */
export default function ForecastPage({ params }: { params: Record<string, string> }) {
  const { t } = useI18n();
  return (
    <ManagePage communityId={params.communityId!} title={t('nav.forecast')}>
      {(c, fmt) => (
        <>
          <CommunityForecast community={c} fmt={fmt} />
          <Accuracy community={c} fmt={fmt} />
        </>
      )}
    </ManagePage>
  );
}

function CommunityForecast({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const hour = Math.floor(useTicker(60_000) / 3_600_000);
  const range = useMemo(() => restOfTodayAndTomorrow(new Date(hour * 3_600_000 + 1), community.timeZone), [hour, community.timeZone]);
  const forecast = useApi('communityForecast', { params: { id: community.id }, query: { from: range.from, to: range.to, resolution: 60 } });
  const chart = useMemo(() => {
    const f = forecast.data;
    const surplus = seriesOf(f, 'surplus');
    if (!f || !surplus) return undefined;
    const p50 = (kind: 'consumption' | 'production' | 'surplus') => (seriesOf(f, kind) ?? []).map((v) => v.p50W ?? null);
    return {
      starts: surplus.map((v) => v.start),
      lines: [
        { name: t('energy.consumption'), color: COLORS.home, values: p50('consumption') },
        { name: t('forecast.production'), color: COLORS.ownPv, values: p50('production') },
        { name: t('forecast.surplus'), color: COLORS.community, values: p50('surplus') },
      ],
      band: { name: t('forecast.band'), color: COLORS.toCommunity, forecast: f, kind: 'surplus' as const },
    };
  }, [forecast.data, t]);
  return (
    <section class="card" aria-labelledby="community-forecast-heading">
      <h2 id="community-forecast-heading">{t('forecast.communityTitle')}</h2>
      {forecast.error
        ? <ErrorNote error={forecast.error} />
        : !forecast.data
          ? <Loading what={t('forecast.communityTitle')} />
          : chart
            ? (
              <>
                <p class="muted">{t('forecast.communityIntro')}</p>
                <ForecastChart starts={chart.starts} lines={chart.lines} band={chart.band} fmt={fmt} height={300} />
              </>
            )
            : <Empty><p>{t('forecast.none')}</p></Empty>}
    </section>
  );
}

function Accuracy({ community, fmt }: { community: Community; fmt: Formatter }) {
  const { t } = useI18n();
  const accuracy = useApi('communityForecastAccuracy', { params: { id: community.id } });
  const days = accuracy.data?.days ?? 30;
  return (
    <section class="card" aria-labelledby="accuracy-heading">
      <h2 id="accuracy-heading">{t('forecast.accuracy', { days })}</h2>
      {accuracy.error
        ? <ErrorNote error={accuracy.error} />
        : !accuracy.data
          ? <Loading what={t('forecast.accuracy', { days })} />
          : accuracy.data.rows.length === 0
            ? <Empty><p>{t('forecast.noAccuracy')}</p></Empty>
            : (
              <>
                <p class="muted">{t('forecast.accuracyIntro')}</p>
                <AccuracyTable rows={accuracy.data.rows} days={days} fmt={fmt} />
              </>
            )}
    </section>
  );
}
