import { EtlError } from '../lib/errors';
import { transactionsStream } from './transactions';
import type { StreamSpec } from './types';

export const STREAMS: Readonly<Record<string, StreamSpec>> = { transactions: transactionsStream };

export function getStream(name: string): StreamSpec {
  const spec = STREAMS[name];
  if (!spec) throw new EtlError('USAGE', `unknown stream "${name}"; known streams: ${Object.keys(STREAMS).join(', ')}`);
  return spec;
}

/** The Kafka topic of a stream; the prefix lets tests and tenants share a broker. */
export function topicFor(topicPrefix: string, stream: string): string {
  return `${topicPrefix}${stream}`;
}
