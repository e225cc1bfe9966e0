/** What a simulation injected, by kind (the results file's "faults injected by kind"). */
export class FaultCounts {
  readonly #byKind = new Map<string, number>();

  count(kind: string): void {
    this.#byKind.set(kind, (this.#byKind.get(kind) ?? 0) + 1);
  }

  /** Sorted by kind, so two runs of one seed print the same. */
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.#byKind].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  addTo(totals: Record<string, number>): void {
    for (const [kind, n] of this.#byKind) totals[kind] = (totals[kind] ?? 0) + n;
  }
}
