/**
 * The demo's sign-in users (issue 20): one person per persona of the web application — a patient, a
 * radiologist, a clinician, an auditor, a trial coordinator, a sponsor's monitor, a curator, a
 * researcher and the admin — each with a password, so a newcomer who runs `npm start` can sign in as
 * each and see their pages.
 *
 * The passwords are drawn at random on each demo run (never in the repository), written to
 * DIR/demo-users.json (mode 0600, beside the node's own keys) and printed by `radledger demo
 * --serve`. Each is set through the same credentials code as the API (src/app/credentials.ts), so
 * every one is a password.set entry on the log, signed by the institution.
 *
 * Unlike an admin's reset (docs/security.md "Tokens and delegation"), a demo password is recorded as
 * set by the person themself (setBy = the actor), so the first sign-in is not sent to choose a new
 * one. That is acceptable here only: the people are invented, the log is a local sandbox whose
 * operator is its only user, and the file that holds the passwords is the operator's. A real node
 * never does this — its admins' resets name the admin and force the change at sign-in.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RadledgerError } from "../../core/errors.js";
import { getActor } from "../../domain/identity/state.js";
import type { AuthStore } from "../../ports/auth.js";
import { setPassword } from "../credentials.js";
import type { RadledgerNode } from "../node.js";

export interface DemoUser {
  readonly actor: string;
  readonly persona: string;
  readonly displayName: string;
  readonly roles: readonly string[];
  readonly password: string;
}

/** One sign-in-able actor per persona, in the order the table lists them. */
export const DEMO_PERSONAS: readonly { readonly persona: string; readonly actor: string }[] = [
  { persona: "patient", actor: "patient-0001" },
  { persona: "radiologist", actor: "rad-neuro-1" },
  { persona: "clinician", actor: "clin-er-1" },
  { persona: "auditor", actor: "auditor-1" },
  { persona: "trial coordinator", actor: "trial-coord-1" },
  { persona: "sponsor's monitor", actor: "sponsor-monitor-1" },
  { persona: "dataset curator", actor: "curator-1" },
  { persona: "researcher", actor: "researcher-1" },
  { persona: "admin", actor: "admin" },
];

export const demoUsersPath = (dir: string): string => join(dir, "demo-users.json");

/** 18 random bytes as base64url: 24 characters, 144 bits. */
function randomPassword(node: RadledgerNode): string {
  return Buffer.from(node.crypto.randomBytes(18)).toString("base64url");
}

/**
 * Gives each persona's actor a fresh random password (a password.set entry each) and writes
 * DIR/demo-users.json, mode 0600. Run once, when the demo is seeded.
 */
export async function enrolDemoUsers(node: RadledgerNode, auth: AuthStore): Promise<DemoUser[]> {
  const users: DemoUser[] = [];
  for (const { persona, actor } of DEMO_PERSONAS) {
    const doc = getActor(node.store, actor);
    if (!doc) throw new RadledgerError("ACTOR_UNKNOWN", `the demo has no actor ${actor}`);
    const password = randomPassword(node);
    // Set by the actor themself: a demo user signs in at once (see the comment at the top).
    await setPassword(node, auth, actor, password, actor);
    users.push({
      actor,
      persona,
      // A patient actor carries no name on the log; the demo's table still says who it is.
      displayName: typeof doc.displayName === "string" ? doc.displayName : `Demo patient (${actor})`,
      roles: doc.roles,
      password,
    });
  }
  const path = demoUsersPath(node.dir);
  writeFileSync(path, JSON.stringify(users, null, 2) + "\n", { mode: 0o600 });
  chmodSync(path, 0o600); // also when a file was there already
  return users;
}

/** DIR/demo-users.json, or undefined when the directory has none (not a demo, or an older one). */
export function readDemoUsers(dir: string): DemoUser[] | undefined {
  const path = demoUsersPath(dir);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as DemoUser[];
  } catch {
    throw new RadledgerError("INPUT_INVALID", `${path} is not the demo's users file`);
  }
}

/** The users as a table for a terminal: persona, actor id, name, password. */
export function demoUsersTable(users: readonly DemoUser[]): string {
  const rows = [
    ["persona", "actor id", "name", "password"],
    ...users.map((u) => [u.persona, u.actor, u.displayName, u.password]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map(
      (r) =>
        "  " +
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
    )
    .join("\n");
}
