// The machine's limit for the load stage: a bare COPY of the very rows the load activity wrote, into
// fresh copies of the same tables (same columns, indexes and constraints, no foreign keys), with no
// staging, dedup or manifest work. The CSV is read out before the clock starts.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type pg from 'pg';
import { ident } from '../../lib/sql';
import { timed } from './stats';

const TABLES = ['raw_transactions', 'transactions_flat'] as const;

async function readCsv(client: pg.PoolClient, src: string, t: string): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  const out = client.query(copyTo(`COPY ${src}.${t} TO STDOUT WITH (FORMAT csv)`));
  for await (const chunk of out) chunks.push(chunk as Buffer);
  return chunks;
}

/** Milliseconds to COPY every row of raw_transactions and transactions_flat into fresh copies. */
export async function bareCopy(pool: pg.Pool, schema: string): Promise<{ rows: number; ms: number }> {
  const src = ident(schema);
  const dst = ident(`${schema}_copy`);
  const client = await pool.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${dst}`);
    let ms = 0;
    let rows = 0;
    for (const table of TABLES) {
      const t = ident(table);
      await client.query(`CREATE TABLE ${dst}.${t} (LIKE ${src}.${t} INCLUDING ALL)`);
      const csv = await readCsv(client, src, t);
      const copied = await timed(() =>
        pipeline(Readable.from(csv), client.query(copyFrom(`COPY ${dst}.${t} FROM STDIN WITH (FORMAT csv)`))),
      );
      ms += copied.ms;
      if (table === 'transactions_flat') {
        const { rows: n } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${dst}.${t}`);
        rows = n[0]!.n;
      }
    }
    return { rows, ms };
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${dst} CASCADE`).catch(() => undefined);
    client.release();
  }
}
