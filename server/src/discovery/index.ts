/** discovery: the public surface other capabilities and the composition root use. */
export { discoveryRoutes } from './routes.js';
