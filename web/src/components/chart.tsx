import { useEffect, useRef, useState } from 'preact/hooks';
import type { EChartsCoreOption } from '../lib/echarts.js';

type EChartsModule = typeof import('../lib/echarts.js');
let loading: Promise<EChartsModule> | undefined;
/** ECharts is loaded with the first chart, not with the login page. */
const loadECharts = () => (loading ??= import('../lib/echarts.js'));
/** Pages with charts start fetching ECharts while their data loads, not after. */
export const preloadCharts = () => void loadECharts();

/**
 * One ECharts canvas. `summary` is what a screen reader hears (the figures are also in a table
 * next to each chart); `data-chart-state` says "drawn" once the first frame is rendered, and
 * `mark` names a User Timing mark set then (once per page load: bench:web and real monitoring read it).
 */
export function Chart({ option, summary, height = 280, mark }: { option: EChartsCoreOption; summary: string; height?: number; mark?: string }) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<EChartsModule['echarts']['init']> | undefined>(undefined);
  const [state, setState] = useState<'loading' | 'drawn'>('loading');
  const latest = useRef(option);
  latest.current = option;

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | undefined;
    void loadECharts().then(({ echarts }) => {
      if (disposed || !container.current) return;
      const instance = echarts.init(container.current, undefined, { renderer: 'canvas' });
      chart.current = instance;
      instance.on('finished', () => {
        setState('drawn');
        if (mark && performance.getEntriesByName(mark).length === 0) performance.mark(mark);
      });
      instance.setOption(latest.current);
      observer = new ResizeObserver(() => instance.resize());
      observer.observe(container.current);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = undefined;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  return <div ref={container} class="chart" role="img" aria-label={summary} data-chart-state={state} style={{ height: `${height}px` }} />;
}
