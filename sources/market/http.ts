// The HTTP layer every market adapter goes through (Node's global fetch): a timeout per request, the
// source's rate limit, retries with backoff on what passes (429, 5xx, timeouts, dropped connections),
// none on what will not (other 4xx), and one taxonomy error per outcome with a message that says
// what to check. URLs in messages are base URLs only: query strings may carry API keys.
import { EtlError, isEtlError, type ErrorCode } from '../../lib/errors';
import { backoffDelayMs, DEFAULT_BACKOFF, retryAfterMs, type BackoffOptions } from './backoff';
import { sharedBucket, systemClock, type Clock, type TokenBucket } from './rate-limit';
import { excerpt, type MarketSource } from './types';

export interface SourceHttpOptions {
  source: MarketSource;
  baseUrl: string;
  /** The variables to name when the base URL or the key is what needs fixing. */
  baseUrlVariable: string;
  keyVariable?: string;
  bucket: TokenBucket;
  timeoutMs?: number;
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** A Retry-After longer than this is not waited out: the poll fails as rate limited, the next one tries again. */
  maxRetryAfterMs?: number;
  clock?: Clock;
  random?: () => number;
}

export interface JsonResponse {
  status: number;
  body: unknown;
}

const DNS_OR_ROUTE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);
const DROPPED = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function errorCodeOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

const isTimeout = (err: unknown) => (err as { name?: unknown } | null)?.name === 'TimeoutError';

export interface RequestInit {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** For APIs that report rate limiting in a 200 body: the message if this body is one, so it is retried like a 429. */
  rateLimitMessage?: (body: unknown) => string | undefined;
}

interface Retry {
  error: EtlError;
  waitMs?: number;
}

export class SourceHttp {
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly clock: Clock;

  constructor(private readonly o: SourceHttpOptions) {
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.maxAttempts = o.maxAttempts ?? 4;
    this.clock = o.clock ?? systemClock;
  }

  private fail(code: ErrorCode, message: string, cause?: unknown): EtlError {
    return new EtlError(code, message, { cause });
  }

  private unreachable(err: unknown): EtlError {
    const { source, baseUrl, baseUrlVariable } = this.o;
    const code = errorCodeOf(err);
    if (code && DNS_OR_ROUTE.has(code)) {
      return this.fail(
        'SOURCE_UNREACHABLE',
        `cannot reach ${source} at ${baseUrl} — this machine has no route to it (check network/proxy)`,
        err,
      );
    }
    if (code === 'ECONNREFUSED') {
      return this.fail(
        'SOURCE_UNREACHABLE',
        `cannot reach ${source} at ${baseUrl} — the connection was refused (check ${baseUrlVariable} and network/proxy)`,
        err,
      );
    }
    const why = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    return this.fail(
      'SOURCE_UNREACHABLE',
      `cannot reach ${source} at ${baseUrl} — ${excerpt(String(why), 80)} (check ${baseUrlVariable} and network/proxy)`,
      err,
    );
  }

  /** GET base+path?query as JSON. Returns 2xx and the 4xx an adapter interprets itself (404, 400…). */
  async getJson(path: string, query: Record<string, string>, init: RequestInit = {}): Promise<JsonResponse> {
    const url = new URL(path, this.o.baseUrl.endsWith('/') ? this.o.baseUrl : `${this.o.baseUrl}/`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const headers = { accept: 'application/json', 'user-agent': 'Mozilla/5.0 (compatible; etl-temporal)', ...init.headers };

    for (let attempt = 1; ; attempt++) {
      await this.o.bucket.take(init.signal);
      const outcome = await this.attempt(url, headers, attempt, init);
      if (!('error' in outcome)) return outcome;
      const wait = outcome.waitMs ?? backoffDelayMs(attempt, this.o.backoff ?? DEFAULT_BACKOFF, this.o.random);
      if (attempt >= this.maxAttempts) throw outcome.error;
      if (wait > (this.o.maxRetryAfterMs ?? 60_000)) {
        throw this.fail(
          outcome.error.code,
          `${outcome.error.message}; it asks to wait ${Math.ceil(wait / 1000)} s (Retry-After), longer than a poll waits — the next poll tries again`,
          outcome.error.cause,
        );
      }
      await this.clock.sleep(wait, init.signal);
    }
  }

  private async attempt(
    url: URL,
    headers: Record<string, string>,
    attempt: number,
    { signal, rateLimitMessage }: RequestInit,
  ): Promise<JsonResponse | Retry> {
    const { source, baseUrl, keyVariable } = this.o;
    const tries = `${attempt} attempt${attempt > 1 ? 's' : ''}`;
    try {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const res = await fetch(url, { headers, signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
      const text = await res.text();
      const waitMs = retryAfterMs(res.headers.get('retry-after'), this.clock.now());
      if (res.status === 429) {
        return {
          error: this.fail(
            'SOURCE_RATE_LIMITED',
            `${source} at ${baseUrl} answered 429 Too Many Requests (${tries}); lower its rate in MARKET_REQUESTS_PER_MINUTE or poll less often`,
          ),
          waitMs,
        };
      }
      if (res.status >= 500) {
        return {
          error: this.fail('SOURCE_UNAVAILABLE', `${source} at ${baseUrl} answered HTTP ${res.status} ${excerpt(text, 80)} (${tries})`),
          waitMs,
        };
      }
      if (res.status === 401 || res.status === 403) {
        const fix = keyVariable ? ` — check ${keyVariable}` : '';
        throw this.fail('SOURCE_AUTH_FAILED', `${source} refused the request (HTTP ${res.status}: ${excerpt(text, 80)})${fix}`);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (err) {
        throw this.fail(
          'SOURCE_BAD_RESPONSE',
          `${source} answered HTTP ${res.status} with a body that is not JSON: ${excerpt(text, 60)}`,
          err,
        );
      }
      const limited = rateLimitMessage?.(body);
      if (limited)
        return { error: this.fail('SOURCE_RATE_LIMITED', `${source} at ${baseUrl} says: ${excerpt(limited, 100)} (${tries})`), waitMs };
      return { status: res.status, body };
    } catch (err) {
      if (isEtlError(err) || signal?.aborted) throw err;
      if (isTimeout(err)) {
        return {
          error: this.fail(
            'SOURCE_UNREACHABLE',
            `${source} at ${baseUrl} did not answer within ${this.timeoutMs / 1000} s (${tries}); check network/proxy`,
            err,
          ),
        };
      }
      const code = errorCodeOf(err);
      if (code && DROPPED.has(code)) {
        return {
          error: this.fail(
            'SOURCE_UNREACHABLE',
            `${source} at ${baseUrl} dropped the connection (${code}, ${tries}); check network/proxy`,
            err,
          ),
        };
      }
      // No DNS answer, no route, refused: that does not pass within a poll; the next one (or Temporal's retry) tries again.
      throw this.unreachable(err);
    }
  }
}

/** What every adapter is built from: where the API is, its key, its rate; tests add a fake clock or short timeouts. */
export interface AdapterOptions {
  baseUrl: string;
  apiKey?: string;
  requestsPerMinute: number;
  http?: Partial<Pick<SourceHttpOptions, 'bucket' | 'timeoutMs' | 'maxAttempts' | 'backoff' | 'maxRetryAfterMs' | 'clock' | 'random'>>;
}

export function sourceHttp(source: MarketSource, variables: { baseUrl: string; key?: string }, o: AdapterOptions): SourceHttp {
  return new SourceHttp({
    source,
    baseUrl: o.baseUrl,
    baseUrlVariable: variables.baseUrl,
    keyVariable: variables.key,
    bucket: o.http?.bucket ?? sharedBucket(source, o.baseUrl, o.requestsPerMinute),
    ...o.http,
  });
}
