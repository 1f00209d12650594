// src/config/did-you-mean.ts: the "did you mean" of an unknown flag, config key or option name.
//
// Names are compared without case, dashes and underscores, so that `--prot` finds `--port`,
// `maxRequestBodysize` finds `maxRequestBodySize` and a snake_case name given to the library finds
// its camelCase twin. Distance is Damerau's (optimal string alignment): a swap of two letters,
// the commonest typo, costs 1.

const bare = (name: string) => name.toLowerCase().replace(/[-_]/g, '');

/** Edits (insert, delete, replace, swap neighbours) from a to b. */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * `; did you mean --port?` when one of `candidates` is near `word` (a third of its letters or
 * fewer changed), else an empty string: a suffix for "is not an option".
 */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const typed = bare(word);
  const allowed = Math.max(1, Math.floor(typed.length / 3));
  let closest: string | undefined;
  let closestDistance = allowed + 1;
  for (const candidate of candidates) {
    const d = distance(typed, bare(candidate));
    if (d < closestDistance) [closest, closestDistance] = [candidate, d];
  }
  return closest === undefined ? '' : `; did you mean ${closest}?`;
}
