/**
 * The node's alarms for its administrator (DIR/alarms.sqlite; src/ports/alarms.ts): one row per code
 * and subject, counted up when raised again. Node-local, never on the ledger.
 */
import type Database from "better-sqlite3";
import type { ErrorCode } from "../../core/errors.js";
import type { Alarm, AlarmStore } from "../../ports/alarms.js";
import { openSqlite } from "./open.js";

interface Row {
  id: number;
  code: string;
  subject: string;
  message: string;
  first_at: string;
  last_at: string;
  count: number;
  acknowledged_at: string | null;
}

const toAlarm = (r: Row): Alarm => ({
  id: r.id,
  code: r.code as ErrorCode,
  subject: r.subject,
  message: r.message,
  firstAt: r.first_at,
  lastAt: r.last_at,
  count: r.count,
  acknowledgedAt: r.acknowledged_at,
});

export class SqliteAlarmStore implements AlarmStore {
  readonly #db: Database.Database;

  constructor(path: string) {
    this.#db = openSqlite(path, {
      what: "alarms",
      schema: `
      CREATE TABLE IF NOT EXISTS alarms (
        id INTEGER PRIMARY KEY, code TEXT NOT NULL, subject TEXT NOT NULL, message TEXT NOT NULL,
        first_at TEXT NOT NULL, last_at TEXT NOT NULL, count INTEGER NOT NULL, acknowledged_at TEXT,
        UNIQUE (code, subject));
    `,
    });
  }

  raise(alarm: { code: ErrorCode; subject: string; message: string }, time: string): Alarm {
    return toAlarm(
      this.#db
        .prepare(
          `INSERT INTO alarms (code, subject, message, first_at, last_at, count) VALUES (?, ?, ?, ?, ?, 1)
           ON CONFLICT (code, subject) DO UPDATE SET message = excluded.message, last_at = excluded.last_at,
             count = count + 1, acknowledged_at = NULL
           RETURNING *`,
        )
        .get(alarm.code, alarm.subject, alarm.message, time, time) as Row,
    );
  }

  list(options: { all?: boolean; limit?: number } = {}): Alarm[] {
    const limit = Math.max(1, Math.min(options.limit ?? 100, 1000));
    const where = options.all === true ? "" : "WHERE acknowledged_at IS NULL";
    return (
      this.#db
        .prepare(`SELECT * FROM alarms ${where} ORDER BY last_at DESC, id DESC LIMIT ?`)
        .all(limit) as Row[]
    ).map(toAlarm);
  }

  acknowledge(id: number, time: string): Alarm | undefined {
    const r = this.#db
      .prepare("UPDATE alarms SET acknowledged_at = ? WHERE id = ? RETURNING *")
      .get(time, id) as Row | undefined;
    return r === undefined ? undefined : toAlarm(r);
  }

  close(): void {
    this.#db.close();
  }
}
