// How a parked bronze object (lib/parked.ts says what parked means) is named in a message: by the
// run that parked it (workflows/objects.ts) and by the checks and commands that list it. Pure, so
// workflows may import it.

/** "#12 (UNKNOWN_ERROR at load: boom)", the message cut to `messageChars`. */
export function describeParked(p: { id: number; code: string; step: string; message: string }, messageChars = 120): string {
  const message = p.message.length > messageChars ? `${p.message.slice(0, messageChars - 1)}…` : p.message;
  return `#${p.id} (${p.code} at ${p.step}: ${message})`;
}
