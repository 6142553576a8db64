// Lookup tables keyed by words that come from outside (CLI arguments,
// control requests, configuration files, IKE proposals). A plain object
// literal inherits Object.prototype, so `TABLE['toString']` or
// `TABLE['constructor']` is a function, not undefined, and a check such as
// `if (TABLE[word] === undefined) throw …` lets the word through (found by
// the control-handler fuzz: `link add … kind toString` threw a TypeError).
// wordTable copies the entries into an object with no prototype.

/** A frozen table whose only keys are those of `entries` (no inherited toString, constructor, __proto__). */
export function wordTable<K extends string, T>(entries: Readonly<Record<K, T>>): Readonly<Record<K, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<K, T>, entries));
}
