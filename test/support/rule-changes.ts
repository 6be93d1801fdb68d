// The transactions rules as the replay tests change them, so each test of a replay (from bronze,
// of the quarantine, into the lake or the index) re-derives against the same change.
import { transactionsStream, validateTransaction } from '../../streams/transactions';
import type { StreamSpec } from '../../streams/types';

export interface RuleChange {
  /** "pets", an unknown category before, is read as "entertainment": its quarantined records now pass. */
  petsAreEntertainment?: boolean;
  /** The derived weekday is upper-case: every loaded row's flat columns change. */
  upperCaseWeekday?: boolean;
  /**
   * Flat values derived for these transaction ids, whatever their events say: values PostgreSQL
   * refuses (a CHECK, a numeric overflow) that pass the stream's storability guard, as a rule that
   * missed a case would derive them.
   */
  derived?: Record<string, Record<string, unknown>>;
}

export function changedTransactionRules(change: RuleChange): StreamSpec {
  return {
    ...transactionsStream,
    validate: (v, context) => {
      const pets = change.petsAreEntertainment && (v as { category?: unknown }).category === 'pets';
      const r = validateTransaction(pets ? { ...(v as object), category: 'entertainment' } : v, context);
      if (!r.ok) return r;
      const weekday = change.upperCaseWeekday ? { event_dayofweek: String(r.row.event_dayofweek).toUpperCase() } : {};
      return { ok: true, row: { ...r.row, ...weekday, ...change.derived?.[String(r.row.transaction_id)] } };
    },
  };
}
