/** Health and metrics for operators (server/src/ops); outside /api/v1, for probes and scrapers. */
import { Type } from 'typebox';
import { errors } from './common.js';
import { route } from './route.js';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  database: Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('down')]), kind: Type.String() }),
  broker: Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('down')]), mode: Type.String() }),
});

export const opsRoutes = {
  health: route('GET', '/health', {
    tags: ['operations'],
    summary: 'Liveness of the database and the MQTT broker (503 when either is down)',
    security: [],
    response: { 200: Health, 503: Health },
  }),
  metrics: route('GET', '/metrics', {
    tags: ['operations'],
    summary: 'Prometheus metrics (platform admins; scrape with an admin API token)',
    produces: ['text/plain'],
    response: { 200: Type.String(), ...errors(401, 403) },
  }),
};
