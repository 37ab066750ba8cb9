/**
 * A person's actions on inbox items — acknowledge, snooze, decide a held permission request —
 * each at most once across replicas: under the write lock, the next inbox version, the change,
 * a notice to the replicas.
 *
 * @module
 */
import type { InboxItem } from "../../common/agents.ts";
import { notify, q, type Query, type Tx } from "../store/db.ts";
import { AGENTS_CHANNEL, inboxItemOf } from "./tables.ts";
import { READ_CURSOR } from "./writes.ts";

export type ActionRefusal = "not_found" | "resolved";

/**
 * Acknowledges (`until` null) or snoozes an unresolved item, recording who (`by`); returns the
 * item after it, or why not.
 */
export function* actTx(
  id: number,
  action: "ack" | "snooze",
  until: number | null,
  by: string,
  now: number,
): Tx<InboxItem | ActionRefusal> {
  return yield* changeItem(id, now, "resolved", (version) =>
    q(
      `UPDATE inbox_items SET status = ?, snoozed_until = ?, acted_by = ?, updated_at = ?,
         version = ?
       WHERE id = ? AND status <> 'resolved' RETURNING *`,
      action === "ack" ? "acked" : "snoozed",
      action === "ack" ? null : until,
      by,
      now,
      version,
      id,
    ));
}

/**
 * One change to an inbox item, at most once across replicas: the next inbox version under the
 * cursor lock, `update` (an `UPDATE … RETURNING *` that sets it), then the cursor's version and
 * a notice to the replicas. The item after it, or `refused` (it exists but `update` matched
 * nothing) or `not_found`.
 */
function* changeItem<R extends string>(
  id: number,
  now: number,
  refused: R,
  update: (version: number) => Query,
): Tx<InboxItem | R | "not_found"> {
  const [cursor] = yield q(READ_CURSOR);
  const version = Number(cursor.version) + 1;
  const [row] = yield update(version);
  if (!row) {
    const [existing] = yield q("SELECT id FROM inbox_items WHERE id = ?", id);
    return existing ? refused : "not_found";
  }
  yield q("UPDATE agent_cursor SET version = ? WHERE id = 1", version);
  yield notify(AGENTS_CHANNEL, String(version));
  return inboxItemOf(row, now);
}

/** Why a decision was refused: no such item, or it is not waiting for one (any more). */
export type DecisionRefusal = "not_found" | "not_waiting";

/**
 * Moves a permission item's `decision` from one state to the next, at most once: `hold`
 * (null → waiting, by the request that will answer), `allow` / `deny` (waiting → decided and
 * resolved, by a person) or `expire` (waiting → expired, by the request giving up). Returns the
 * item after it, or why not.
 */
export function* decideTx(
  id: number,
  change:
    | { to: "hold" }
    | { to: "expire" }
    | { to: "allow" | "deny"; message: string | null; by: string },
  now: number,
): Tx<InboxItem | DecisionRefusal> {
  return yield* changeItem(id, now, "not_waiting", (version) => {
    if (change.to === "hold") {
      return q(
        `UPDATE inbox_items SET decision = 'waiting', updated_at = ?, version = ?
         WHERE id = ? AND kind = 'permission' AND status <> 'resolved'
           AND decision IS NULL RETURNING *`,
        now,
        version,
        id,
      );
    }
    if (change.to === "expire") {
      return q(
        `UPDATE inbox_items SET decision = 'expired', updated_at = ?, version = ?
         WHERE id = ? AND decision = 'waiting' RETURNING *`,
        now,
        version,
        id,
      );
    }
    return q(
      `UPDATE inbox_items SET decision = ?, decision_message = ?, decided_by = ?,
         decided_at = ?, status = 'resolved', updated_at = ?, version = ?
       WHERE id = ? AND kind = 'permission' AND status <> 'resolved'
         AND decision = 'waiting' RETURNING *`,
      change.to,
      change.message,
      change.by,
      now,
      now,
      version,
      id,
    );
  });
}
