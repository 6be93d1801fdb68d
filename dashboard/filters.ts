// Query parameters are outside input: zod parses them into a Filter, and every value reaches SQL
// as a bind parameter of one constant WHERE clause ("$n IS NULL OR ..." switches a filter off).
// Repeated keys (?category=a&category=b) select several values.
import { z } from 'zod';
import { CATEGORIES, CITIES, STATUSES } from '../streams/transactions/vocabulary';

const date = z.iso.date({ error: (i) => `expected a date as YYYY-MM-DD, got ${JSON.stringify(i.input)}` });
const amount = z
  .string()
  .regex(/^\d{1,10}(\.\d{1,2})?$/, { error: (i) => `expected an amount in EUR such as 20 or 19.99, got ${JSON.stringify(i.input)}` });
const once = <T extends z.ZodType>(schema: T, name: string) =>
  z
    .unknown()
    .refine((v) => !Array.isArray(v), `give ${name} only once`)
    .pipe(schema);

function list(name: string, values?: readonly string[]) {
  const item = values
    ? z.string().refine((v) => values.includes(v), {
        error: (i) => `unknown ${name} ${JSON.stringify(i.input)}; expected one of ${values.join(', ')}`,
      })
    : z.string().trim().min(1, `${name} must not be empty`).max(200, `${name} is longer than 200 characters`);
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .pipe(z.array(item).max(100, `at most 100 values of ${name}`));
}

const filterShape = {
  from: once(date, 'from').optional(),
  to: once(date, 'to').optional(),
  category: list('category', CATEGORIES).optional(),
  city: list('city', CITIES).optional(),
  status: list('status', STATUSES).optional(),
  merchant: list('merchant').optional(),
  minAmount: once(amount, 'minAmount').optional(),
  maxAmount: once(amount, 'maxAmount').optional(),
};

function consistent(f: { from?: string; to?: string; minAmount?: string; maxAmount?: string }, ctx: z.RefinementCtx): void {
  if (f.from && f.to && f.from > f.to)
    ctx.addIssue({ code: 'custom', path: ['to'], message: `the date range is empty: from ${f.from} is after to ${f.to}` });
  if (f.minAmount && f.maxAmount && Number(f.minAmount) > Number(f.maxAmount)) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxAmount'],
      message: `the amount range is empty: minAmount ${f.minAmount} is above maxAmount ${f.maxAmount}`,
    });
  }
}

const pageShape = {
  page: once(
    z.coerce
      .number({ error: 'page must be a whole number from 1' })
      .int('page must be a whole number from 1')
      .min(1, 'page must be a whole number from 1')
      .max(1_000_000),
    'page',
  ).default(1),
  pageSize: once(
    z.coerce
      .number({ error: 'pageSize must be a whole number from 1 to 500' })
      .int('pageSize must be a whole number from 1 to 500')
      .min(1, 'pageSize must be a whole number from 1 to 500')
      .max(500, 'pageSize must be a whole number from 1 to 500'),
    'pageSize',
  ).default(25),
};

/** A strict object: a misspelt parameter in a shared link is an error, not a silently wider view. */
function strict<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (i) => (i.code === 'unrecognized_keys' ? `unknown parameter ${i.keys.join(', ')}; known: ${known}` : undefined),
  });
}

export const filterQuery = strict(filterShape).superRefine(consistent);
export const pageQuery = strict({ ...filterShape, ...pageShape }).superRefine(consistent);

export type Filter = z.output<typeof filterQuery>;
export type PageQuery = z.output<typeof pageQuery>;

export interface InvalidParam {
  param: string;
  message: string;
}

/** One readable line for people, the per-parameter list for programs. */
export function describeIssues(error: z.ZodError): { message: string; issues: InvalidParam[] } {
  const issues = error.issues.map((i) => ({
    param: i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.length ? String(i.path[0]) : '(query)',
    message: i.message,
  }));
  return { message: `invalid filter: ${issues.map((i) => `${i.param}: ${i.message}`).join('; ')}`, issues };
}

/**
 * The matching transactions as a CTE named `filtered`; queries append their body to it. Dates
 * compare on event_ts (indexed) as whole UTC days, the same calendar as event_date.
 */
export const FILTERED_CTE = `WITH filtered AS (
  SELECT * FROM transactions_flat
  WHERE ($1::date IS NULL OR event_ts >= ($1::date::timestamp AT TIME ZONE 'UTC'))
    AND ($2::date IS NULL OR event_ts < (($2::date + 1)::timestamp AT TIME ZONE 'UTC'))
    AND ($3::text[] IS NULL OR category = ANY ($3::text[]))
    AND ($4::text[] IS NULL OR city = ANY ($4::text[]))
    AND ($5::text[] IS NULL OR status = ANY ($5::text[]))
    AND ($6::text[] IS NULL OR merchant = ANY ($6::text[]))
    AND ($7::numeric IS NULL OR amount >= $7::numeric)
    AND ($8::numeric IS NULL OR amount <= $8::numeric)
)
`;

/** Both operands are constants of this code base: no input is ever part of SQL text. */
export function filtered(body: string): string {
  return FILTERED_CTE + body;
}

/** The bind values of FILTERED_CTE, $1..$8; a query's own parameters start at $9. */
export function filterValues(f: Filter): unknown[] {
  return [
    f.from ?? null,
    f.to ?? null,
    f.category ?? null,
    f.city ?? null,
    f.status ?? null,
    f.merchant ?? null,
    f.minAmount ?? null,
    f.maxAmount ?? null,
  ];
}
