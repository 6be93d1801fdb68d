// The process's DuckDB (lib/duckdb.ts) reaches only its own work directory: an arbitrary local file,
// a path that climbs out of the work directory, the network and extensions are refused, and no
// setting can be changed back once it is open; the lake's own work (CSV in, Parquet out, spilling
// past the memory limit) still runs there.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DuckDBConnection } from '@duckdb/node-api';
import { writeParquetByDate } from '../../activities/lake/parquet';
import { createDuckDb, type DuckDb } from '../../lib/duckdb';

const PERMISSION = /Permission Error: .*(disabled by configuration|disabled through configuration)/;
const LOCKED = /the configuration has been locked/;

describe("the process's DuckDB", () => {
  let duckdb: DuckDb;
  let db: DuckDBConnection;
  let outside: string;
  let work: string;

  before(async () => {
    duckdb = createDuckDb({ LAKE_MEMORY_LIMIT_MB: 64 });
    db = await duckdb.connect();
    work = await duckdb.workDir('test-');
    // A file of this user's, in the same temp directory, but not in DuckDB's work directory.
    outside = mkdtempSync(path.join(os.tmpdir(), 'etl-duckdb-outside-'));
    writeFileSync(path.join(outside, 'private.csv'), 'secret\nhunter2\n');
  });
  after(async () => {
    db?.closeSync();
    await duckdb?.close();
    rmSync(outside, { recursive: true, force: true });
  });

  it('refuses to read an arbitrary local file, however the path is written', async () => {
    await assert.rejects(db.run("SELECT * FROM read_csv('/etc/passwd', sep = ':')"), PERMISSION);
    await assert.rejects(db.run(`SELECT * FROM read_csv('${path.join(outside, 'private.csv')}')`), PERMISSION);
    await assert.rejects(db.run(`SELECT * FROM read_csv('${work}/../../${path.basename(outside)}/private.csv')`), PERMISSION);
    await assert.rejects(db.run("SELECT * FROM read_text('/etc/hostname')"), PERMISSION);
    await assert.rejects(db.run("SELECT * FROM glob('/etc/*')"), PERMISSION);
  });

  it('refuses to write outside its work directory, to attach a database there, or to reach the network', async () => {
    await assert.rejects(db.run(`COPY (SELECT 1 AS x) TO '${path.join(outside, 'out.csv')}'`), PERMISSION);
    await assert.rejects(db.run(`ATTACH '${path.join(outside, 'other.duckdb')}'`), PERMISSION);
    await assert.rejects(db.run("SELECT * FROM read_csv('https://example.com/data.csv')"), PERMISSION);
  });

  it('neither installs nor loads extensions', async () => {
    await assert.rejects(db.run('INSTALL httpfs'), PERMISSION);
    await assert.rejects(db.run('LOAD httpfs'), PERMISSION);
    const settings = await db.runAndReadAll(
      `SELECT name, value FROM duckdb_settings() WHERE name IN ('autoinstall_known_extensions', 'autoload_known_extensions', 'enable_external_access', 'lock_configuration') ORDER BY name`,
    );
    assert.deepEqual(settings.getRowObjectsJS(), [
      { name: 'autoinstall_known_extensions', value: 'false' },
      { name: 'autoload_known_extensions', value: 'false' },
      { name: 'enable_external_access', value: 'false' },
      { name: 'lock_configuration', value: 'true' },
    ]);
  });

  it('keeps its configuration locked: no setting can be changed back', async () => {
    await assert.rejects(db.run('SET lock_configuration = false'), LOCKED);
    await assert.rejects(db.run('SET enable_external_access = true'), LOCKED);
    await assert.rejects(db.run("SET allowed_directories = ['/']"), LOCKED);
    await assert.rejects(db.run("SET memory_limit = '64GiB'"), LOCKED);
    await assert.rejects(db.run('RESET enable_external_access'), LOCKED);
  });

  it("still does the lake's work in its work directory: CSV in, Parquet out, read back", async () => {
    const csv = path.join(work, 'rows.csv');
    writeFileSync(csv, '1,2.50,2026-11-20\n2,3.75,2026-11-21\n');
    const files = await writeParquetByDate(
      duckdb,
      csv,
      [
        { name: 'id', pgType: 'bigint' },
        { name: 'amount', pgType: 'numeric(12,2)' },
      ],
      'id',
      work,
      { rowGroupRows: 122_880, codec: 'zstd', metadata: { 'etl.stream': 'probe' } },
    );
    assert.deepEqual(
      files.map((f) => [f.eventDate, f.rows]),
      [
        ['2026-11-20', 1],
        ['2026-11-21', 1],
      ],
    );
    const back = await db.runAndReadAll(`SELECT id::int AS id, amount::varchar AS amount FROM read_parquet('${files[1]!.file}')`);
    assert.deepEqual(back.getRowObjectsJS(), [{ id: 2, amount: '3.75' }]);
  });

  it('spills past its memory limit into its own spill directory', async () => {
    await db.run('CREATE TEMP TABLE big AS SELECT i, md5(i::varchar) AS h FROM range(2000000) r(i) ORDER BY h');
    const spill = (await db.runAndReadAll("SELECT current_setting('temp_directory') AS d")).getRowObjectsJS()[0]!.d as string;
    assert.ok(spill.startsWith(path.dirname(work)), `the spill directory ${spill} is in the work directory`);
    const [row] = (
      await db.runAndReadAll(
        'SELECT count(*)::int AS n, (SELECT coalesce(sum(size), 0)::int FROM duckdb_temporary_files()) AS spilled FROM big',
      )
    ).getRowObjectsJS();
    assert.equal(row!.n, 2_000_000);
    assert.ok(Number(row!.spilled) > 0, 'the table is larger than the memory limit, so part of it is on disk');
    await db.run('DROP TABLE big');
  });
});
