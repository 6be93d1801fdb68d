// `etl migrate` makes a stream's tables from its declaration and keeps them in step with it under a
// contract: a new column is added, a widening applied, anything else refused with one line and
// nothing changed; every applied change is a version in stream_schemas. A deployment migrated by
// the numbered migrations of old keeps its tables and rows, its first version recorded from them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { buildClients, type Clients } from '../../lib/clients';
import { loadConfig } from '../../lib/config';
import { migrate, readMigrations } from '../../lib/migrate';
import { streamHistory } from '../../lib/stream-tables';
import { streamTopics, tablesOf } from '../../streams';
import { loadDeclarations } from '../../streams/loader';
import { declarationsDir, type DeclarationsDir } from '../support/declarations';

/** The last numbered migration of the main branch before stream tables came from declarations. */
const BEFORE_DECLARED_TABLES = 18;

const fx = (columns: string, key = "{ name: 'quote_id', type: 'bigint' }") => `
import { defineStream, z } from 'etl-temporal/define';
export default defineStream({
  name: 'fx_quotes',
  schema: z.looseObject({ quote_id: z.number().int(), at: z.string() }),
  enrich: (q) => q,
  rawTable: 'raw_fx_quotes',
  flatTable: 'fx_quotes_flat',
  key: ${key},
  eventTimeColumn: 'at',
  columns: [${columns}],
});
`;
const BASE = `{ name: 'at', type: 'timestamptz', notNull: true }, { name: 'pair', type: 'varchar(6)' }, { name: 'bid', type: 'numeric(12,5)' }, { name: 'size', type: 'smallint' }`;

describe('stream tables from declarations', () => {
  const id = randomBytes(4).toString('hex');
  let clients: Clients;
  let folder: DeclarationsDir;
  let schema: string;

  const declared = (source: string) => {
    folder.write('fx_quotes.ts', source);
    return tablesOf(loadDeclarations(folder.dir).find((l) => l.spec.name === 'fx_quotes')!.spec);
  };
  const columnsOf = async (table: string) =>
    (
      await clients.pool.query<{ c: string }>(
        `SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) AS c FROM pg_attribute a
         WHERE a.attrelid = format('%I.%I', $1::text, $2::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [schema, table],
      )
    ).rows.map((r) => r.c);
  const versions = async (stream: string) => (await streamHistory(clients.pool, stream)).map((v) => v.version);

  before(() => {
    schema = `t_streams_${id}`;
    clients = buildClients({ ...loadConfig(), PG_SCHEMA: schema });
    folder = declarationsDir();
  });
  after(async () => {
    const { rows } = await clients.pool.query<{ s: string }>("SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text) AS s", [schema]);
    await clients.pool.query(rows[0]!.s);
    await clients.close();
    folder.remove();
  });

  it('upgrades a database migrated by the numbered migrations: tables and rows kept, first version recorded from them', async () => {
    await migrate(
      clients.pool,
      schema,
      [],
      {},
      readMigrations().filter((m) => m.version <= BEFORE_DECLARED_TABLES),
    );
    await clients.pool.query(`SET search_path = ${schema}`);
    const tx = 'a3bb189e-8bf9-3888-9912-ace4e6543002';
    await clients.pool.query(
      `INSERT INTO ${schema}.raw_transactions (transaction_id, event_ts, payload) VALUES ($1, '2026-12-01T10:00:00Z', '{}');
       INSERT INTO ${schema}.transactions_flat (transaction_id, event_ts, event_date, event_hour, event_dayofweek, user_id, amount, amount_bucket, merchant, category, city, status, payment_method, currency)
       VALUES ($1, '2026-12-01T10:00:00Z', '2026-12-01', 10, 'Tuesday', 7, 12.50, 'small', 'm', 'grocery', 'Paris', 'APPROVED', 'card', 'EUR')`.replace(
        /\$1/g,
        `'${tx}'`,
      ),
    );
    const before = await columnsOf('transactions_flat');
    const builtIn = streamTopics('').map((s) => s.tables!);
    const r = await migrate(clients.pool, schema, builtIn);
    assert.deepEqual(r.applied, ['19_bounded_quarantine_payloads', '20_stream_schemas', '21_drop_attempt_ledger', '22_load_drift']);
    assert.deepEqual(
      r.streams.map((m) => [m.stream, m.version, m.changes]),
      [
        ['ticks', 1, [{ kind: 'adopted' }]],
        ['transactions', 1, [{ kind: 'adopted' }]],
      ],
    );
    assert.deepEqual(await columnsOf('transactions_flat'), before);
    const { rows } = await clients.pool.query(`SELECT amount::text FROM ${schema}.transactions_flat WHERE transaction_id = $1`, [tx]);
    assert.deepEqual(rows, [{ amount: '12.50' }]);
    assert.deepEqual((await migrate(clients.pool, schema, builtIn)).streams, [], 'nothing to do the second time');
  });

  it('refuses a built-in declaration that disagrees with the live tables, and records nothing', async () => {
    const other = `t_streams_${id}_b`;
    const c = buildClients({ ...loadConfig(), PG_SCHEMA: other });
    try {
      await migrate(
        c.pool,
        other,
        [],
        {},
        readMigrations().filter((m) => m.version <= BEFORE_DECLARED_TABLES),
      );
      const tx = streamTopics('').find((s) => s.stream === 'transactions')!.tables!;
      const narrower = { ...tx, columns: tx.columns.map((col) => (col.name === 'amount' ? { ...col, type: 'numeric(10,2)' } : col)) };
      await assert.rejects(migrate(c.pool, other, [narrower]), {
        code: 'STREAM_SCHEMA_REFUSED',
        message:
          'stream transactions: column amount numeric(12,2) -> amount numeric(10,2) is not a widening; nothing was changed. Change the table with a numbered migration of your own first, or declare it back',
      });
      const { rows } = await c.pool.query(`SELECT count(*)::int AS n FROM ${other}.stream_schemas`);
      assert.deepEqual(rows, [{ n: 0 }]);
    } finally {
      await c.pool.query(`DROP SCHEMA IF EXISTS ${other} CASCADE`);
      await c.close();
    }
  });

  it("creates a declared stream's raw and flat tables, key, lineage columns and indexes", async () => {
    const r = await migrate(clients.pool, schema, [declared(fx(BASE))]);
    assert.deepEqual(
      r.streams.map((m) => [m.stream, m.version, m.changes]),
      [['fx_quotes', 1, [{ kind: 'created' }]]],
    );
    const lineage = [
      'ingested_at timestamp with time zone',
      'load_id bigint',
      'bronze_object_id bigint',
      'kafka_topic text',
      'kafka_partition integer',
      'kafka_offset bigint',
    ];
    assert.deepEqual(await columnsOf('fx_quotes_flat'), [
      'quote_id bigint',
      'at timestamp with time zone',
      'pair character varying(6)',
      'bid numeric(12,5)',
      'size smallint',
      ...lineage,
    ]);
    assert.deepEqual(await columnsOf('raw_fx_quotes'), [
      'quote_id bigint',
      'event_ts timestamp with time zone',
      'payload jsonb',
      ...lineage,
    ]);
    const { rows } = await clients.pool.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename IN ('fx_quotes_flat', 'raw_fx_quotes') ORDER BY indexname",
      [schema],
    );
    assert.deepEqual(
      rows.map((i) => i.indexname),
      ['fx_quotes_flat_at', 'fx_quotes_flat_bronze_object', 'fx_quotes_flat_pkey', 'raw_fx_quotes_pkey'],
    );
  });

  it('adds a new column and applies widenings automatically, each change a new version', async () => {
    await clients.pool.query(`INSERT INTO ${schema}.fx_quotes_flat (quote_id, at, pair, bid, size) VALUES (1, now(), 'EURUSD', 1.08, 3)`);
    const wider = `{ name: 'at', type: 'timestamptz', notNull: true }, { name: 'pair', type: 'text' }, { name: 'bid', type: 'numeric(14,6)' }, { name: 'size', type: 'bigint' }, { name: 'venue', type: 'text' }`;
    const r = await migrate(clients.pool, schema, [declared(fx(wider))]);
    assert.deepEqual(r.streams, [
      {
        stream: 'fx_quotes',
        version: 2,
        changes: [
          { kind: 'widened', column: 'pair', from: 'varchar(6)', to: 'text' },
          { kind: 'widened', column: 'bid', from: 'numeric(12,5)', to: 'numeric(14,6)' },
          { kind: 'widened', column: 'size', from: 'smallint', to: 'bigint' },
          { kind: 'added', column: 'venue', to: 'text' },
        ],
      },
    ]);
    const { rows } = await clients.pool.query(`SELECT pair, bid::text, size::int, venue FROM ${schema}.fx_quotes_flat`);
    assert.deepEqual(rows, [{ pair: 'EURUSD', bid: '1.080000', size: 3, venue: null }]);
    const history = await streamHistory(clients.pool, 'fx_quotes');
    assert.deepEqual(
      history.map((v) => [v.version, v.columns.map((c) => c.name).join(',')]),
      [
        [1, 'at,pair,bid,size'],
        [2, 'at,pair,bid,size,venue'],
      ],
    );
    assert.match(history[1]!.appliedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.notEqual(history[0]!.digest, history[1]!.digest);
  });

  it('refuses a narrowing, a type change, a drop and a changed key, with one line each, and changes nothing', async () => {
    const before = await columnsOf('fx_quotes_flat');
    const current = `{ name: 'at', type: 'timestamptz', notNull: true }, { name: 'pair', type: 'text' }, { name: 'bid', type: 'numeric(14,6)' }, { name: 'size', type: 'bigint' }, { name: 'venue', type: 'text' }`;
    const cases: [string, string][] = [
      [
        fx(current.replace("'numeric(14,6)'", "'numeric(10,6)'")),
        'stream fx_quotes: column bid numeric(14,6) -> bid numeric(10,6) is not a widening; nothing was changed. Change the table with a numbered migration of your own first, or declare it back',
      ],
      [
        fx(current.replace("{ name: 'at', type: 'timestamptz', notNull: true }", "{ name: 'at', type: 'timestamp', notNull: true }")),
        'stream fx_quotes: column at timestamptz -> at timestamp is not a widening; nothing was changed. Change the table with a numbered migration of your own first, or declare it back',
      ],
      [
        fx(current.replace(", { name: 'venue', type: 'text' }", '')),
        'stream fx_quotes: column venue text is no longer declared (dropped or renamed); nothing was changed. Run `etl migrate --allow-drop` to drop it (its data is lost), or declare it back',
      ],
      [
        fx(current, "{ name: 'quote_id', type: 'text' }"),
        'stream fx_quotes: key quote_id bigint -> quote_id text: a changed key; nothing was changed. Change the table with a numbered migration of your own first, or declare it back',
      ],
    ];
    for (const [source, message] of cases) {
      // A new column alongside the refused change is not applied either: all or nothing.
      const tables = declared(source.replace("{ name: 'at'", "{ name: 'extra', type: 'integer' }, { name: 'at'"));
      await assert.rejects(migrate(clients.pool, schema, [tables]), { code: 'STREAM_SCHEMA_REFUSED', message });
      assert.deepEqual(await columnsOf('fx_quotes_flat'), before);
      assert.deepEqual(await versions('fx_quotes'), [1, 2]);
    }
  });

  it('drops a column no longer declared only with --allow-drop', async () => {
    const current = `{ name: 'at', type: 'timestamptz', notNull: true }, { name: 'pair', type: 'text' }, { name: 'bid', type: 'numeric(14,6)' }, { name: 'size', type: 'bigint' }`;
    const r = await migrate(clients.pool, schema, [declared(fx(current))], { allowDrop: true });
    assert.deepEqual(r.streams, [{ stream: 'fx_quotes', version: 3, changes: [{ kind: 'dropped', column: 'venue', from: 'text' }] }]);
    assert.ok(!(await columnsOf('fx_quotes_flat')).some((c) => c.startsWith('venue ')));
  });
});
