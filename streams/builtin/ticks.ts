// Market ticks: the second declared stream. Its topic, tables and rules are all here; the pipeline
// carries it like any other stream. Candles are kept by the statements in ./candles.ts.
import { defineStream } from '../public';
import { eventTimeIssue } from '../time';
import { CANDLE_STEPS } from '../ticks/candles';
import { enrichTick } from '../ticks/enrich';
import { MAX_TICK_SKEW_MS, tickSchema } from '../ticks/schema';
import { ticksSynthetic } from '../ticks/synthetic';
import { ASSET_CLASSES, SESSIONS, TICK_SOURCES } from '../ticks/vocabulary';

export default defineStream({
  name: 'ticks',
  schema: tickSchema(),
  enrich: (t) => ({ ...enrichTick(t) }),
  checkReferenceTime: (t, { referenceTimeMs }) => eventTimeIssue('event_ts', t.event_ts.getTime(), referenceTimeMs, MAX_TICK_SKEW_MS),
  rawTable: 'raw_ticks',
  flatTable: 'ticks_flat',
  key: { name: 'tick_id', type: 'uuid' },
  eventTimeColumn: 'event_ts',
  columns: [
    { name: 'symbol', type: 'text', notNull: true },
    { name: 'source', type: 'text', notNull: true, acceptedValues: TICK_SOURCES },
    { name: 'asset_class', type: 'text', notNull: true, acceptedValues: ASSET_CLASSES },
    { name: 'event_ts', type: 'timestamptz', notNull: true },
    { name: 'event_date', type: 'date', notNull: true },
    { name: 'event_hour', type: 'smallint', notNull: true },
    { name: 'event_dayofweek', type: 'text', notNull: true },
    { name: 'minute_ts', type: 'timestamptz', notNull: true },
    { name: 'session', type: 'text', notNull: true, acceptedValues: SESSIONS },
    { name: 'price', type: 'numeric(20,8)', notNull: true },
    { name: 'volume', type: 'numeric(28,8)' },
    { name: 'currency', type: 'text', notNull: true },
    { name: 'exchange', type: 'text' },
  ],
  afterMergeSql: CANDLE_STEPS,
  synthetic: ticksSynthetic,
  // price is numeric(20,8): scaled_float with factor 10^8 holds every price below ~9.2e10 exactly
  // (a larger one is a rejected document, recorded, not a rounded one). volume is no money: a double
  // for ranges and sums, its exact decimal text in _source.
  search: {
    topTerms: 'symbol',
    fields: {
      tick_id: 'keyword',
      symbol: 'keyword',
      source: 'keyword',
      asset_class: 'keyword',
      event_ts: 'date',
      event_date: 'date',
      event_hour: 'short',
      event_dayofweek: 'keyword',
      minute_ts: 'date',
      session: 'keyword',
      price: { type: 'scaled_float', scalingFactor: 100_000_000 },
      volume: 'double',
      currency: 'keyword',
      exchange: 'keyword',
    },
  },
});
