// Synthetic card transactions in the shape seed 004 describes: amounts 5-750 EUR, weighted
// statuses, merchants consistent with their category.
import { Rng } from '../../lib/random';
import { CATEGORIES, CITIES, MERCHANTS_BY_CATEGORY, PAYMENT_METHODS, STATUSES, STATUS_WEIGHTS } from './vocabulary';

export interface GeneratorOptions {
  seed: number;
  /** Event times are spread uniformly over [startMs, startMs + windowMs). */
  startMs: number;
  windowMs: number;
}

export interface SyntheticTransaction {
  transaction_id: string;
  event_ts: string;
  user_id: number;
  amount: number;
  merchant: string;
  category: string;
  city: string;
  status: string;
  payment_method: string;
  currency: string;
}

export function syntheticTransaction(index: number, opts: GeneratorOptions): SyntheticTransaction {
  return syntheticTransactionAt(index, opts).event;
}

/** The event and its time in milliseconds (the Kafka timestamp), without parsing the ISO string back. */
export function syntheticTransactionAt(index: number, opts: GeneratorOptions): { event: SyntheticTransaction; eventMs: number } {
  const rng = new Rng(opts.seed, index);
  const category = rng.pick(CATEGORIES);
  // Skewed towards small amounts, as card spending is: 5 + 745 * u^2.
  const u = rng.next();
  const amount = Math.round((5 + 745 * u * u) * 100) / 100;
  const transactionId = rng.uuid();
  const eventMs = opts.startMs + Math.floor(rng.next() * opts.windowMs);
  const event = {
    transaction_id: transactionId,
    event_ts: new Date(eventMs).toISOString(),
    user_id: rng.int(1, 50_000),
    amount,
    merchant: rng.pick(MERCHANTS_BY_CATEGORY[category]),
    category,
    city: rng.pick(CITIES),
    status: rng.weighted(STATUSES, STATUS_WEIGHTS),
    payment_method: rng.pick(PAYMENT_METHODS),
    currency: 'EUR',
  };
  return { event, eventMs };
}
