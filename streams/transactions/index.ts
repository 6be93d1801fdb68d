// The transactions stream is declared in ../builtin/transactions.ts, loaded like any declaration (../loader.ts);
// its rules live in this folder. Tests and tools reach the declared stream from here.
import transactionsStream from '../builtin/transactions';

export { transactionsStream };

/** zod parse + enrichment of one decoded event (exported for unit tests and the generator). */
export const validateTransaction = transactionsStream.validate;
