/**
 * Token-bucket rate limits: each key (an authenticated actor, or a client address for anonymous
 * requests, failed authentications and logins) has a bucket of `burst` tokens refilled at `perSecond`.
 * A request takes one token or is refused with 429 RATE_LIMITED and a Retry-After. Buckets live in
 * memory; a full bucket is the same as no bucket, so idle keys are dropped when the map grows.
 */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes a token for `key`; returns 0 when allowed, else the seconds until one is available. */
  take(key: string, cost = 1): number {
    const t = this.now();
    const b = this.refilled(key, t);
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return 0;
    }
    return Math.max(1, Math.ceil((cost - b.tokens) / this.limit.perSecond));
  }

  /** Seconds until `key` has a token, without taking one (0 when it has). */
  peek(key: string): number {
    const b = this.refilled(key, this.now());
    return b.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - b.tokens) / this.limit.perSecond));
  }

  private refilled(key: string, t: number): { tokens: number; at: number } {
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.maxKeys) this.prune(t);
      b = { tokens: this.limit.burst, at: t };
      this.#buckets.set(key, b);
      return b;
    }
    b.tokens = Math.min(this.limit.burst, b.tokens + ((t - b.at) / 1000) * this.limit.perSecond);
    b.at = t;
    return b;
  }

  private prune(t: number): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.limit.perSecond >= this.limit.burst) this.#buckets.delete(k);
    }
    if (this.#buckets.size >= this.maxKeys) this.#buckets.clear();
  }
}
