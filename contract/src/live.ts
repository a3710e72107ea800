/** Live readings as server-sent events (server/src/live). */
import { Type, type Static } from 'typebox';
import { errors, IdParams } from './common.js';
import { route } from './route.js';

/** One "reading" event of the stream: the newest value of each quantity a device sent. */
export const LiveReading = Type.Object({
  meteringPointId: Type.String(),
  deviceId: Type.String(),
  ts: Type.String(),
  values: Type.Record(Type.String(), Type.Number()),
});
export type LiveReading = Static<typeof LiveReading>;

export const liveRoutes = {
  liveReadings: route('GET', '/api/v1/communities/:id/live', {
    tags: ['live'],
    summary: 'Live readings as server-sent events (event "reading": {meteringPointId, deviceId, ts, values})',
    params: IdParams,
    produces: ['text/event-stream'],
    response: { 200: Type.String({ description: 'text/event-stream' }), ...errors(401, 404) },
  }),
};
