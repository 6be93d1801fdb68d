// What a card transaction must look like to enter silver. Anything else is quarantined with the
// first failing rule as its reason; unknown extra fields are allowed and kept in the raw payload.
import { z } from 'zod';
import { isoTimestamp, type EventTimeBounds } from '../time';
import { CATEGORIES, CITIES, CURRENCIES, PAYMENT_METHODS, STATUSES } from './vocabulary';

export const MAX_AMOUNT = 1_000_000;
/**
 * Events further than this from their record's reference time (its archive time) are implausible:
 * clock bugs, unit mix-ups. Checked by the stream's checkReferenceTime, not by the schema.
 */
export const MAX_EVENT_SKEW_MS: EventTimeBounds = { past: 5 * 365 * 86_400_000, future: 86_400_000 };

const amount = z
  .union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/, 'amount must be a decimal number')])
  .transform((v) => (typeof v === 'number' ? v : Number(v)))
  .refine((v) => Number.isFinite(v), 'amount must be finite')
  .refine((v) => v > 0, 'amount must be positive')
  // Below a cent it would be stored as 0.00, which the table refuses (amount > 0); found by
  // test/integration/generated-input.test.ts with 5e-324.
  .refine((v) => v <= 0 || v >= 0.01, 'amount must be at least 0.01 (2 decimals are kept)')
  .refine((v) => v <= MAX_AMOUNT, `amount must be at most ${MAX_AMOUNT}`)
  .refine((v) => Math.abs(Math.round(v * 100) - v * 100) < 1e-6, 'amount has more than 2 decimals');

/** The shape of a transaction; no clock in it (plausible event times: MAX_EVENT_SKEW_MS, in ./index.ts). */
export function transactionSchema() {
  return z.looseObject({
    transaction_id: z.uuid(),
    event_ts: isoTimestamp('event_ts'),
    user_id: z
      .union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)])
      .pipe(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)),
    amount,
    merchant: z.string().trim().min(1).max(200),
    category: z.enum(CATEGORIES),
    city: z.enum(CITIES),
    status: z
      .string()
      .transform((s) => s.toUpperCase())
      .pipe(z.enum(STATUSES)),
    payment_method: z.enum(PAYMENT_METHODS),
    currency: z
      .string()
      .transform((s) => s.toUpperCase())
      .pipe(z.enum(CURRENCIES)),
  });
}

export type Transaction = z.output<ReturnType<typeof transactionSchema>>;
