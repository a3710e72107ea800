/** ECharts options for the app's charts, built from the pure series in energy.ts. */
import type { EChartsCoreOption } from './echarts.js';
import { NO_VALUE, UNIT, type Formatter } from './format.js';
import type { MessageKey, Translate } from './i18n/index.js';
import { COLORS } from './palette.js';
import type { Flow, FlowNode, StackedSeries } from './energy.js';
import type { BarUnit } from './periods.js';

const kWh = (wh: number | null) => (wh === null ? null : wh / 1000);

/** Bucket labels in the community's time zone: hours for a day, days for a month, months for a year. */
export function bucketLabels(starts: readonly string[], unit: BarUnit, fmt: Formatter): string[] {
  return starts.map((s) => fmt.bucket(s, unit));
}

const baseGrid = { left: 48, right: 12, top: 40, bottom: 28, containLabel: false };

export function stackedOption(series: StackedSeries, labels: string[], fmt: Formatter, t: Translate): EChartsCoreOption {
  const bar = (name: string, data: number[], color: string, stack: string, sign = 1) => ({
    name, type: 'bar', stack, data: data.map((wh) => kWh(sign * wh)), itemStyle: { color }, emphasis: { focus: 'series' },
  });
  return {
    baseOption: {
      animation: false,
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? fmt.energy(Math.abs(v) * 1000) : NO_VALUE) },
      legend: { top: 0, itemGap: 12, itemWidth: 16 },
      grid: baseGrid,
      xAxis: { type: 'category', data: labels },
      yAxis: { type: 'value', name: UNIT.kWh, axisLabel: { formatter: (v: number) => fmt.count(v) } },
      series: [
        bar(t('chart.ownPv'), series.selfConsumed, COLORS.ownPv, 'use'),
        bar(t('chart.community'), series.fromCommunity, COLORS.community, 'use'),
        bar(t('chart.grid'), series.fromGrid, COLORS.grid, 'use'),
        bar(t('chart.toCommunity'), series.toCommunity, COLORS.toCommunity, 'out', -1),
        bar(t('chart.toGrid'), series.toGrid, COLORS.toGrid, 'out', -1),
      ],
    },
    // On a phone the legend takes two lines: every series stays named, none is paged away. The
    // entry without a query is what applies again once the chart is wide (ECharts keeps a matched
    // media option otherwise).
    media: [{ option: { grid: { top: baseGrid.top } } }, { query: { maxWidth: 480 }, option: { grid: { top: 76 } } }],
  };
}

/** One meter quantity's usage per bucket as bars; unknown buckets stay gaps, not zeros. */
export function usageOption(labels: string[], name: string, values: readonly (number | null)[], color: string, format: (value: number) => string): EChartsCoreOption {
  return {
    animation: false,
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? format(v) : NO_VALUE) },
    grid: { ...baseGrid, top: 16, left: 64 },
    xAxis: { type: 'category', data: labels },
    yAxis: { type: 'value', axisLabel: { formatter: (v: number) => format(v) } },
    series: [{ name, type: 'bar', data: [...values], itemStyle: { color } }],
  };
}

const NODES: Record<FlowNode, { color: string; name: MessageKey }> = {
  pv: { color: COLORS.ownPv, name: 'flow.pv' },
  fromCommunity: { color: COLORS.community, name: 'flow.fromCommunity' },
  fromGrid: { color: COLORS.grid, name: 'flow.fromGrid' },
  home: { color: COLORS.home, name: 'flow.home' },
  toCommunity: { color: COLORS.toCommunity, name: 'flow.toCommunity' },
  toGrid: { color: COLORS.toGrid, name: 'flow.toGrid' },
};

export const flowNodeName = (node: FlowNode, t: Translate) => t(NODES[node].name);

export function sankeyOption(flows: Flow[], fmt: Formatter, t: Translate): EChartsCoreOption {
  const nodes = [...new Set(flows.flatMap((f) => [f.source, f.target]))];
  const sources = new Set<FlowNode>(flows.map((f) => f.source));
  // ECharts identifies nodes by name: each node's name on screen.
  const name = (node: FlowNode) => flowNodeName(node, t);
  return {
    animation: false,
    tooltip: { trigger: 'item', valueFormatter: (v: unknown) => (typeof v === 'number' ? fmt.energy(v) : NO_VALUE) },
    series: [{
      type: 'sankey',
      // Sources labelled on their left, destinations on their right: no label lies on a flow.
      left: 96, right: 96, top: 16, bottom: 28,
      nodeAlign: 'justify',
      emphasis: { focus: 'adjacency' },
      data: nodes.map((node) => ({ name: name(node), itemStyle: { color: NODES[node].color }, label: { position: sources.has(node) ? 'left' : 'right' } })),
      links: flows.map((f) => ({ source: name(f.source), target: name(f.target), value: f.valueWh })),
      lineStyle: { color: 'gradient', opacity: 0.45 },
      label: { lineHeight: 16, fontSize: 12, width: 88, overflow: 'break', formatter: (p: { name: string; value: number }) => `${p.name}\n${fmt.energy(p.value)}` },
    }],
  };
}

/** A forecast line (P50 per step, W; null: none). */
export interface ForecastLine {
  name: string;
  color: string;
  values: readonly (number | null)[];
}

/**
 * Forecast lines over time in kW, and one P10–P90 band drawn as a shaded area (the lower edge
 * stacked under the band's width, invisible).
 */
export function forecastOption(labels: string[], lines: readonly ForecastLine[], band: { name: string; color: string; p10: readonly (number | null)[]; p90: readonly (number | null)[] } | undefined, fmt: Formatter): EChartsCoreOption {
  const kW = (w: number | null | undefined) => (w === null || w === undefined ? null : w / 1000);
  const bandSeries = band ? [
    { name: band.name, type: 'line', stack: 'band', data: band.p10.map(kW), lineStyle: { opacity: 0 }, symbol: 'none', tooltip: { show: false }, silent: true, legendHoverLink: false },
    {
      name: band.name, type: 'line', stack: 'band', symbol: 'none', lineStyle: { opacity: 0 }, itemStyle: { color: band.color }, areaStyle: { color: band.color, opacity: 0.25 },
      data: band.p90.map((v, k) => (v === null || band.p10[k] === null ? null : (v - band.p10[k]!) / 1000)), tooltip: { show: false }, silent: true,
    },
  ] : [];
  return {
    animation: false,
    tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? fmt.power(v * 1000) : NO_VALUE) },
    legend: { top: 0, itemGap: 12, itemWidth: 16, data: [...lines.map((l) => l.name), ...(band ? [band.name] : [])] },
    grid: baseGrid,
    xAxis: { type: 'category', data: labels, boundaryGap: false },
    yAxis: { type: 'value', name: UNIT.kW, axisLabel: { formatter: (v: number) => fmt.count(v) } },
    series: [
      ...bandSeries,
      ...lines.map((l) => ({ name: l.name, type: 'line', data: l.values.map(kW), symbol: 'none', itemStyle: { color: l.color }, lineStyle: { width: 2 } })),
    ],
  };
}

/** A slot's demand and supply as step curves (price per kWh over cumulative kWh) and the clearing point between them. */
export function depthOption(
  curves: { bids: [number, number][]; offers: [number, number][]; clearing: [number, number] | undefined },
  fmt: Formatter, t: Translate,
): EChartsCoreOption {
  const curve = (name: string, data: [number, number][], color: string) => ({ name, type: 'line', data, symbol: 'none', itemStyle: { color }, lineStyle: { width: 2 } });
  return {
    animation: false,
    tooltip: { trigger: 'item' },
    legend: { top: 0, itemGap: 12, itemWidth: 16 },
    grid: { ...baseGrid, left: 64, bottom: 40 },
    xAxis: { type: 'value', name: UNIT.kWh, nameLocation: 'middle', nameGap: 24, axisLabel: { formatter: (v: number) => fmt.count(v) } },
    yAxis: { type: 'value', scale: true, axisLabel: { formatter: (v: number) => fmt.money(String(v)) } },
    series: [
      curve(t('manageMarket.bids'), curves.bids, COLORS.grid),
      curve(t('manageMarket.offers'), curves.offers, COLORS.ownPv),
      ...(curves.clearing ? [{ name: t('manageMarket.clearingPoint'), type: 'line', data: [curves.clearing], symbol: 'circle', symbolSize: 12, itemStyle: { color: COLORS.community } }] : []),
    ],
  };
}
