/**
 * Priority classification: the one function the server (stored column, metrics) and the
 * browser worker both use, so an event is never priority in one place and regular in another.
 *
 * @module
 */

import { DEFAULT_PRIORITY_TYPES } from "./hook_types.ts";

export { CORE_HOOK_TYPES, DEFAULT_PRIORITY_TYPES } from "./hook_types.ts";

/** Decides whether a hook event type is priority. */
export type Classifier = (hookEventType: string) => boolean;

/**
 * Builds a classifier for a set of priority types; every other type, known or not, is regular.
 *
 * @example
 * ```ts
 * const isPriority = createClassifier();
 * isPriority("Stop"); // true
 * isPriority("PreToolUse"); // false
 * ```
 */
export function createClassifier(
  priorityTypes: Iterable<string> = DEFAULT_PRIORITY_TYPES,
): Classifier {
  const set = new Set(priorityTypes);
  return (hookEventType) => set.has(hookEventType);
}

/** The default classifier. */
export const isPriority: Classifier = createClassifier();
