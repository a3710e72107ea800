/** Only the parts of ECharts the app draws, so the bundle carries nothing else. */
import * as echarts from 'echarts/core';
import { BarChart, SankeyChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

// No AriaComponent: each chart carries its own summary (aria-label) and a table of its figures.
echarts.use([BarChart, SankeyChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export { echarts };
export type { EChartsCoreOption } from 'echarts/core';
