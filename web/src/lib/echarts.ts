/** Only the parts of ECharts the app draws, so the bundle carries nothing else. */
import * as echarts from 'echarts/core';
import { BarChart, LineChart, SankeyChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

// No AriaComponent: each chart carries its own summary (aria-label) and a table of its figures.
// Lines: the forecasts (P50s and the P10–P90 band).
echarts.use([BarChart, LineChart, SankeyChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export { echarts };
export type { EChartsCoreOption } from 'echarts/core';
