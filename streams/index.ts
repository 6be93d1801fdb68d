// The registry of declared streams. Everything outside streams/ finds a stream here by name.
import { EtlError } from '../lib/errors';
import type { StreamTopic } from '../lib/kafka';
import { ticksStream } from './ticks';
import { transactionsStream } from './transactions';
import type { StreamSpec } from './types';

const registry: Record<string, StreamSpec> = { transactions: transactionsStream, ticks: ticksStream };

export const STREAMS: Readonly<Record<string, StreamSpec>> = registry;

/** The streams declared in this folder: what any thread of the process knows, unlike those registered at run time. */
const BUILT_IN: ReadonlySet<string> = new Set(Object.keys(registry));

export function isBuiltInStream(name: string): boolean {
  return BUILT_IN.has(name);
}

export function streamNames(): string[] {
  return Object.keys(registry);
}

export function getStream(name: string): StreamSpec {
  const spec = registry[name];
  if (!spec) throw new EtlError('USAGE', `unknown stream "${name}"; known streams: ${streamNames().join(', ')}`);
  return spec;
}

/**
 * Adds a stream declared outside this folder (a plugin, a test) for the life of the process; the
 * worker and CLI of that process then carry it like the built-in ones. Returns the undo.
 */
export function registerStream(spec: StreamSpec): () => void {
  if (registry[spec.name]) throw new Error(`stream ${spec.name} is already registered`);
  registry[spec.name] = spec;
  return () => {
    delete registry[spec.name];
  };
}

/** The Kafka topic of a stream; the prefix lets tests and tenants share a broker. */
export function topicFor(topicPrefix: string, stream: string): string {
  return `${topicPrefix}${registry[stream]?.topic ?? stream}`;
}

/** Every stream registered now, with its Kafka topic: what lib/ is handed to set up or watch. */
export function streamTopics(topicPrefix: string): StreamTopic[] {
  return streamNames().map((stream) => ({ stream, topic: topicFor(topicPrefix, stream) }));
}
