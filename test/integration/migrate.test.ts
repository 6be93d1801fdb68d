import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { buildClients, type Clients } from '../../lib/clients';
import { loadConfig } from '../../lib/config';
import { ensureReaderRole, migrate, readMigrations } from '../../lib/migrate';

describe('migrations', () => {
  const schema = `t_migrate_${process.pid}`;
  let clients: Clients;
  before(() => {
    clients = buildClients({ ...loadConfig(), PG_SCHEMA: schema });
  });
  after(async () => {
    const { rows } = await clients.pool.query<{ s: string }>("SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text) AS s", [schema]);
    await clients.pool.query(rows[0]!.s);
    await clients.close();
  });

  it('apply each file once even when three runs race', async () => {
    const results = await Promise.all([migrate(clients.pool, schema), migrate(clients.pool, schema), migrate(clients.pool, schema)]);
    const files = readMigrations();
    assert.equal(results.flatMap((r) => r.applied).length, files.length, 'each migration applied by exactly one run');
    const { rows } = await clients.pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(
      rows.map((r) => r.version),
      files.map((f) => f.version),
    );
    const again = await migrate(clients.pool, schema);
    assert.deepEqual(again, { applied: [], alreadyApplied: files.length, streams: [] });
  });

  it('refuse to continue when an applied file was edited', async () => {
    const edited = readMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
    await assert.rejects(migrate(clients.pool, schema, [], {}, edited), /edited after it was applied/);
  });

  it('roll back a failing file and record nothing for it', async () => {
    const broken = [
      ...readMigrations(),
      { version: 999, name: 'broken', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();', checksum: 'x' },
    ];
    await assert.rejects(migrate(clients.pool, schema, [], {}, broken), /999_broken\.sql failed/);
    const { rows } = await clients.pool.query(
      "SELECT 1 FROM schema_migrations WHERE version = 999 UNION ALL SELECT 1 FROM pg_tables WHERE tablename = 'half_done' AND schemaname = $1",
      [schema],
    );
    assert.equal(rows.length, 0);
  });

  it('give the reader role SELECT and nothing else', async () => {
    const cfg = loadConfig();
    const user = `t_reader_${process.pid}`;
    await ensureReaderRole(clients.pool, schema, user, 'reader-pw');
    const url = new URL(cfg.DATABASE_URL);
    url.username = user;
    url.password = 'reader-pw';
    const reader = new pg.Client({ connectionString: url.toString(), options: `-c search_path=${schema}` });
    await reader.connect();
    try {
      const { rows } = await reader.query('SELECT count(*)::int AS n FROM transactions_flat');
      assert.equal(rows[0].n, 0);
      await assert.rejects(
        reader.query(
          "INSERT INTO quarantine (stream, kafka_topic, kafka_partition, kafka_offset, reason_code, reason, payload_encoding) VALUES ('x','x',0,0,'x','x','null')",
        ),
        /permission denied/,
      );
    } finally {
      await reader.end();
      for (const template of [
        'REVOKE ALL ON ALL TABLES IN SCHEMA %1$I FROM %2$I',
        'REVOKE USAGE ON SCHEMA %1$I FROM %2$I',
        'ALTER DEFAULT PRIVILEGES IN SCHEMA %1$I REVOKE SELECT ON TABLES FROM %2$I',
        'DROP ROLE %2$I',
      ]) {
        const { rows } = await clients.pool.query<{ s: string }>('SELECT format($1::text, $2::text, $3::text) AS s', [
          template,
          schema,
          user,
        ]);
        await clients.pool.query(rows[0]!.s);
      }
    }
  });
});
