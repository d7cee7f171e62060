import { EventEmitter } from 'node:events';
import {
  AppError,
  ClockSkewDetailsSchema,
  ErrorBodySchema,
  HEADER,
  MAX_PULL_BYTES,
  MAX_PUSH_EVENTS,
  PROTOCOL_VERSION,
  PullPageSchema,
  PushResponseSchema,
  privateKeyFromB64,
  publicKeyFromB64,
  signRequest,
  verifyBytes,
  type PullPage,
  type PushResponse,
} from '@clubcard/shared';
import type { SyncState } from '../bridge/kiosk-bridge.js';
import type { KioskStore } from '../store/kiosk-store.js';

export type FetchFn = typeof fetch;

export interface SyncClientOptions {
  store: KioskStore;
  backendUrl: string;
  fetch?: FetchFn;
  now?: () => number;
  batchSize?: number;
  /** Pause between successful rounds. */
  intervalMs?: number;
  /** Backoff after failures: base·2^n, capped, with full jitter. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  requestTimeoutMs?: number;
  random?: () => number;
}

export interface SyncClientEvents {
  state: [SyncState];
  /** Residents whose balances changed (pull or settle). */
  balances: [string[]];
}

/** Exponential backoff with full jitter (AWS architecture blog's "full jitter"). */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number,
): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}

/**
 * Pushes the outbox and pulls what the kiosk needs, in the background. The tap path
 * never waits for it. Retries with backoff; corrects for a skewed kiosk clock using the
 * backend's time; refuses pull pages that are unsigned, mis-signed or implausible.
 */
export class SyncClient extends EventEmitter<SyncClientEvents> {
  readonly #o: Required<Omit<SyncClientOptions, 'fetch'>> & { fetch: FetchFn };
  #clockOffsetMs = 0;
  #state: SyncState;
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #inFlight: Promise<void> | null = null;
  #failures = 0;

  constructor(opts: SyncClientOptions) {
    super();
    this.#o = {
      fetch: opts.fetch ?? fetch,
      now: opts.now ?? Date.now,
      batchSize: Math.min(opts.batchSize ?? MAX_PUSH_EVENTS, MAX_PUSH_EVENTS),
      intervalMs: opts.intervalMs ?? 5000,
      backoffBaseMs: opts.backoffBaseMs ?? 1000,
      backoffMaxMs: opts.backoffMaxMs ?? 60_000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 15_000,
      random: opts.random ?? Math.random,
      store: opts.store,
      backendUrl: opts.backendUrl.replace(/\/$/, ''),
    };
    const stats = this.#o.store.stats();
    this.#state = {
      online: false,
      syncing: false,
      lastSuccessAt: null,
      lastAttemptAt: null,
      lastError: null,
      backlog: stats.backlog,
      oldestUnsyncedAt: stats.oldestUnsyncedAt,
      rejected: stats.rejected,
      backendClockOffsetMs: null,
      progress: null,
    };
  }

  state(): SyncState {
    return { ...this.#state };
  }

  #update(patch: Partial<SyncState>): void {
    const stats = this.#o.store.stats();
    this.#state = {
      ...this.#state,
      backlog: stats.backlog,
      oldestUnsyncedAt: stats.oldestUnsyncedAt,
      rejected: stats.rejected,
      ...patch,
    };
    this.emit('state', this.state());
  }

  /** Refreshes backlog figures (after a tap). */
  touch(): void {
    this.#update({});
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#inFlight?.catch(() => undefined);
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      void this.syncOnce()
        .then(() => {
          this.#failures = 0;
          this.#schedule(this.#o.intervalMs);
        })
        .catch(() => {
          this.#failures++;
          this.#schedule(
            backoffDelay(
              this.#failures,
              this.#o.backoffBaseMs,
              this.#o.backoffMaxMs,
              this.#o.random,
            ),
          );
        });
    }, ms);
  }

  /** Runs soon (e.g. staff pressed "sync now"), resetting the backoff. */
  nudge(): void {
    this.#failures = 0;
    this.#schedule(0);
  }

  /** One full round: push everything pending, then pull until the feed is drained. */
  syncOnce(): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    this.#inFlight = this.#round().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  async #round(): Promise<void> {
    const at = this.#o.now();
    this.#update({ syncing: true, lastAttemptAt: at });
    try {
      const changed = new Set<string>();
      await this.#pushAll(changed);
      await this.#pullAll(changed);
      this.#update({
        online: true,
        syncing: false,
        lastSuccessAt: this.#o.now(),
        lastError: null,
        progress: null,
      });
      if (changed.size > 0) this.emit('balances', [...changed]);
    } catch (e) {
      const msg =
        e instanceof AppError
          ? `${e.code}: ${e.message}`
          : e instanceof Error
            ? e.message
            : String(e);
      this.#update({ online: false, syncing: false, lastError: msg, progress: null });
      throw e;
    }
  }

  async #pushAll(changed: Set<string>): Promise<void> {
    const total = this.#o.store.stats().backlog;
    let done = 0;
    for (;;) {
      const batch = this.#o.store.pendingBatch(this.#o.batchSize);
      if (batch.length === 0) return;
      if (total > this.#o.batchSize) this.#update({ progress: { done, total } });
      const body = `{"protocol":${PROTOCOL_VERSION},"kioskId":${JSON.stringify(this.#kioskId())},"events":[${batch
        .map((r) => r.payload)
        .join(',')}]}`;
      const res = await this.#signedFetch('POST', '/api/v1/sync/push', body);
      const answer: PushResponse = PushResponseSchema.parse(JSON.parse(res));
      this.#o.store.settle(answer.results, this.#o.now());
      for (const r of answer.results)
        for (const l of r.lines) changed.add(l.to.replace(/^resident:/, ''));
      done += batch.length;
      if (answer.results.length < batch.length) {
        throw new AppError('bad-pull-page', 'backend answered fewer events than were sent');
      }
    }
  }

  async #pullAll(changed: Set<string>): Promise<void> {
    const startedAt = this.#o.store.beginPull(this.#o.now());
    for (let pages = 0; pages < 100_000; pages++) {
      const cursor = this.#o.store.pullCursor();
      const text = await this.#signedFetch('GET', `/api/v1/sync/pull?cursor=${cursor}`, '');
      let page: PullPage;
      try {
        page = PullPageSchema.parse(JSON.parse(text));
      } catch (e) {
        throw new AppError('bad-pull-page', 'pull page did not match the protocol', { cause: e });
      }
      if (page.kioskId !== this.#kioskId() || page.cursor !== cursor || page.nextCursor < cursor) {
        throw new AppError('bad-pull-page', 'pull page is not the one asked for');
      }
      this.#o.store.applyPullPage(page, startedAt);
      for (const b of page.balances) changed.add(b.residentRef);
      if (!page.hasMore) return;
    }
  }

  #kioskId(): string {
    const id = this.#o.store.identity();
    if (!id) throw new AppError('unknown-kiosk', 'kiosk is not provisioned');
    return id.kioskId;
  }

  /**
   * A signed request; on a clock-skew refusal, adopts the backend's time and re-signs
   * once (a new nonce and signature — never the same bytes again).
   */
  async #signedFetch(method: 'GET' | 'POST', path: string, body: string): Promise<string> {
    const id = this.#o.store.identity();
    if (!id) throw new AppError('unknown-kiosk', 'kiosk is not provisioned');
    const key = privateKeyFromB64(id.privateKey);
    for (let attempt = 0; attempt < 2; attempt++) {
      const headers = signRequest(
        key,
        id.kioskId,
        method,
        path,
        body,
        this.#o.now() + this.#clockOffsetMs,
      );
      let res: Response;
      try {
        res = await this.#o.fetch(`${this.#o.backendUrl}${path}`, {
          method,
          headers: {
            ...headers,
            ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
          },
          ...(method === 'POST' ? { body } : {}),
          signal: AbortSignal.timeout(this.#o.requestTimeoutMs),
        });
      } catch (e) {
        throw new AppError('backend-unreachable', 'backend did not answer', { cause: e });
      }
      const len = Number(res.headers.get('content-length') ?? '0');
      if (len > MAX_PULL_BYTES) throw new AppError('bad-pull-page', 'answer implausibly large');
      const text = await res.text();
      if (text.length > MAX_PULL_BYTES)
        throw new AppError('bad-pull-page', 'answer implausibly large');
      if (res.ok) {
        const sig = res.headers.get(HEADER.signature);
        // Every answer is signed by the backend: a tampered pull page or push answer is refused.
        if (!sig || !verifyBytes(publicKeyFromB64(id.backendPublicKey), text, sig)) {
          throw new AppError('bad-pull-page', 'answer is not signed by the backend');
        }
        this.#update({ backendClockOffsetMs: this.#clockOffsetMs });
        return text;
      }
      let err: AppError;
      try {
        err = AppError.fromBody(ErrorBodySchema.parse(JSON.parse(text)), res.status);
      } catch {
        throw new AppError('backend-unreachable', `backend answered HTTP ${res.status}`);
      }
      if (err.code === 'clock-skew' && attempt === 0) {
        const d = ClockSkewDetailsSchema.safeParse(err.details);
        if (d.success) {
          this.#clockOffsetMs = d.data.serverTime - this.#o.now();
          continue;
        }
      }
      throw err;
    }
    throw new AppError('clock-skew', 'kiosk clock could not be corrected');
  }
}
