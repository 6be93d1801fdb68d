// What a run shows in the Web UI's list while it runs: its stream and stage, and its counts as
// search attributes (filterable: `EtlStream = "transactions" AND EtlRecordsQuarantined > 0`) and
// as memo. Names and types mirror lib/search-attributes.ts, which registers them.
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';

const keyword = (name: string, value: string): SearchAttributeUpdatePair => ({ key: { name, type: 'KEYWORD' }, value });
const int = (name: string, value: number): SearchAttributeUpdatePair => ({ key: { name, type: 'INT' }, value });

export function showStage(stream: string, stage: string): void {
  upsertSearchAttributes([keyword('EtlStream', stream), keyword('EtlStage', stage)]);
}

export function showTotals(totals: { rowsInserted: number; quarantined: number }): void {
  upsertSearchAttributes([int('EtlRecordsLoaded', totals.rowsInserted), int('EtlRecordsQuarantined', totals.quarantined)]);
  upsertMemo({ totals });
}
