/** The HTTP auth hook for external brokers that ask over HTTP (EMQX) who may connect and use which topic (server/src/broker-security). */
import { Type, type Static } from 'typebox';
import { errors } from './common.js';
import { route } from './route.js';

const Field = (description: string) => Type.String({ maxLength: 1024, description });

export const BrokerVerdict = Type.Object({ result: Type.Enum(['allow', 'deny']) });
export type BrokerVerdict = Static<typeof BrokerVerdict>;

export const brokerSecurityRoutes = {
  brokerAuthenticate: route('POST', '/api/v1/broker/authenticate', {
    tags: ['broker'],
    summary: 'Broker auth hook: may this device connect? (EMQX HTTP authentication; the answer only says allow or deny)',
    description: 'The device\'s client id is its id; its user name its id (or `<id>:secondary` for its secondary key); its password a SAS token or the broker password of its config.json.',
    security: [],
    body: Type.Object({ clientid: Field('MQTT client id'), username: Field('MQTT user name'), password: Field('MQTT password') }, { additionalProperties: true }),
    response: { 200: BrokerVerdict, ...errors(400) },
  }),
  brokerAuthorize: route('POST', '/api/v1/broker/authorize', {
    tags: ['broker'],
    summary: 'Broker auth hook: may this device publish or subscribe to this topic? (EMQX HTTP authorisation)',
    security: [],
    body: Type.Object({
      clientid: Field('MQTT client id'), username: Field('MQTT user name'), topic: Field('the topic'), action: Type.Enum(['publish', 'subscribe']),
    }, { additionalProperties: true }),
    response: { 200: BrokerVerdict, ...errors(400) },
  }),
};
