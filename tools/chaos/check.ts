// One reconciliation check: what was observed against what must hold, with a few examples when not.
export interface Check {
  name: string;
  passed: boolean;
  observed: string;
  expected: string;
  /** Up to a handful of offending ids, keys or ranges. */
  examples?: string[];
}

export function check(
  name: string,
  observed: string | number | bigint,
  expected: string | number | bigint,
  examples?: readonly string[],
): Check {
  const passed = String(observed) === String(expected);
  return {
    name,
    passed,
    observed: String(observed),
    expected: String(expected),
    ...(!passed && examples?.length ? { examples: examples.slice(0, 5) } : {}),
  };
}
