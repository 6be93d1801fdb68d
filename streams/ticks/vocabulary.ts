export const TICK_SOURCES = ['simulator', 'yahoo', 'finnhub', 'cryptocompare'] as const;
export type TickSource = (typeof TICK_SOURCES)[number];

export const ASSET_CLASSES = ['stock', 'crypto'] as const;
export type AssetClass = (typeof ASSET_CLASSES)[number];

/** Stocks trade in sessions (US exchange hours); crypto trades around the clock ('continuous'). */
export const SESSIONS = ['pre', 'regular', 'post', 'closed', 'continuous'] as const;
export type Session = (typeof SESSIONS)[number];
