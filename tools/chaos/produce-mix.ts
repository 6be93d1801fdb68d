// The events of a chaos run, chosen so that the exact outcome is known in advance: good events
// (generator indices 0..good-1), bad records with a transaction_id of their own and a known reason
// (generator indices good..good+bad-1, then broken: by the schema's rules, by what PostgreSQL cannot
// store, by ambiguity, or by a table constraint only the load meets), and same-payload re-sends of
// good events.
// Everything is a pure function of the seed, so reconcile.ts regenerates the expectation.
import type { Kafka, Message, Producer } from 'kafkajs';
import type pg from 'pg';
import { withKafkaErrors } from '../../lib/kafka';
import { transactionMessage } from '../../streams/transactions/synthetic';
import { Rng } from '../../lib/random';
import type { GeneratorOptions } from '../../streams/transactions/generator';
import { syntheticTransaction } from '../../streams/transactions/generator';

/** The quarantine reason each kind of bad record must get. */
export const BAD_KINDS = [
  'MALFORMED_JSON',
  'MISSING_FIELD',
  'INVALID_VALUE',
  'UNSTORABLE_VALUE',
  'DUPLICATE_FIELD',
  'LOAD_REJECTED',
] as const;
export type BadKind = (typeof BAD_KINDS)[number];

/**
 * The merchant of LOAD_REJECTED records: valid by every rule of the stream, refused by a CHECK
 * constraint the run adds to its flat table (as a database owner might), so only the load can find it.
 */
export const REFUSED_MERCHANT = 'Refused by a table constraint';

/** The constraint LOAD_REJECTED records run into; run once per run's schema, after migrations. */
export async function addRefusingConstraint(pool: pg.Pool): Promise<void> {
  const {
    rows: [ddl],
  } = await pool.query<{ sql: string }>(
    "SELECT format('ALTER TABLE transactions_flat ADD CONSTRAINT chaos_refused_merchant CHECK (merchant <> %L)', $1::text) AS sql",
    [REFUSED_MERCHANT],
  );
  await pool.query(ddl!.sql);
}

// Never transaction_id: a bad record must stay traceable to the id it was produced with.
const DROPPABLE = ['event_ts', 'user_id', 'amount', 'merchant', 'category', 'city', 'status', 'payment_method', 'currency'] as const;

export interface MixPlan {
  events: number;
  good: number;
  bad: number;
  dup: number;
  seed: number;
  gen: GeneratorOptions;
}

const DAY_MS = 86_400_000;

export function planMix(events: number, badShare: number, dupShare: number, seed: number, now = Date.now()): MixPlan {
  const bad = Math.round(events * badShare);
  const dup = Math.round(events * dupShare);
  // Event times in the last day: well inside the schema's plausibility window.
  return { events, good: events - bad - dup, bad, dup, seed, gen: { seed, startMs: now - DAY_MS, windowMs: DAY_MS } };
}

export const badKindOf = (k: number): BadKind => BAD_KINDS[k % BAD_KINDS.length]!;

/** The k-th bad record: a generated event with its own id, broken the way its kind says. */
export function badMessage(plan: MixPlan, k: number): Message {
  const index = plan.good + k;
  const event: Record<string, unknown> = { ...syntheticTransaction(index, plan.gen) };
  const base = transactionMessage(index, plan.gen);
  let value: string;
  switch (badKindOf(k)) {
    case 'MALFORMED_JSON': {
      const text = JSON.stringify(event); // transaction_id comes first, so the cut keeps it
      value = text.slice(0, Math.max(60, Math.floor(text.length / 2)));
      break;
    }
    case 'MISSING_FIELD':
      delete event[DROPPABLE[Math.floor(k / BAD_KINDS.length) % DROPPABLE.length]!];
      value = JSON.stringify(event);
      break;
    case 'INVALID_VALUE':
      value = JSON.stringify({ ...event, amount: -Math.abs(event.amount as number) });
      break;
    case 'UNSTORABLE_VALUE': // valid by the schema, but PostgreSQL text and jsonb cannot hold NUL
      value = JSON.stringify({ ...event, merchant: `${event.merchant as string}\u0000` });
      break;
    case 'DUPLICATE_FIELD': // which amount is meant?
      value = JSON.stringify(event).replace(/}$/, `,"amount":${(event.amount as number) + 1}}`);
      break;
    case 'LOAD_REJECTED':
      value = JSON.stringify({ ...event, merchant: REFUSED_MERCHANT });
      break;
  }
  return { key: base.key, value, timestamp: base.timestamp };
}

type Slot = { kind: 'good'; index: number } | { kind: 'bad'; k: number } | { kind: 'dup'; index: number };

/**
 * The order records are written in: bad records and duplicates spread at seeded positions among the
 * good events (exact counts by sequential sampling), each duplicate re-sending a distinct good event.
 */
export function* slots(plan: MixPlan): Generator<Slot> {
  const rng = new Rng(plan.seed, 0x5eed);
  let good = 0;
  let bad = 0;
  let dup = 0;
  const resent = new Set<number>();
  for (let left = plan.events; left > 0; left--) {
    const u = rng.next() * left;
    if (u < plan.bad - bad) {
      yield { kind: 'bad', k: bad++ };
    } else if (u < plan.bad - bad + plan.dup - dup) {
      // good >= dup (checked by the options), so a not-yet-resent good index always exists.
      let index: number;
      do index = rng.int(0, plan.good - 1);
      while (resent.has(index));
      resent.add(index);
      dup++;
      yield { kind: 'dup', index };
    } else {
      yield { kind: 'good', index: good++ };
    }
  }
}

/**
 * Writes the plan in order through one plain idempotent kafkajs producer (a broker retry never
 * writes a record twice), in batches, as far as it is told: a chaos run holds its last records
 * back while faults are due (run.ts), so the topic holds exactly `plan.events` records only once
 * it is told to write them all. Calls run one after another.
 */
export class MixProducer {
  /** Records written so far, in slot order. */
  written = 0;
  /** Time spent writing. */
  seconds = 0;
  private readonly order: Generator<Slot>;
  private producer?: Producer;
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly brokers: readonly string[],
    private readonly topic: string,
    private readonly plan: MixPlan,
    private readonly signal?: AbortSignal,
    private readonly batchSize = 5_000,
  ) {
    this.order = slots(plan);
  }

  /** True while no write is asked for or under way. */
  get idle(): boolean {
    return this.pending === 0;
  }

  /** Writes records until `records` of the plan are in the topic (at most all of them). */
  upTo(records: number): Promise<void> {
    this.pending++;
    const run = this.queue.then(() => this.write(Math.min(records, this.plan.events)));
    this.queue = run.catch(() => undefined);
    return run.finally(() => this.pending--);
  }

  private async write(records: number): Promise<void> {
    if (this.written >= records) return;
    const began = Date.now();
    if (!this.producer) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await withKafkaErrors(this.brokers, () => producer.connect());
      this.producer = producer;
    }
    const producer = this.producer;
    try {
      let batch: Message[] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        this.signal?.throwIfAborted();
        const messages = batch;
        batch = [];
        await withKafkaErrors(this.brokers, () => producer.send({ topic: this.topic, acks: -1, messages }));
        this.written += messages.length;
      };
      while (this.written + batch.length < records) {
        const slot = this.order.next().value as Slot;
        batch.push(slot.kind === 'bad' ? badMessage(this.plan, slot.k) : transactionMessage(slot.index, this.plan.gen));
        if (batch.length >= this.batchSize) await flush();
      }
      await flush();
    } finally {
      this.seconds += (Date.now() - began) / 1000;
    }
  }

  async close(): Promise<void> {
    await this.queue;
    await this.producer?.disconnect().catch(() => undefined);
  }
}

export interface ExpectedRow {
  id: string;
  kind: 'good' | 'bad';
  reason: BadKind | null;
  amount: number;
  userId: number;
}

/** Every transaction_id the run must end up with: good ones in flat, bad ones in quarantine. */
export function* expectedRows(plan: MixPlan): Generator<ExpectedRow> {
  for (let i = 0; i < plan.good + plan.bad; i++) {
    const e = syntheticTransaction(i, plan.gen);
    const k = i - plan.good;
    yield k < 0
      ? { id: e.transaction_id, kind: 'good', reason: null, amount: e.amount, userId: e.user_id }
      : { id: e.transaction_id, kind: 'bad', reason: badKindOf(k), amount: e.amount, userId: e.user_id };
  }
}
