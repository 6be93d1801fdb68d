// The demo with the search sink on (SEARCH_SINK=true): waits while the in-process worker's search
// lane indexes what the run loaded, then says whether the index holds the flat table's rows.
import type pg from 'pg';
import type { Config } from '../../lib/config';
import { aliasName, createSearchClient } from '../../lib/search';
import { searchLag } from '../../lib/search-state';
import { ident } from '../../lib/sql';
import { getStream } from '../../streams';
import { fmt } from '../output';

const WAIT_MS = 5 * 60_000;

export async function reportSearchIndex(config: Config, pool: pg.Pool, stream: string, say: (line: string) => void): Promise<void> {
  const spec = getStream(stream);
  if (!config.SEARCH_SINK || !spec.search) return;
  const deadline = Date.now() + WAIT_MS;
  let lag = await searchLag(pool, stream, spec.flatTable);
  while (lag.rowsBehind > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    lag = await searchLag(pool, stream, spec.flatTable);
  }
  if (lag.rowsBehind > 0) {
    say(
      `Search index: ${fmt(lag.rowsBehind)} rows not indexed yet after ${WAIT_MS / 60_000} min; the lane goes on with the next worker (etl search status)`,
    );
    return;
  }
  const client = createSearchClient(config);
  try {
    const alias = aliasName(config, stream);
    await client.indices.refresh({ index: alias });
    const docs = Number((await client.count({ index: alias })).body.count);
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${ident(spec.flatTable)}`);
    const flat = Number(rows[0]!.n);
    const same = docs + lag.docsRejected === flat;
    say(
      `Search index ${alias}: ${fmt(docs)} documents, ${fmt(lag.docsRejected)} refused (etl search rejected); ` +
        `${spec.flatTable} has ${fmt(flat)} rows${same ? ': every row is in the index' : ': MISMATCH, see etl search status'}`,
    );
  } catch (err) {
    say(`Search index: could not be read (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    await client.close();
  }
}
