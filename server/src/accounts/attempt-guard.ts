import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../kernel/errors.js';

export interface RateLimit {
  max: number;
  windowMs: number;
}

export class TooManyFailedAttempts extends TooManyRequestsError {
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed attempts; try again in ${retryAfterSeconds} s`);
  }
}

export class TooManyRequests extends TooManyRequestsError {
  constructor(readonly retryAfterSeconds: number) {
    super(`too many requests; try again in ${retryAfterSeconds} s`);
  }
}

type Refusal = (retryAfterSeconds: number) => TooManyRequestsError;
const failed: Refusal = (seconds) => new TooManyFailedAttempts(seconds);
const tooMany: Refusal = (seconds) => new TooManyRequests(seconds);

export interface AttemptLimits {
  /** Failed attempts on one account from one address per window. */
  perAccountAndAddress: RateLimit;
  /** Failed attempts from one address, whatever the account, per window. */
  perAddress: RateLimit;
}

const limiter = ({ max, windowMs }: RateLimit) => new RateLimiterMemory({ points: max, duration: windowMs / 1000 });

/**
 * Slows password guessing (log-in, password change) with rate-limiter-flexible's counters, kept
 * in this process. Failed attempts count per (account, address) and per address across accounts,
 * never per account alone: someone else's failures from another address never lock the owner out,
 * and one address cannot try one password on many accounts. A success clears its (account,
 * address) count and does not count against the address.
 */
export class FailedAttemptGuard {
  private readonly perPair: RateLimiterMemory;
  private readonly perAddress: RateLimiterMemory;

  constructor(limits: AttemptLimits) {
    this.perPair = limiter(limits.perAccountAndAddress);
    this.perAddress = limiter(limits.perAddress);
  }

  /**
   * Runs `attempt` if both limits have room; if it throws, that is a failed attempt. The places
   * are taken before the attempt runs, so parallel guesses cannot overshoot a limit.
   */
  async attempt<T>(account: string, address: string, attempt: () => Promise<T>): Promise<T> {
    const pair = `${address}|${account}`;
    await take(this.perPair, pair, failed);
    try {
      await take(this.perAddress, address, failed);
    } catch (error) {
      await this.perPair.reward(pair);
      throw error;
    }
    const result = await attempt();
    await this.perPair.delete(pair);
    // Only give back a place still held (the window may have ended meanwhile).
    if (((await this.perAddress.get(address))?.consumedPoints ?? 0) > 0) await this.perAddress.reward(address);
    return result;
  }
}

/**
 * Limits requests that cost someone else something (a password reset sends an email): every
 * request counts, failed or not, per key (an email address) and per client address.
 */
export class RequestLimit {
  private readonly perKey: RateLimiterMemory;
  private readonly perAddress: RateLimiterMemory;

  constructor(limits: { perKey: RateLimit; perAddress: RateLimit }) {
    this.perKey = limiter(limits.perKey);
    this.perAddress = limiter(limits.perAddress);
  }

  /** Takes a place under both limits, or refuses (429) without taking any. */
  async take(key: string, address: string): Promise<void> {
    await take(this.perKey, key, tooMany);
    try {
      await take(this.perAddress, address, tooMany);
    } catch (error) {
      await this.perKey.reward(key);
      throw error;
    }
  }
}

async function take(counter: RateLimiterMemory, key: string, refusal: Refusal): Promise<void> {
  try {
    await counter.consume(key);
  } catch (refused) {
    if (refused instanceof RateLimiterRes) throw refusal(Math.max(1, Math.ceil(refused.msBeforeNext / 1000)));
    throw refused;
  }
}
