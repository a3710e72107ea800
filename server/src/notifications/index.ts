/** notifications: the public surface. Capabilities render their emails here and send them with the installation's mailer; the composition root wires phase 2 (events → in-app notifications and queued emails, the sender job, the routes). */
export { type Mailer, type SmtpConfig, createMailer, smtpConfigFromEnv, SmtpSettingError } from './mailer.js';
export { type Recipient, type RenderedEmail, renderEmail } from './domain/render.js';
export { type Contact, type Directory, type InvitationMail, type StatementMail, Notifications } from './service.js';
export { notificationSenderJob, NOTIFICATIONS_SENDER_JOB } from './job.js';
export { notificationRoutes } from './routes.js';
