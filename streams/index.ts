// The registry of declared streams: those of the built-in folder (./builtin) and of the
// deployment's ETL_STREAMS_DIR, loaded by ./loader.ts the first time anything asks, or explicitly
// by an entry point (the CLI, the worker, a pass thread) so a bad declaration stops it at once.
// Everything outside streams/ finds a stream here by name.
import { streamsDirSetting } from '../lib/config';
import { EtlError } from '../lib/errors';
import type { StreamTopic } from '../lib/kafka';
import type { StreamTables } from '../lib/stream-tables';
import { loadDeclarations, type LoadedStream } from './loader';
import type { StreamSpec } from './types';

let loaded: { dir: string | undefined; streams: Map<string, LoadedStream> } | undefined;

/**
 * Loads the built-in streams and those of `dir` (default: ETL_STREAMS_DIR), replacing what was
 * loaded, all or nothing: throws EtlError STREAM_DECLARATION and keeps the previous set when one
 * declaration is bad. `mayNotExistYet`: a folder not made yet holds no stream (`etl stream init`).
 */
export function loadStreams(dir: string | undefined = streamsDirSetting(), options: { mayNotExistYet?: boolean } = {}): void {
  const streams = new Map(loadDeclarations(dir || undefined, options).map((l) => [l.spec.name, l]));
  loaded = { dir: dir || undefined, streams };
}

/** Every stream loaded, with the file that declared it: what a new declaration must not clash with. */
export function loadedStreams(): LoadedStream[] {
  return [...registry().values()];
}

/** Loads the streams of `dir` (empty: none but the built-in ones) unless they are the ones loaded: what a pass thread does with its worker's setting. */
export function useStreamsDir(dir: string | undefined): void {
  if (!loaded || loaded.dir !== (dir || undefined)) loadStreams(dir);
}

function registry(): Map<string, LoadedStream> {
  if (!loaded) loadStreams();
  return loaded!.streams;
}

export function allStreams(): StreamSpec[] {
  return [...registry().values()].map((l) => l.spec);
}

export function streamNames(): string[] {
  return [...registry().keys()];
}

export function getStream(name: string): StreamSpec {
  const spec = registry().get(name)?.spec;
  if (!spec) throw new EtlError('USAGE', `unknown stream "${name}"; known streams: ${streamNames().join(', ')}`);
  return spec;
}

/** The Kafka topic of a stream; the prefix lets tests and tenants share a broker. */
export function topicFor(topicPrefix: string, stream: string): string {
  return `${topicPrefix}${registry().get(stream)?.spec.topic ?? stream}`;
}

/** Every stream loaded, with its Kafka topic and tables: what lib/ is handed to set up or watch. */
export function streamTopics(topicPrefix: string): StreamTopic[] {
  return allStreams().map((s) => ({
    stream: s.name,
    topic: topicFor(topicPrefix, s.name),
    tables: tablesOf(s),
  }));
}

/** A stream's own tables as declared: what `etl migrate` makes and keeps in step (lib/stream-tables.ts). */
export function tablesOf(s: StreamSpec): StreamTables {
  return { name: s.name, rawTable: s.rawTable, flatTable: s.flatTable, key: s.key, columns: s.columns, eventTimeColumn: s.eventTimeColumn };
}
