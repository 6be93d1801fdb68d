// How each simulated symbol trades: start price, volatility, trade sizes. The defaults are listed;
// any other symbol gets a stable made-up profile, so `--symbols` accepts whatever a user types.
import type { AssetClass } from './vocabulary';

export interface SymbolProfile {
  symbol: string;
  assetClass: AssetClass;
  startPrice: number;
  /** Annualised volatility of log returns. */
  volatility: number;
  exchange: string | null;
  /** Median quantity of one tick in full activity (shares, coins); ticks are log-normal around it. */
  medianVolume: number;
  volumeDecimals: number;
}

const KNOWN: Record<string, Omit<SymbolProfile, 'symbol'>> = {
  AAPL: { assetClass: 'stock', startPrice: 190, volatility: 0.25, exchange: 'NASDAQ', medianVolume: 100, volumeDecimals: 0 },
  MSFT: { assetClass: 'stock', startPrice: 420, volatility: 0.22, exchange: 'NASDAQ', medianVolume: 60, volumeDecimals: 0 },
  GOOGL: { assetClass: 'stock', startPrice: 170, volatility: 0.3, exchange: 'NASDAQ', medianVolume: 120, volumeDecimals: 0 },
  'BTC-USD': { assetClass: 'crypto', startPrice: 65_000, volatility: 0.55, exchange: null, medianVolume: 0.02, volumeDecimals: 6 },
  'ETH-USD': { assetClass: 'crypto', startPrice: 3_400, volatility: 0.7, exchange: null, medianVolume: 0.3, volumeDecimals: 5 },
};

const CRYPTO_PAIR = /-(USD|USDT|USDC|EUR|GBP|BTC|ETH)$/;

/** A stable number in [0, 1) per symbol, so an unknown symbol always starts at the same price. */
function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 4294967296;
}

/** The known symbols as they trade; any other: a crypto pair if it reads like one, else a stock. */
export function profileOf(symbol: string): SymbolProfile {
  const known = KNOWN[symbol];
  if (known) return { symbol, ...known };
  const u = unitHash(symbol);
  if (CRYPTO_PAIR.test(symbol)) {
    const startPrice = Math.round(0.5 * 10 ** (4 * u) * 1e4) / 1e4; // 0.5 .. 5,000
    return {
      symbol,
      assetClass: 'crypto',
      startPrice,
      volatility: 0.8,
      exchange: null,
      medianVolume: 1_000 / startPrice,
      volumeDecimals: 6,
    };
  }
  return {
    symbol,
    assetClass: 'stock',
    startPrice: Math.round((20 + 480 * u) * 100) / 100,
    volatility: 0.3,
    exchange: null,
    medianVolume: 100,
    volumeDecimals: 0,
  };
}
