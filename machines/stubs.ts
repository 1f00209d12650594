// machines/stubs.ts: the placeholder every machine declares for an effect the shell provides.
// If src/ forgets one, the machine fails loudly with the action's name instead of doing nothing.
export function notProvided(machine: string, action: string): () => never {
  return () => {
    throw new Error(`${machine} action "${action}" must be provided by the shell (.provide)`);
  };
}
