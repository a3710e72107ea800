/** web: the public surface other capabilities and the composition root use. */
export { webRoutes } from './routes.js';
