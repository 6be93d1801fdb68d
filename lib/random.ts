// A small seedable PRNG (splitmix32 seeding + mulberry32), so synthetic data is reproducible
// event by event: event i depends only on (seed, i), which lets a retried producer resume mid-way.

function splitmix32(a: number): number {
  a = (a + 0x9e3779b9) | 0;
  let t = a ^ (a >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  return (t ^ (t >>> 15)) >>> 0;
}

/** Eight lowercase hex digits of a uniform [0, 1) draw scaled to 32 bits. */
function hex8(u: number): string {
  return (Math.floor(u * 0x100000000) >>> 0).toString(16).padStart(8, '0');
}

/** RFC 4122 variant: the nibble's two high bits set to 10, indexed by the char code of the hex digit drawn. */
const VARIANT_NIBBLE: Record<number, string> = Object.fromEntries(
  [...'0123456789abcdef'].map((ch) => [ch.charCodeAt(0), ((parseInt(ch, 16) & 0x3) | 0x8).toString(16)]),
);

export class Rng {
  private state: number;

  constructor(seed: number, stream = 0) {
    this.state = splitmix32(splitmix32(seed >>> 0) ^ splitmix32((stream * 0x85ebca6b) >>> 0)) || 1;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(minInclusive: number, maxInclusive: number): number {
    return minInclusive + Math.floor(this.next() * (maxInclusive - minInclusive + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let r = this.next() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < items.length; i++) {
      r -= weights[i]!;
      if (r < 0) return items[i]!;
    }
    return items[items.length - 1]!;
  }

  /** A version-4 UUID drawn from this generator (on the producer's hot path: no arrays, no parsing). */
  uuid(): string {
    const a = hex8(this.next());
    const b = hex8(this.next());
    const c = hex8(this.next());
    const d = hex8(this.next());
    const variant = VARIANT_NIBBLE[c.charCodeAt(0)]!;
    return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4, 8)}${d}`;
  }
}
