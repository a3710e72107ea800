/** live: the public surface other capabilities and the composition root use. */
export { LiveHub } from './hub.js';
export { liveRoutes } from './routes.js';
