/**
 * Runs tasks one at a time per key, in arrival order; different keys run concurrently.
 *
 * Why: a hot merchant account receives many commands at once. Deciding them one after another against
 * the in-memory state means each append carries the right expected revision first time, instead of all
 * racing, all but one failing, and all retrying.
 */
export class KeyedSerialQueue {
  private readonly tails = new Map<string, { promise: Promise<unknown>; waiting: number }>();

  constructor(private readonly maxWaitingPerKey: number) {}

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const tail = this.tails.get(key);
    if (tail && tail.waiting >= this.maxWaitingPerKey) {
      return Promise.reject(new QueueFullError(key, this.maxWaitingPerKey));
    }
    const entry = tail ?? { promise: Promise.resolve(), waiting: 0 };
    entry.waiting += 1;
    const result = entry.promise.then(task, task);
    entry.promise = result.then(
      () => this.release(key, entry),
      () => this.release(key, entry),
    );
    this.tails.set(key, entry);
    return result;
  }

  private release(key: string, entry: { waiting: number }): void {
    entry.waiting -= 1;
    if (entry.waiting === 0 && this.tails.get(key) === entry) this.tails.delete(key);
  }
}

export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(readonly key: string, readonly limit: number) {
    super(`more than ${limit} commands are waiting for ${key}`);
  }
}
