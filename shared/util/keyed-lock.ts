/**
 * Mutual exclusion by key within one process: work holding a key runs after the earlier holders of that key
 * are done, in the order it asked. Work that needs several keys takes them in one global order (sorted), so
 * two such callers never wait for each other in a circle.
 */
export class KeyedLock {
  /** The last holder's release of each key held or waited for. */
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` holding every key of `keys` (none: at once), and releases them when it settles. */
  async run<T>(keys: Iterable<string>, fn: () => Promise<T>): Promise<T> {
    const releases: (() => void)[] = [];
    try {
      for (const key of [...new Set(keys)].sort()) releases.push(await this.#acquire(key));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  /** Whether any work holds or waits for `key`. */
  held(key: string): boolean {
    return this.#tails.has(key);
  }

  async #acquire(key: string): Promise<() => void> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.#tails.set(key, tail);
    await before;
    return () => {
      release();
      // The last in line leaves no entry behind: the map holds only keys in use.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}
