/**
 * Consecutive items split where `kind` changes: [a, a, b, a] -> [[a, a], [b], [a]].
 * The SQL targets turn each run of a batch into one multi-row statement, in order;
 * Redis into one HSET/HDEL.
 */
export function runsOf<T, K>(items: T[], kind: (item: T) => K): T[][] {
  const runs: T[][] = [];
  for (const item of items) {
    const run = runs[runs.length - 1];
    if (run && kind(run[0]) === kind(item)) run.push(item);
    else runs.push([item]);
  }
  return runs;
}
