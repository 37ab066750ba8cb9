/**
 * Moved to `common/classify.ts` (it runs on both sides); this re-export keeps `hooks/` working
 * until its imports point there.
 *
 * @module
 */
export * from "../common/classify.ts";
