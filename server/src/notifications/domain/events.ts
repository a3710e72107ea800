/**
 * What Gridshare tells people, and what each message needs to know. One entry per event, looked
 * up by name: the audience (who may receive it), whether a person can switch it off (security
 * messages cannot), and the message keys of its email (notifications/domain/messages/*.json).
 */
export interface EventParams {
  'invitation': { readonly communityName: string; readonly inviterName: string; readonly link: string };
  'join-approved': { readonly communityName: string; readonly link: string };
  'join-rejected': { readonly communityName: string; readonly reason?: string };
  'statement-ready': {
    readonly communityName: string;
    /** `YYYY-MM`. */
    readonly period: string;
    readonly invoiceNumber: string;
    /** The gross total as an exact decimal, positive when owed by the member. */
    readonly total: string;
    readonly currency: string;
    /** `YYYY-MM-DD`. */
    readonly dueDate: string;
    readonly link: string;
    /** Attached when given (the sender fetches it when the email goes out; the log never keeps it). */
    readonly pdf?: { readonly filename: string; readonly content: Uint8Array };
  };
  'payment-due': { readonly communityName: string; readonly invoiceNumber: string; readonly total: string; readonly currency: string; readonly dueDate: string; readonly link: string };
  'payment-failed': { readonly communityName: string; readonly invoiceNumber: string; readonly total: string; readonly currency: string; readonly reasonCode: string; readonly link: string };
  'device-offline': { readonly communityName: string; readonly deviceName: string; readonly sinceMs: number; readonly thresholdMinutes: number; readonly link: string };
  'quarantined-quarter-hour': { readonly communityName: string; readonly meteringPoint: string; readonly quarterHourStartMs: number; readonly reason: string; readonly link: string };
  'wallet-low-balance': { readonly communityName: string; readonly balance: string; readonly threshold: string; readonly currency: string; readonly link: string };
  'password-reset': { readonly link: string; readonly expiresAtMs: number };
  'email-verification': { readonly link: string; readonly expiresAtMs: number };
}

export type NotificationEvent = keyof EventParams;

export interface EventDefinition {
  readonly audience: 'member' | 'manager' | 'anyone';
  /** Security messages go out whatever the person's preferences say. */
  readonly optional: boolean;
  /**
   * Emailed to an account whose address is not confirmed yet: only what confirms or recovers the
   * address, and an invitation (a manager wrote to that address; it is the address's, not the account's).
   * Everything else waits for the confirmation: someone may have signed up with another person's address.
   */
  readonly toUnconfirmed?: true;
}

export const EVENTS: Readonly<Record<NotificationEvent, EventDefinition>> = {
  'invitation': { audience: 'anyone', optional: false, toUnconfirmed: true },
  'join-approved': { audience: 'member', optional: false },
  'join-rejected': { audience: 'anyone', optional: false },
  'statement-ready': { audience: 'member', optional: true },
  'payment-due': { audience: 'member', optional: true },
  'payment-failed': { audience: 'member', optional: false },
  'device-offline': { audience: 'member', optional: true },
  'quarantined-quarter-hour': { audience: 'manager', optional: true },
  'wallet-low-balance': { audience: 'member', optional: true },
  'password-reset': { audience: 'anyone', optional: false, toUnconfirmed: true },
  'email-verification': { audience: 'anyone', optional: false, toUnconfirmed: true },
};

export const NOTIFICATION_EVENTS = Object.keys(EVENTS) as NotificationEvent[];

export type Channel = 'email' | 'in-app';

/** What a person chose to receive; an event they never chose about is on. */
export type Preferences = Readonly<Partial<Record<NotificationEvent, Readonly<Partial<Record<Channel, boolean>>>>>>;

/** Whether the event is emailed to an address in this state (the in-app notification appears either way). */
export const emailsTo = (event: NotificationEvent, address: { readonly confirmed: boolean }): boolean => address.confirmed || EVENTS[event].toUnconfirmed === true;

export function wants(preferences: Preferences, event: NotificationEvent, channel: Channel): boolean {
  if (!EVENTS[event].optional) return true;
  return preferences[event]?.[channel] ?? true;
}
