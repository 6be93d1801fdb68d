// Custom search attributes, so the Web UI's workflow list can be filtered by stream and shows
// what each run did. Registered by every worker before it polls (idempotent), because a workflow
// that sets an unregistered attribute fails its task.
import { temporal } from '@temporalio/proto';
import type { NativeConnection } from '@temporalio/worker';

const { INDEXED_VALUE_TYPE_KEYWORD: KEYWORD, INDEXED_VALUE_TYPE_INT: INT } = temporal.api.enums.v1.IndexedValueType;

/** Name -> type; the workflows' copy is workflows/visibility.ts (workflows may not import this file). */
export const SEARCH_ATTRIBUTES = { EtlStream: KEYWORD, EtlStage: KEYWORD, EtlRecordsLoaded: INT, EtlRecordsQuarantined: INT } as const;

export async function ensureSearchAttributes(connection: NativeConnection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.fromEntries(Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !(name in (existing.customAttributes ?? {}))));
  if (Object.keys(missing).length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } catch (err) {
    // Another worker registering at the same moment: fine if they are all there now.
    const after = await connection.operatorService.listSearchAttributes({ namespace });
    if (Object.keys(missing).some((name) => !(name in (after.customAttributes ?? {})))) throw err;
  }
  return Object.keys(missing);
}
