/**
 * One lock per instance: whatever changes where an instance is or whether it runs (a move step,
 * start/stop, delete, a change of its limits) holds the instance's lock, so two such changes never
 * interleave on one instance. Different instances never wait for each other, and nothing holds two
 * instance locks at once, so there is no lock order to get wrong.
 */
export class InstanceLocks {
  /** key → the tail of its queue: resolves when the last holder queued so far is done. */
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs fn while holding the lock of project/name; waiters run in the order they asked. */
  async with<T>(project: string, name: string, fn: () => Promise<T> | T): Promise<T> {
    const key = `${project}/${name}`;
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Whether someone holds or waits for the lock (tests, diagnostics). */
  busy(project: string, name: string): boolean {
    return this.tails.has(`${project}/${name}`);
  }
}
