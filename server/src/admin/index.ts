/** admin: the platform admins' console — its routes and the installation's health read model. */
export { adminRoutes } from './routes.js';
export { InstallationView } from './installation.js';
