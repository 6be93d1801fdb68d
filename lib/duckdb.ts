// One in-memory DuckDB instance per process (the worker, a CLI command, a test), made on first use and
// closed with the process's other clients. Opening an instance costs more CPU than the Parquet write
// of a small object on an open one (docs/performance.md, "Lake writes"), a connection next to nothing,
// so each lake write takes a connection of its own: DuckDB runs each connection's queries on the
// calling thread and keeps its temporary tables to itself, which makes concurrent writes safe.
// Nothing here talks to S3: DuckDB writes local files only, and only inside the process's own work
// directory (docs/security.md, "DuckDB"): external access is off but for that directory, extensions
// are never installed or loaded on demand, and the configuration is locked once set.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Config } from './config';

export interface DuckDb {
  /** A new connection on the process's instance (made now if it is the first); the caller closes it. */
  connect(): Promise<DuckDBConnection>;
  /**
   * A new directory for one write's files (its input and its output), inside the only directory
   * DuckDB may read or write; the caller removes it. It does not open the instance.
   */
  workDir(prefix: string): Promise<string>;
  /** Whether the instance exists now (made and not closed). */
  readonly open: boolean;
  /** Closes the instance, if it was made, and removes its work directory; a later `connect` or `workDir` fails. */
  close(): Promise<void>;
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

export function createDuckDb(config: Pick<Config, 'LAKE_MEMORY_LIMIT_MB'>): DuckDb {
  let rooting: Promise<string> | undefined;
  let opening: Promise<DuckDBInstance> | undefined;
  let opened: DuckDBInstance | undefined;
  let closed = false;
  const refuseClosed = () => {
    if (closed) throw new Error('the DuckDB instance of this process is closed (the worker is shutting down)');
  };
  /** The process's work directory: the writes' directories and DuckDB's spill directory live in it. */
  const root = () => (rooting ??= mkdtemp(path.join(tmpdir(), 'etl-duckdb-')));
  const open = async (): Promise<DuckDBInstance> => {
    // Loaded here, not at import: a command that never writes the lake does not load the engine.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const dir = await root();
    const spillDir = path.join(dir, 'spill');
    await mkdir(spillDir, { recursive: true });
    const instance = await DuckDBInstance.create(':memory:', {
      // The limit of all the process's lake writes together; beyond it DuckDB spills to spillDir.
      memory_limit: `${config.LAKE_MEMORY_LIMIT_MB}MiB`,
      // One thread per query: a write is small, and concurrent writes run on their own threads
      // (each connection executes on the thread that calls it), so the worker's cores stay shared.
      threads: '1',
      temp_directory: spillDir,
      // Parquet and CSV are built in: nothing is fetched from the network or loaded from disk.
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      allow_community_extensions: 'false',
    });
    try {
      // The list must be set before external access goes off, and both before the lock.
      const setup = await instance.connect();
      try {
        await setup.run(`SET allowed_directories = [${quote(dir)}]`);
        await setup.run('SET enable_external_access = false');
        await setup.run('SET lock_configuration = true');
      } finally {
        setup.closeSync();
      }
    } catch (err) {
      instance.closeSync();
      throw err;
    }
    opened = instance;
    return instance;
  };
  return {
    async connect() {
      refuseClosed();
      opening ??= open();
      const instance = await opening.catch((err: unknown) => {
        opening = undefined; // a failed open is tried again by the next write
        throw err;
      });
      return instance.connect();
    },
    async workDir(prefix: string) {
      refuseClosed();
      return mkdtemp(path.join(await root(), prefix));
    },
    get open() {
      return opened !== undefined && !closed;
    },
    async close() {
      closed = true;
      const instance = await opening?.catch(() => undefined);
      // Connections still open keep the database alive until they close; none is expected here,
      // since the worker closes its clients only after its activities have ended.
      instance?.closeSync();
      opened = undefined;
      const dir = await rooting?.catch(() => undefined);
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
