import type { Transaction } from './schema';
import { WEEKDAYS, type AmountBucket } from './vocabulary';

export function amountBucket(amount: number): AmountBucket {
  if (amount < 20) return '<20';
  if (amount < 100) return '20-100';
  if (amount < 250) return '100-250';
  if (amount < 500) return '250-500';
  return '>=500';
}

/** One row of transactions_flat, as it travels in silver objects (snake_case, JSON-safe). */
export interface FlatTransaction {
  transaction_id: string;
  event_ts: string;
  event_date: string;
  event_hour: number;
  event_dayofweek: string;
  user_id: number;
  amount: string;
  amount_bucket: AmountBucket;
  merchant: string;
  category: string;
  city: string;
  status: string;
  payment_method: string;
  currency: string;
}

/** Calendar fields are in UTC: one timezone for every consumer, so daily totals agree everywhere. */
export function enrichTransaction(t: Transaction): FlatTransaction {
  const ts = t.event_ts;
  return {
    transaction_id: t.transaction_id.toLowerCase(),
    event_ts: ts.toISOString(),
    event_date: ts.toISOString().slice(0, 10),
    event_hour: ts.getUTCHours(),
    event_dayofweek: WEEKDAYS[ts.getUTCDay()]!,
    user_id: t.user_id,
    amount: t.amount.toFixed(2),
    amount_bucket: amountBucket(t.amount),
    merchant: t.merchant.trim(),
    category: t.category,
    city: t.city,
    status: t.status,
    payment_method: t.payment_method,
    currency: t.currency,
  };
}
