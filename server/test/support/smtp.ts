import { once } from 'node:events';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

/** The mail tests send, received by a real SMTP server (the tests' stand-in for the operator's). */
export interface Received { readonly from: string; readonly to: readonly string[]; readonly mail: ParsedMail }

/** A real SMTP server on a loopback port: it refuses mailboxes called nobody@ as unknown users (550). */
export async function smtpServer(options: Partial<SMTPServerOptions> = {}, port = 0) {
  const received: Received[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('nobody@')) callback(Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }));
      else callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream).then((mail) => {
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), mail });
        callback();
      }, callback);
    },
    ...options,
  });
  server.listen(port, '127.0.0.1');
  await once(server.server, 'listening');
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { received, port: address.port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export type SmtpSink = Awaited<ReturnType<typeof smtpServer>>;

/** The first message to `address` the sink receives within `timeoutMs`, taken out of it. */
export async function mailTo(sink: SmtpSink, address: string, timeoutMs = 10_000): Promise<ParsedMail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const index = sink.received.findIndex((r) => r.to.includes(address));
    if (index >= 0) return sink.received.splice(index, 1)[0]!.mail;
    if (Date.now() > deadline) throw new Error(`no mail to ${address} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
