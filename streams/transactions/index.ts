import type { z } from 'zod';
import type { QuarantineCode, StreamSpec, ValidationResult } from '../types';
import { enrichTransaction } from './enrich';
import { transactionSchema } from './schema';
import { AMOUNT_BUCKETS, CATEGORIES, CITIES, CURRENCIES, PAYMENT_METHODS, STATUSES } from './vocabulary';

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), value);
}

function codeFor(issue: z.core.$ZodIssue, value: unknown): QuarantineCode {
  if (issue.path.length > 0 && valueAt(value, issue.path) === undefined) return 'MISSING_FIELD';
  if (issue.code === 'invalid_type') return 'WRONG_TYPE';
  if (issue.code === 'invalid_value') return 'UNKNOWN_VALUE';
  if (issue.code === 'invalid_union') return 'WRONG_TYPE';
  return 'INVALID_VALUE';
}

const schema = transactionSchema();

export function validateTransaction(value: unknown): ValidationResult {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, row: { ...enrichTransaction(parsed.data) } };
  const issues = parsed.error.issues;
  return {
    ok: false,
    code: codeFor(issues[0]!, value),
    reason: issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
  };
}

// jsonb equality ignores key order and whitespace: "the same payload" means the same JSON value.
const FIND_CONFLICTS = `
INSERT INTO conflicts (row_id, reason)
SELECT k.row_id,
       CASE WHEN r.transaction_id IS NOT NULL
            THEN 'transaction_id already loaded with a different payload (from ' || r.kafka_topic || '[' || r.kafka_partition || ']@' || r.kafka_offset || ')'
            ELSE 'transaction_id appears earlier in the same batch with a different payload (offset ' || f.kafka_offset || ')' END
FROM (SELECT ctid AS row_id, (doc->>'transaction_id')::uuid AS id, doc->'payload' AS payload FROM staging) k
JOIN (SELECT DISTINCT ON ((doc->>'transaction_id')::uuid) (doc->>'transaction_id')::uuid AS id, doc->'payload' AS payload, doc->>'kafka_offset' AS kafka_offset
      FROM staging ORDER BY (doc->>'transaction_id')::uuid, (doc->>'kafka_offset')::bigint) f ON f.id = k.id
LEFT JOIN raw_transactions r ON r.transaction_id = k.id
WHERE k.payload <> coalesce(r.payload, f.payload)`;

// DISTINCT ON keeps the earliest offset when one object holds the same id twice.
const INSERT_FROM_STAGING = `
WITH s AS (
  SELECT DISTINCT ON ((doc->>'transaction_id')::uuid) doc, (doc->>'transaction_id')::uuid AS transaction_id
  FROM staging
  ORDER BY (doc->>'transaction_id')::uuid, (doc->>'kafka_offset')::bigint
), raw AS (
  INSERT INTO raw_transactions (transaction_id, event_ts, payload, load_id, bronze_object_id, kafka_topic, kafka_partition, kafka_offset)
  SELECT transaction_id, (doc->>'event_ts')::timestamptz, doc->'payload', $1, coalesce((doc->>'bronze_object_id')::bigint, $2),
         doc->>'kafka_topic', (doc->>'kafka_partition')::int, (doc->>'kafka_offset')::bigint
  FROM s
  ON CONFLICT (transaction_id) DO NOTHING
  RETURNING transaction_id
)
INSERT INTO transactions_flat (transaction_id, event_ts, event_date, event_hour, event_dayofweek, user_id, amount,
  amount_bucket, merchant, category, city, status, payment_method, currency, load_id, bronze_object_id,
  kafka_topic, kafka_partition, kafka_offset)
SELECT s.transaction_id, (doc->>'event_ts')::timestamptz, (doc->>'event_date')::date, (doc->>'event_hour')::smallint,
  doc->>'event_dayofweek', (doc->>'user_id')::bigint, (doc->>'amount')::numeric(12,2), doc->>'amount_bucket',
  doc->>'merchant', doc->>'category', doc->>'city', doc->>'status', doc->>'payment_method', doc->>'currency',
  $1, coalesce((doc->>'bronze_object_id')::bigint, $2), doc->>'kafka_topic', (doc->>'kafka_partition')::int, (doc->>'kafka_offset')::bigint
FROM s JOIN raw USING (transaction_id)
ON CONFLICT (transaction_id) DO NOTHING
RETURNING transaction_id`;

// Replay from bronze after a rule change: the derived columns follow the new rules. Only keys whose
// raw payload equals the staged one (the same event, re-derived), only rows that actually change.
const UPDATE_FROM_STAGING = `
WITH s AS (
  SELECT DISTINCT ON ((doc->>'transaction_id')::uuid) doc, (doc->>'transaction_id')::uuid AS transaction_id
  FROM staging
  ORDER BY (doc->>'transaction_id')::uuid, (doc->>'kafka_offset')::bigint
), n AS (
  SELECT s.transaction_id, (doc->>'event_ts')::timestamptz AS event_ts, (doc->>'event_date')::date AS event_date,
    (doc->>'event_hour')::smallint AS event_hour, doc->>'event_dayofweek' AS event_dayofweek, (doc->>'user_id')::bigint AS user_id,
    (doc->>'amount')::numeric(12,2) AS amount, doc->>'amount_bucket' AS amount_bucket, doc->>'merchant' AS merchant,
    doc->>'category' AS category, doc->>'city' AS city, doc->>'status' AS status, doc->>'payment_method' AS payment_method,
    doc->>'currency' AS currency
  FROM s JOIN raw_transactions r ON r.transaction_id = s.transaction_id AND r.payload = s.doc->'payload'
)
UPDATE transactions_flat f
SET event_ts = n.event_ts, event_date = n.event_date, event_hour = n.event_hour, event_dayofweek = n.event_dayofweek,
    user_id = n.user_id, amount = n.amount, amount_bucket = n.amount_bucket, merchant = n.merchant, category = n.category,
    city = n.city, status = n.status, payment_method = n.payment_method, currency = n.currency
FROM n
WHERE f.transaction_id = n.transaction_id
  AND (f.event_ts, f.event_date, f.event_hour, f.event_dayofweek, f.user_id, f.amount, f.amount_bucket, f.merchant,
       f.category, f.city, f.status, f.payment_method, f.currency)
  IS DISTINCT FROM (n.event_ts, n.event_date, n.event_hour, n.event_dayofweek, n.user_id, n.amount, n.amount_bucket, n.merchant,
       n.category, n.city, n.status, n.payment_method, n.currency)
RETURNING f.transaction_id`;

export const transactionsStream: StreamSpec = {
  name: 'transactions',
  validate: validateTransaction,
  rawTable: 'raw_transactions',
  flatTable: 'transactions_flat',
  keyColumn: 'transaction_id',
  notNullColumns: ['transaction_id', 'event_ts', 'user_id', 'amount', 'status', 'category', 'currency'],
  acceptedValues: [
    { column: 'status', values: STATUSES },
    { column: 'category', values: CATEGORIES },
    { column: 'city', values: CITIES },
    { column: 'payment_method', values: PAYMENT_METHODS },
    { column: 'currency', values: CURRENCIES },
    { column: 'amount_bucket', values: AMOUNT_BUCKETS },
  ],
  materializedViews: ['daily_summary'],
  findConflictsSql: FIND_CONFLICTS,
  insertFromStagingSql: INSERT_FROM_STAGING,
  updateFromStagingSql: UPDATE_FROM_STAGING,
};
