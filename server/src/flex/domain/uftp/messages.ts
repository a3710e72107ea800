import { children, element, optional, required, withDefault, type ElementCodec } from './codec.js';
import { UftpTransportError } from './errors.js';
import { activationFactor, boolean, currency, currencyAmount, dateTime, ean, entityAddress, integer, internetDomain, localDate, metered, minutesDuration, oneOf, positiveInteger, specVersion, text, timeZoneName, uuid } from './values.js';
import type { XmlNode } from './xml.js';

/**
 * Every UFTP 3.1 payload message as a typed model, declared once after the official XSDs
 * (UFTP-common, -agr-dso, -agr-cro, -cro-dso, -metering): the declaration is the reader, the
 * writer and (through `Shape`) the TypeScript type. 3.0.0 messages read with the same
 * declarations (3.1 only added optional attributes); which version a message may use is the
 * schema validator's job. Powers are whole W (positive = consumption), amounts exact nano-units
 * of the message's currency, instants UTC milliseconds, Periods local dates in the TimeZone,
 * ISP-Duration minutes, activation factors hundredths (1–100).
 */

export const ROLES = ['AGR', 'CRO', 'DSO'] as const;
export type UftpRole = (typeof ROLES)[number];
export const uftpRole = oneOf(ROLES);

const payload = {
  version: required('Version', specVersion),
  senderDomain: required('SenderDomain', internetDomain),
  recipientDomain: required('RecipientDomain', internetDomain),
  timeStamp: required('TimeStamp', dateTime),
  messageId: required('MessageID', uuid),
  conversationId: required('ConversationID', uuid),
};

const response = {
  ...payload,
  result: required('Result', oneOf(['Accepted', 'Rejected'])),
  rejectionReason: optional('RejectionReason', text),
};

const flexMessage = {
  ...payload,
  ispDurationMinutes: required('ISP-Duration', minutesDuration),
  timeZone: required('TimeZone', timeZoneName),
  period: required('Period', localDate),
  congestionPoint: required('CongestionPoint', entityAddress),
};

/** `Start`/`Duration` of an ISP element: ISP numbers count from 1 at local midnight of the Period. */
const ispRange = {
  start: required('Start', positiveInteger),
  duration: withDefault('Duration', positiveInteger, 1),
};

const powerIsp = element({ power: required('Power', integer), ...ispRange });

const TestMessage = element(payload);
const TestMessageResponse = element(payload);

const DPrognosis = element({
  ...flexMessage,
  revision: required('Revision', integer),
  // The schema types these two as xs:integer rather than positiveInteger; the ISP checks catch < 1.
  isps: children('ISP', element({ power: required('Power', integer), start: required('Start', integer), duration: withDefault('Duration', integer, 1) })),
});
const DPrognosisResponse = element({
  ...response,
  dPrognosisMessageId: required('D-PrognosisMessageID', uuid),
  flexOrderStatuses: children('FlexOrderStatus', element({
    flexOrderMessageId: required('FlexOrderMessageID', uuid),
    isValidated: required('IsValidated', boolean),
  }), 0),
});

const FlexReservationUpdate = element({
  ...flexMessage,
  contractId: required('ContractID', text),
  reference: required('Reference', text),
  isps: children('ISP', powerIsp),
});
const FlexReservationUpdateResponse = element({ ...response, flexReservationUpdateMessageId: required('FlexReservationUpdateMessageID', uuid) });

export const DISPOSITIONS = ['Available', 'Requested'] as const;
const FlexRequest = element({
  ...flexMessage,
  revision: required('Revision', integer),
  expirationDateTime: required('ExpirationDateTime', dateTime),
  contractId: optional('ContractID', text),
  serviceType: optional('ServiceType', text),
  isps: children('ISP', element({
    disposition: optional('Disposition', oneOf(DISPOSITIONS)),
    minPower: required('MinPower', integer),
    maxPower: required('MaxPower', integer),
    ...ispRange,
  })),
});
const FlexRequestResponse = element({ ...response, flexRequestMessageId: required('FlexRequestMessageID', uuid) });

const baselineReferences = {
  contractId: optional('ContractID', text),
  dPrognosisMessageId: optional('D-PrognosisMessageID', uuid),
  baselineReference: optional('BaselineReference', text),
};

const FlexOffer = element({
  ...flexMessage,
  expirationDateTime: required('ExpirationDateTime', dateTime),
  unsolicited: optional('Unsolicited', boolean),
  flexRequestMessageId: optional('FlexRequestMessageID', uuid),
  ...baselineReferences,
  currency: required('Currency', currency),
  offerOptions: children('OfferOption', element({
    optionReference: required('OptionReference', text),
    price: required('Price', currencyAmount),
    minActivationFactor: withDefault('MinActivationFactor', activationFactor, 100),
    isps: children('ISP', powerIsp),
  })),
});
const FlexOfferResponse = element({ ...response, flexOfferMessageId: required('FlexOfferMessageID', uuid) });
const FlexOfferRevocation = element({ ...payload, flexOfferMessageId: required('FlexOfferMessageID', uuid) });
const FlexOfferRevocationResponse = element({ ...response, flexOfferRevocationMessageId: required('FlexOfferRevocationMessageID', uuid) });

const FlexOrder = element({
  ...flexMessage,
  unsolicited: optional('Unsolicited', boolean),
  flexOfferMessageId: optional('FlexOfferMessageID', uuid),
  serviceType: optional('ServiceType', text),
  ...baselineReferences,
  price: required('Price', currencyAmount),
  currency: required('Currency', currency),
  orderReference: required('OrderReference', text),
  optionReference: optional('OptionReference', text),
  activationFactor: withDefault('ActivationFactor', activationFactor, 100),
  isps: children('ISP', powerIsp),
});
const FlexOrderResponse = element({ ...response, flexOrderMessageId: required('FlexOrderMessageID', uuid) });

const flexOrderSettlement = element({
  orderReference: optional('OrderReference', text),
  period: required('Period', localDate),
  ...baselineReferences,
  congestionPoint: required('CongestionPoint', entityAddress),
  price: required('Price', currencyAmount),
  penalty: withDefault('Penalty', currencyAmount, 0n),
  netSettlement: required('NetSettlement', currencyAmount),
  isps: children('ISP', element({
    ...ispRange,
    baselinePower: required('BaselinePower', integer),
    orderedFlexPower: required('OrderedFlexPower', integer),
    actualPower: required('ActualPower', integer),
    deliveredFlexPower: required('DeliveredFlexPower', integer),
    powerDeficiency: withDefault('PowerDeficiency', integer, 0),
  })),
});
const contractSettlement = element({
  contractId: optional('ContractID', text),
  periods: children('Period', element({
    period: required('Period', localDate),
    isps: children('ISP', element({
      ...ispRange,
      reservedPower: required('ReservedPower', integer),
      requestedPower: optional('RequestedPower', integer),
      availablePower: optional('AvailablePower', integer),
      offeredPower: optional('OfferedPower', integer),
      orderedPower: optional('OrderedPower', integer),
    })),
  })),
});
// The schema derives FlexSettlement from the response type (so it carries Result) and requires at
// least one FlexOrderSettlement and one ContractSettlement; the model follows the schema.
const FlexSettlement = element({
  ...response,
  periodStart: required('PeriodStart', localDate),
  periodEnd: required('PeriodEnd', localDate),
  currency: required('Currency', currency),
  flexOrderSettlements: children('FlexOrderSettlement', flexOrderSettlement),
  contractSettlements: children('ContractSettlement', contractSettlement),
});
const FlexSettlementResponse = element({
  ...response,
  flexSettlementMessageId: required('FlexSettlementMessageID', uuid),
  flexOrderSettlementStatuses: children('FlexOrderSettlementStatus', element({
    orderReference: optional('OrderReference', text),
    disposition: required('Disposition', oneOf(['Accepted', 'Disputed'])),
    disputeReason: optional('DisputeReason', text),
  })),
});

const Metering = element({
  ...payload,
  revision: required('Revision', integer),
  ispDurationMinutes: required('ISP-Duration', minutesDuration),
  timeZone: required('TimeZone', timeZoneName),
  currency: optional('Currency', currency),
  period: required('Period', localDate),
  ean: required('EAN', ean),
  profiles: children('Profile', element({
    profileType: required('ProfileType', oneOf(['Power', 'ImportEnergy', 'ExportEnergy', 'ImportMeterReading', 'ExportMeterReading'])),
    unit: required('Unit', oneOf(['kW', 'kWh'])),
    isps: children('ISP', element({ start: required('Start', integer), value: required('Value', metered) })),
  })),
});
const MeteringResponse = element({ ...response, meteringMessageId: required('MeteringMessageID', uuid) });

const connection = element({ entityAddress: required('EntityAddress', entityAddress) });
const redispatch = {
  mutexOffersSupported: required('MutexOffersSupported', boolean),
  dayAheadRedispatchBy: required('DayAheadRedispatchBy', oneOf(['AGR', 'DSO'])),
  intradayRedispatchBy: optional('IntradayRedispatchBy', oneOf(['AGR', 'DSO'])),
};

const AGRPortfolioUpdate = element({
  ...payload,
  timeZone: required('TimeZone', timeZoneName),
  connections: children('Connection', element({
    entityAddress: required('EntityAddress', entityAddress),
    startPeriod: required('StartPeriod', localDate),
    endPeriod: optional('EndPeriod', localDate),
  })),
});
const AGRPortfolioUpdateResponse = element({ ...response, agrPortfolioUpdateMessageId: required('AGRPortfolioUpdateMessageID', uuid) });
const AGRPortfolioQuery = element({ ...payload, timeZone: required('TimeZone', timeZoneName), period: required('Period', localDate) });
const AGRPortfolioQueryResponse = element({
  ...response,
  timeZone: required('TimeZone', timeZoneName),
  agrPortfolioQueryMessageId: required('AGRPortfolioQueryMessageID', uuid),
  period: required('Period', localDate),
  dsoViews: children('DSO-View', element({
    dsoPortfolios: children('DSO-Portfolio', element({
      dsoDomain: required('DSO-Domain', internetDomain),
      congestionPoints: children('CongestionPoint', element({
        entityAddress: required('EntityAddress', entityAddress),
        ...redispatch,
        connections: children('Connection', connection),
      })),
    })),
    /** Connections the AGR registered that no DSO has placed at a congestion point. */
    connections: children('Connection', connection, 0),
  })),
});

const DSOPortfolioUpdate = element({
  ...payload,
  timeZone: required('TimeZone', timeZoneName),
  congestionPoints: children('CongestionPoint', element({
    entityAddress: required('EntityAddress', entityAddress),
    startPeriod: required('StartPeriod', localDate),
    endPeriod: optional('EndPeriod', localDate),
    ...redispatch,
    connections: children('Connection', element({
      entityAddress: required('EntityAddress', entityAddress),
      startPeriod: required('StartPeriod', localDate),
      endPeriod: optional('EndPeriod', localDate),
    })),
  })),
});
// Sic: the schema names the reference DSOPortfolioUpdateResponseMessageID.
const DSOPortfolioUpdateResponse = element({ ...response, dsoPortfolioUpdateMessageId: required('DSOPortfolioUpdateResponseMessageID', uuid) });
const DSOPortfolioQuery = element({
  ...payload,
  timeZone: required('TimeZone', timeZoneName),
  period: required('Period', localDate),
  entityAddress: required('EntityAddress', entityAddress),
});
const DSOPortfolioQueryResponse = element({
  ...response,
  dsoPortfolioQueryMessageId: required('DSOPortfolioQueryMessageID', uuid),
  timeZone: required('TimeZone', timeZoneName),
  period: required('Period', localDate),
  congestionPoints: children('CongestionPoint', element({
    entityAddress: required('EntityAddress', entityAddress),
    connections: children('Connection', element({
      entityAddress: required('EntityAddress', entityAddress),
      agrDomain: optional('AGR-Domain', internetDomain),
    })),
  }), 0, 1),
});

/** The message codecs by root element name (the registry every reader and writer goes through). */
const CODECS = {
  TestMessage, TestMessageResponse,
  'D-Prognosis': DPrognosis, 'D-PrognosisResponse': DPrognosisResponse,
  FlexReservationUpdate, FlexReservationUpdateResponse,
  FlexRequest, FlexRequestResponse,
  FlexOffer, FlexOfferResponse, FlexOfferRevocation, FlexOfferRevocationResponse,
  FlexOrder, FlexOrderResponse,
  FlexSettlement, FlexSettlementResponse,
  Metering, MeteringResponse,
  AGRPortfolioUpdate, AGRPortfolioUpdateResponse, AGRPortfolioQuery, AGRPortfolioQueryResponse,
  DSOPortfolioUpdate, DSOPortfolioUpdateResponse, DSOPortfolioQuery, DSOPortfolioQueryResponse,
} as const;

type Codecs = typeof CODECS;
export type MessageType = keyof Codecs;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ValueOfCodec<C> = C extends ElementCodec<infer V> ? V : never;
export type MessageOf<T extends MessageType> = Simplify<{ readonly type: T } & ValueOfCodec<Codecs[T]>>;
export type UftpMessage = { [T in MessageType]: MessageOf<T> }[MessageType];

export type TestMessage = MessageOf<'TestMessage'>;
export type TestMessageResponse = MessageOf<'TestMessageResponse'>;
export type DPrognosis = MessageOf<'D-Prognosis'>;
export type DPrognosisResponse = MessageOf<'D-PrognosisResponse'>;
export type FlexReservationUpdate = MessageOf<'FlexReservationUpdate'>;
export type FlexReservationUpdateResponse = MessageOf<'FlexReservationUpdateResponse'>;
export type FlexRequest = MessageOf<'FlexRequest'>;
export type FlexRequestResponse = MessageOf<'FlexRequestResponse'>;
export type FlexOffer = MessageOf<'FlexOffer'>;
export type FlexOfferOption = FlexOffer['offerOptions'][number];
export type FlexOfferResponse = MessageOf<'FlexOfferResponse'>;
export type FlexOfferRevocation = MessageOf<'FlexOfferRevocation'>;
export type FlexOfferRevocationResponse = MessageOf<'FlexOfferRevocationResponse'>;
export type FlexOrder = MessageOf<'FlexOrder'>;
export type FlexOrderResponse = MessageOf<'FlexOrderResponse'>;
export type FlexSettlement = MessageOf<'FlexSettlement'>;
export type FlexOrderSettlement = FlexSettlement['flexOrderSettlements'][number];
export type FlexOrderSettlementIsp = FlexOrderSettlement['isps'][number];
export type FlexSettlementResponse = MessageOf<'FlexSettlementResponse'>;
export type FlexOrderSettlementStatus = FlexSettlementResponse['flexOrderSettlementStatuses'][number];
export type Metering = MessageOf<'Metering'>;
export type MeteringResponse = MessageOf<'MeteringResponse'>;
export type AGRPortfolioUpdate = MessageOf<'AGRPortfolioUpdate'>;
export type AGRPortfolioUpdateResponse = MessageOf<'AGRPortfolioUpdateResponse'>;
export type AGRPortfolioQuery = MessageOf<'AGRPortfolioQuery'>;
export type AGRPortfolioQueryResponse = MessageOf<'AGRPortfolioQueryResponse'>;
export type DSOPortfolioUpdate = MessageOf<'DSOPortfolioUpdate'>;
export type DSOPortfolioUpdateResponse = MessageOf<'DSOPortfolioUpdateResponse'>;
export type DSOPortfolioQuery = MessageOf<'DSOPortfolioQuery'>;
export type DSOPortfolioQueryResponse = MessageOf<'DSOPortfolioQueryResponse'>;

/** Messages that carry a Period of ISPs (the "Flex*" family and D-Prognosis). */
export type FlexPeriodMessage = DPrognosis | FlexReservationUpdate | FlexRequest | FlexOffer | FlexOrder;
export type ResponseMessage = Extract<UftpMessage, { readonly result: 'Accepted' | 'Rejected' }>;
/** An ISP element: a range of ISP numbers [start, start + duration). */
export interface IspRange {
  readonly start: number;
  readonly duration: number;
}

export const MESSAGE_TYPES = Object.keys(CODECS) as MessageType[];

export function isMessageType(name: string): name is MessageType {
  return Object.hasOwn(CODECS, name);
}

/** The typed message of a UFTP payload tree; `invalid_message` when it is not one. */
export function decodeMessage(root: XmlNode): UftpMessage {
  if (!isMessageType(root.name)) throw new UftpTransportError('invalid_message', `<${root.name}> is not a UFTP payload message`);
  const codec = CODECS[root.name] as ElementCodec<object>;
  return { type: root.name, ...codec.read(root, `/${root.name}`) } as UftpMessage;
}

export function encodeMessage(message: UftpMessage): XmlNode {
  const codec = CODECS[message.type] as ElementCodec<UftpMessage>;
  return codec.write(message.type, message);
}

interface Direction {
  readonly from: UftpRole | 'any';
  readonly to: UftpRole | 'any';
}

/** Who sends each message to whom (the use cases of the specification). */
export const DIRECTIONS: Readonly<Record<MessageType, Direction>> = {
  TestMessage: { from: 'any', to: 'any' },
  TestMessageResponse: { from: 'any', to: 'any' },
  'D-Prognosis': { from: 'AGR', to: 'DSO' },
  'D-PrognosisResponse': { from: 'DSO', to: 'AGR' },
  FlexReservationUpdate: { from: 'DSO', to: 'AGR' },
  FlexReservationUpdateResponse: { from: 'AGR', to: 'DSO' },
  FlexRequest: { from: 'DSO', to: 'AGR' },
  FlexRequestResponse: { from: 'AGR', to: 'DSO' },
  FlexOffer: { from: 'AGR', to: 'DSO' },
  FlexOfferResponse: { from: 'DSO', to: 'AGR' },
  FlexOfferRevocation: { from: 'AGR', to: 'DSO' },
  FlexOfferRevocationResponse: { from: 'DSO', to: 'AGR' },
  FlexOrder: { from: 'DSO', to: 'AGR' },
  FlexOrderResponse: { from: 'AGR', to: 'DSO' },
  FlexSettlement: { from: 'DSO', to: 'AGR' },
  FlexSettlementResponse: { from: 'AGR', to: 'DSO' },
  Metering: { from: 'AGR', to: 'DSO' },
  MeteringResponse: { from: 'DSO', to: 'AGR' },
  AGRPortfolioUpdate: { from: 'AGR', to: 'CRO' },
  AGRPortfolioUpdateResponse: { from: 'CRO', to: 'AGR' },
  AGRPortfolioQuery: { from: 'AGR', to: 'CRO' },
  AGRPortfolioQueryResponse: { from: 'CRO', to: 'AGR' },
  DSOPortfolioUpdate: { from: 'DSO', to: 'CRO' },
  DSOPortfolioUpdateResponse: { from: 'CRO', to: 'DSO' },
  DSOPortfolioQuery: { from: 'DSO', to: 'CRO' },
  DSOPortfolioQueryResponse: { from: 'CRO', to: 'DSO' },
};

/** Whether a participant in `role` may send this type (TestMessages go between any roles). */
export function maySend(type: MessageType, role: UftpRole): boolean {
  const { from } = DIRECTIONS[type];
  return from === 'any' || from === role;
}

export function mayReceive(type: MessageType, role: UftpRole): boolean {
  const { to } = DIRECTIONS[type];
  return to === 'any' || to === role;
}
