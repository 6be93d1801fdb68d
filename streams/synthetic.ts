// Helpers shared by the streams' synthetic sources (streams/*/synthetic.ts).
import type { z } from 'zod';
import { EtlError } from '../lib/errors';

/** Generator options are outside input (flags, a workflow input): parsed, or refused with every problem named. */
export function parseGeneratorOptions<T>(stream: string, schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
  throw new EtlError('USAGE', `invalid options for synthetic ${stream}: ${problems}`);
}

/** Messages `fromIndex`, `fromIndex + 1`, … of a source whose message i is computed on its own. */
export function* fromIndex<M>(start: number, messageAt: (index: number) => M): Generator<M> {
  for (let i = start; ; i++) yield messageAt(i);
}
