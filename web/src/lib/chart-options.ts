/** ECharts options for the app's charts, built from the pure series in energy.ts. */
import type { EChartsCoreOption } from './echarts.js';
import type { Formatter } from './format.js';
import { COLORS } from './palette.js';
import { FLOW_NODES, type Flow, type StackedSeries } from './energy.js';

const kWh = (wh: number | null) => (wh === null ? null : wh / 1000);

/** Bucket labels in the community's time zone: hours for a day, days for a month. */
export function bucketLabels(starts: readonly string[], unit: 'hour' | 'day', fmt: Formatter): string[] {
  const options: Intl.DateTimeFormatOptions = unit === 'hour'
    ? { hour: '2-digit', minute: '2-digit', timeZone: fmt.context.timeZone }
    : { day: 'numeric', month: 'short', timeZone: fmt.context.timeZone };
  const format = new Intl.DateTimeFormat(fmt.context.locale, options);
  return starts.map((s) => format.format(new Date(s)));
}

const baseGrid = { left: 48, right: 12, top: 40, bottom: 28, containLabel: false };

export function stackedOption(series: StackedSeries, labels: string[], fmt: Formatter): EChartsCoreOption {
  const bar = (name: string, data: number[], color: string, stack: string, sign = 1) => ({
    name, type: 'bar', stack, data: data.map((wh) => kWh(sign * wh)), itemStyle: { color }, emphasis: { focus: 'series' },
  });
  return {
    baseOption: {
      animation: false,
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? fmt.energy(Math.abs(v) * 1000) : '–') },
      legend: { top: 0, itemGap: 12, itemWidth: 16 },
      grid: baseGrid,
      xAxis: { type: 'category', data: labels },
      yAxis: { type: 'value', name: 'kWh', axisLabel: { formatter: (v: number) => new Intl.NumberFormat(fmt.context.locale).format(v) } },
      series: [
        bar('Own PV', series.selfConsumed, COLORS.ownPv, 'use'),
        bar('Community', series.fromCommunity, COLORS.community, 'use'),
        bar('Grid', series.fromGrid, COLORS.grid, 'use'),
        bar('To community', series.toCommunity, COLORS.toCommunity, 'out', -1),
        bar('To grid', series.toGrid, COLORS.toGrid, 'out', -1),
      ],
    },
    // On a phone the legend takes two lines: every series stays named, none is paged away. The
    // entry without a query is what applies again once the chart is wide (ECharts keeps a matched
    // media option otherwise).
    media: [{ option: { grid: { top: baseGrid.top } } }, { query: { maxWidth: 480 }, option: { grid: { top: 76 } } }],
  };
}

const NODE_COLORS: Record<string, string> = {
  [FLOW_NODES.pv]: COLORS.ownPv,
  [FLOW_NODES.fromCommunity]: COLORS.community,
  [FLOW_NODES.fromGrid]: COLORS.grid,
  [FLOW_NODES.home]: COLORS.home,
  [FLOW_NODES.toCommunity]: COLORS.toCommunity,
  [FLOW_NODES.toGrid]: COLORS.toGrid,
};

export function sankeyOption(flows: Flow[], fmt: Formatter): EChartsCoreOption {
  const names = [...new Set(flows.flatMap((f) => [f.source, f.target]))];
  const sources = new Set(flows.map((f) => f.source));
  return {
    animation: false,
    tooltip: { trigger: 'item', valueFormatter: (v: unknown) => (typeof v === 'number' ? fmt.energy(v) : '–') },
    series: [{
      type: 'sankey',
      // Sources labelled on their left, destinations on their right: no label lies on a flow.
      left: 96, right: 96, top: 16, bottom: 28,
      nodeAlign: 'justify',
      emphasis: { focus: 'adjacency' },
      data: names.map((name) => ({ name, itemStyle: { color: NODE_COLORS[name] }, label: { position: sources.has(name) ? 'left' : 'right' } })),
      links: flows.map((f) => ({ source: f.source, target: f.target, value: f.valueWh })),
      lineStyle: { color: 'gradient', opacity: 0.45 },
      label: { lineHeight: 16, fontSize: 12, width: 88, overflow: 'break', formatter: (p: { name: string; value: number }) => `${p.name}\n${fmt.energy(p.value)}` },
    }],
  };
}
