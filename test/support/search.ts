// What a test of the search sink leaves behind, removed: the stream's lane (a long-lived workflow
// that outlives the runs that started it, so it is ended even when the test failed half-way), then
// the test's own indexes and template.
import type { Client } from '@opensearch-project/opensearch';
import { searchSyncWorkflowId } from '../../activities/search/search-sync';
import { aliasName } from '../../lib/search';
import { connectClient } from '../../lib/temporal';
import type { TestEnv } from './harness';

export async function endSearchLane(env: Pick<TestEnv, 'config'> | undefined, stream = 'transactions'): Promise<void> {
  if (!env) return;
  const temporal = await connectClient(env.config);
  await temporal.workflow
    .getHandle(searchSyncWorkflowId(env.config, stream))
    .terminate('test done')
    .catch(() => undefined);
  await temporal.connection.close();
}

export async function dropTestIndexes(
  env: Pick<TestEnv, 'config'> | undefined,
  search: Client | undefined,
  stream = 'transactions',
): Promise<void> {
  if (!env || !search) return;
  await search.indices.delete({ index: `${env.config.OPENSEARCH_INDEX_PREFIX}*` }).catch(() => undefined);
  await search.indices.deleteIndexTemplate({ name: aliasName(env.config, stream) }).catch(() => undefined);
}
