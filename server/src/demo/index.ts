/** demo: the public surface other capabilities and the composition root use. */
export { type DemoCommunity, DEMO_CONNECTOR_NAME, ensureDemoCommunity } from './seed.js';
export { startDemoConnectorSource } from './connector-source.js';
export { startDemoSimulation } from './simulation.js';
export { settleDemoMonth } from './settlement.js';
export { startDemoFlex, type DemoFlex, DEMO_AGR_DOMAIN, DEMO_CONGESTION_POINT, DEMO_DSO_DOMAIN } from './flex.js';
export { type DemoMarketDay, type DemoMarketDayPlatform, tradeDemoDay } from './market-day.js';
