// One in-memory DuckDB instance per process (the worker, a CLI command, a test), made on first use and
// closed with the process's other clients. Opening an instance costs more CPU than the Parquet write
// of a small object on an open one (docs/performance.md, "Lake writes"), a connection next to nothing,
// so each lake write takes a connection of its own: DuckDB runs each connection's queries on the
// calling thread and keeps its temporary tables to itself, which makes concurrent writes safe.
// Nothing here talks to S3: DuckDB writes local files only.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Config } from './config';

export interface DuckDb {
  /** A new connection on the process's instance (made now if it is the first); the caller closes it. */
  connect(): Promise<DuckDBConnection>;
  /** Whether the instance exists now (made and not closed). */
  readonly open: boolean;
  /** Closes the instance, if it was made, and removes its spill directory; a later `connect` fails. */
  close(): Promise<void>;
}

interface Opened {
  instance: DuckDBInstance;
  spillDir: string;
}

export function createDuckDb(config: Pick<Config, 'LAKE_MEMORY_LIMIT_MB'>): DuckDb {
  let opening: Promise<Opened> | undefined;
  let opened: Opened | undefined;
  let closed = false;
  const open = async (): Promise<Opened> => {
    // Loaded here, not at import: a command that never writes the lake does not load the engine.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const spillDir = await mkdtemp(path.join(tmpdir(), 'etl-duckdb-'));
    try {
      const instance = await DuckDBInstance.create(':memory:', {
        // The limit of all the process's lake writes together; beyond it DuckDB spills to spillDir.
        memory_limit: `${config.LAKE_MEMORY_LIMIT_MB}MiB`,
        // One thread per query: a write is small, and concurrent writes run on their own threads
        // (each connection executes on the thread that calls it), so the worker's cores stay shared.
        threads: '1',
        temp_directory: spillDir,
      });
      opened = { instance, spillDir };
      return opened;
    } catch (err) {
      await rm(spillDir, { recursive: true, force: true });
      throw err;
    }
  };
  return {
    async connect() {
      if (closed) throw new Error('the DuckDB instance of this process is closed (the worker is shutting down)');
      opening ??= open();
      const { instance } = await opening.catch((err: unknown) => {
        opening = undefined; // a failed open is tried again by the next write
        throw err;
      });
      return instance.connect();
    },
    get open() {
      return opened !== undefined && !closed;
    },
    async close() {
      closed = true;
      const o = await opening?.catch(() => undefined);
      if (!o) return;
      // Connections still open keep the database alive until they close; none is expected here,
      // since the worker closes its clients only after its activities have ended.
      o.instance.closeSync();
      opened = undefined;
      await rm(o.spillDir, { recursive: true, force: true });
    },
  };
}
