/** A wait for a slot that ran out of time: every slot stayed taken. */
export class NoFreeSlotError extends Error {
  constructor(
    readonly size: number,
    readonly waitedMs: number,
  ) {
    super(`all ${size} slots stayed taken for ${waitedMs} ms`);
  }
}

/**
 * At most `size` holders at a time. Others wait, first come first served, each up
 * to its own limit; a slot given back goes straight to the longest waiting.
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<(release: () => void) => void> = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  /** A slot, as the function that gives it back (once; later calls do nothing). */
  take(waitMs: number): Promise<() => void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = (release: () => void): void => {
        clearTimeout(timer);
        resolve(release);
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(grant), 1);
        reject(new NoFreeSlotError(this.size, waitMs));
      }, waitMs);
      this.waiting.push(grant);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next === undefined) this.free++;
      else next(this.releaser());
    };
  }
}
