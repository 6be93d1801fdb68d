import { defineStream } from '../public';
import { eventTimeIssue } from '../time';
import { enrichTransaction } from '../transactions/enrich';
import { MAX_EVENT_SKEW_MS, transactionSchema } from '../transactions/schema';
import { transactionsSynthetic } from '../transactions/synthetic';
import { AMOUNT_BUCKETS, CATEGORIES, CITIES, CURRENCIES, PAYMENT_METHODS, STATUSES } from '../transactions/vocabulary';

export default defineStream({
  name: 'transactions',
  schema: transactionSchema(),
  enrich: (t) => ({ ...enrichTransaction(t) }),
  checkReferenceTime: (t, { referenceTimeMs }) => eventTimeIssue('event_ts', t.event_ts.getTime(), referenceTimeMs, MAX_EVENT_SKEW_MS),
  rawTable: 'raw_transactions',
  flatTable: 'transactions_flat',
  key: { name: 'transaction_id', type: 'uuid' },
  eventTimeColumn: 'event_ts',
  columns: [
    { name: 'event_ts', type: 'timestamptz', notNull: true },
    { name: 'event_date', type: 'date' },
    { name: 'event_hour', type: 'smallint' },
    { name: 'event_dayofweek', type: 'text' },
    { name: 'user_id', type: 'bigint', notNull: true },
    { name: 'amount', type: 'numeric(12,2)', notNull: true },
    { name: 'amount_bucket', type: 'text', acceptedValues: AMOUNT_BUCKETS },
    { name: 'merchant', type: 'text' },
    { name: 'category', type: 'text', notNull: true, acceptedValues: CATEGORIES },
    { name: 'city', type: 'text', acceptedValues: CITIES },
    { name: 'status', type: 'text', notNull: true, acceptedValues: STATUSES },
    { name: 'payment_method', type: 'text', acceptedValues: PAYMENT_METHODS },
    { name: 'currency', type: 'text', notNull: true, acceptedValues: CURRENCIES },
  ],
  materializedViews: ['daily_summary'],
  synthetic: transactionsSynthetic,
  // Money as scaled_float with factor 100: amount is numeric(12,2), so amount x 100 is a whole number
  // of cents far below 2^53 and the index holds it exactly (sums and ranges in cents); _source keeps
  // the decimal text. Fixed vocabularies are keywords (filters, top terms); the merchant is text too.
  search: {
    topTerms: 'category',
    fields: {
      transaction_id: 'keyword',
      event_ts: 'date',
      event_date: 'date',
      event_hour: 'short',
      event_dayofweek: 'keyword',
      user_id: 'long',
      amount: { type: 'scaled_float', scalingFactor: 100 },
      amount_bucket: 'keyword',
      merchant: 'text',
      category: 'keyword',
      city: 'keyword',
      status: 'keyword',
      payment_method: 'keyword',
      currency: 'keyword',
    },
  },
});
