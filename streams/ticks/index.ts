// The ticks stream is declared in ../builtin/ticks.ts, loaded like any declaration (../loader.ts);
// its rules live in this folder. Tests and tools reach the declared stream from here.
import ticksStream from '../builtin/ticks';

export { ticksStream };

/** zod parse + enrichment of one decoded event (exported for unit tests and the generator). */
export const validateTick = ticksStream.validate;
