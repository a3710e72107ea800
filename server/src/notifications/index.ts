/** notifications: the public surface. Capabilities render their emails here and send them with the installation's mailer. */
export { type Mailer, type SmtpConfig, createMailer, smtpConfigFromEnv, SmtpSettingError } from './mailer.js';
export { type Recipient, type RenderedEmail, renderEmail } from './domain/render.js';
