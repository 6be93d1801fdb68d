// The recorded market API responses under test/fixtures/market/ (see its README).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/config';
import { parseChart, ticksFromChart } from '../../sources/market/yahoo';
import type { TickEvent } from '../../streams/ticks/schema';

export const MARKET_FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures', 'market');

/** A fixture file by its path under test/fixtures/market, parsed (a fresh copy each call). */
export const fixture = (file: string): unknown => JSON.parse(readFileSync(path.join(MARKET_FIXTURES, file), 'utf8'));

/** The ticks the Yahoo adapter makes of a recording, e.g. yahooTicks('AAPL', '.later'). */
export const yahooTicks = (symbol: string, variant = ''): TickEvent[] =>
  ticksFromChart(symbol, parseChart(symbol, fixture(`yahoo/${symbol}${variant}.json`)));
