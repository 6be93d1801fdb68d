// Migration 013: an object a previous version left transformed but not loaded goes back to the work
// queue as archived (transform and load are now one transaction); loaded and archived objects keep
// every column. Run twice, it changes nothing more.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildClients, type Clients } from '../../lib/clients';
import { loadConfig } from '../../lib/config';
import { migrate, readMigrations } from '../../lib/migrate';
import { ident } from '../../lib/sql';

const ONE_PASS = 13;

describe('migration 013 (one pass per object)', () => {
  const schema = `t_migrate_one_pass_${process.pid}`;
  let clients: Clients;
  before(() => {
    clients = buildClients({ ...loadConfig(), PG_SCHEMA: schema });
  });
  after(async () => {
    await clients.pool.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
    await clients.close();
  });

  const manifest = async () =>
    (
      await clients.pool.query<{
        id: number;
        silver_key: string | null;
        valid_count: number | null;
        transformed: boolean;
        loaded: boolean;
      }>(
        `SELECT id::int, silver_key, valid_count, transformed_at IS NOT NULL AS transformed, loaded_at IS NOT NULL AS loaded
         FROM ${ident(schema)}.bronze_objects ORDER BY id`,
      )
    ).rows;

  it('hands transformed-but-unloaded objects back as archived, keeps the others, and is safe to run twice', async () => {
    const all = readMigrations();
    const file = all.find((m) => m.version === ONE_PASS);
    assert.ok(file, 'migration 013 exists');
    await migrate(
      clients.pool,
      schema,
      [],
      {},
      all.filter((m) => m.version < ONE_PASS),
    );
    const row = (p: number, extra: string) =>
      `INSERT INTO ${ident(schema)}.bronze_objects (stream, topic, kafka_partition, first_offset, last_offset, status, object_key, record_count, archived_at${extra ? ', silver_key, valid_count, quarantined_count, transformed_at' : ''}${extra === 'loaded' ? ', loaded_at' : ''})
       VALUES ('transactions', 't', ${p}, 0, 9, 'archived', 'bronze/${p}', 10, now()${extra ? `, 'silver/${p}', 9, 1, now()` : ''}${extra === 'loaded' ? ', now()' : ''})`;
    await clients.pool.query(row(0, ''));
    await clients.pool.query(row(1, 'transformed'));
    await clients.pool.query(row(2, 'loaded'));
    const expected = [
      { id: 1, silver_key: null, valid_count: null, transformed: false, loaded: false },
      { id: 2, silver_key: null, valid_count: null, transformed: false, loaded: false },
      { id: 3, silver_key: 'silver/2', valid_count: 9, transformed: true, loaded: true },
    ];
    assert.deepEqual((await migrate(clients.pool, schema)).applied.length, all.length - (ONE_PASS - 1));
    assert.deepEqual(await manifest(), expected);
    // Safe twice: the same statements once more change nothing.
    const client = await clients.pool.connect();
    try {
      await client.query(`SET search_path TO ${ident(schema)}`);
      await client.query(file.sql);
    } finally {
      client.release();
    }
    assert.deepEqual(await manifest(), expected);
  });
});
