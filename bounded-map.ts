/**
 * A Map of at most `capacity` entries: adding a key to a full one forgets the
 * oldest. For the API's small caches, which must stay small whatever clients ask.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly capacity: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (this.size >= this.capacity && !this.has(key)) this.delete(this.keys().next().value!);
    return super.set(key, value);
  }
}
