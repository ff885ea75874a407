/**
 * `radledger actor add|passwd|revoke`: the registrar's and hospital IT's actor management from the
 * command line, as an admin does it through the API (POST /api/v1/actors, PUT
 * /api/v1/actors/:id/password, key.revoked), with the same app functions (src/app/actors.ts). The
 * operator who holds the data directory acts as the institution, and the log says so:
 *
 * - add: actor.enrolled signed by the institution; without --public-key the node creates and holds
 *   the actor's key. A first password (--password-stdin) is set by the institution, so the person
 *   chooses their own at the first sign-in.
 * - passwd: a reset (password.set by the institution): every token of the actor is revoked and the
 *   person must choose a new password at the next sign-in, as after an admin's reset through the
 *   API — an operator cannot quietly become someone. Without --password-stdin a random password is
 *   drawn and printed once.
 * - revoke: every active key of the actor (key.revoked: nothing they sign is admitted afterwards)
 *   and every token (token.revoked), at once.
 *
 * Passwords are read from stdin, never from the command line (which other users can see).
 * Local operations of the node (src/app/operations.ts): run here, or inside a running
 * `radledger serve` through its local socket.
 */
import type { Command } from "commander";
import { randomBytes } from "node:crypto";
import { ACTOR_ID_PATTERN } from "../../core/entry.js";
import { RadledgerError } from "../../core/errors.js";
import { GRANTABLE_ROLES } from "../../domain/identity/roles.js";
import { KEY_REVOCATION_REASONS } from "../../app/actors.js";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../../ports/auth.js";
import { runWritingOperation } from "../operations.js";
import { printJson } from "../output.js";

const KINDS = ["staff", "patient", "system"] as const;

function actorIdOption(option: string, id: string): string {
  if (!ACTOR_ID_PATTERN.test(id)) throw new RadledgerError("CLI_USAGE", `${option} is not an actor id`);
  return id;
}

/** The first line of stdin: the password, checked against the API's bounds. */
async function passwordFromStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new RadledgerError(
      "CLI_USAGE",
      "--password-stdin reads the password from a pipe, e.g. printf '%s' \"$PW\" |",
    );
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const password = Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH)
    throw new RadledgerError(
      "CLI_USAGE",
      `the password has ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
    );
  return password;
}

export function registerActor(program: Command): void {
  const actor = program
    .command("actor")
    .description("enrol actors, reset their passwords, revoke them (as the institution, on the log)");

  actor
    .command("add")
    .description("enrol a person, patient or system with roles; the node holds its key unless --public-key")
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--id <actor>", "the new actor's id (e.g. rad-neuro-2)")
    .requiredOption("--kind <kind>", KINDS.join(", "))
    .requiredOption("--roles <roles>", `comma-separated: ${GRANTABLE_ROLES.join(", ")}`)
    .option("--name <display name>", "how colleagues recognise them (staff and systems)")
    .option("--specialty <code>", "e.g. neuroradiology (staff)")
    .option(
      "--organisation <name>",
      "another organisation's staff: its name as its records spell it (a sponsor's monitor names the sponsor)",
    )
    .option("--patient <pseudonym>", "the pseudonym a patient actor speaks for (pt_…)")
    .option(
      "--public-key <base64>",
      "the actor's own Ed25519 public key (the node then holds no key for them)",
    )
    .option(
      "--password-stdin",
      "set a first password read from stdin (the person replaces it at the first sign-in)",
    )
    .option("--json", "print the enrolment as JSON")
    .action(
      async (o: {
        data: string;
        id: string;
        kind: string;
        roles: string;
        name?: string;
        specialty?: string;
        organisation?: string;
        patient?: string;
        publicKey?: string;
        passwordStdin?: boolean;
        json?: boolean;
      }) => {
        actorIdOption("--id", o.id);
        if (!(KINDS as readonly string[]).includes(o.kind))
          throw new RadledgerError("CLI_USAGE", `--kind must be one of ${KINDS.join(", ")}`);
        const roles = o.roles.split(",").map((r) => r.trim());
        const unknown = roles.find((r) => !(GRANTABLE_ROLES as readonly string[]).includes(r));
        if (unknown !== undefined)
          throw new RadledgerError(
            "CLI_USAGE",
            `--roles: ${unknown.slice(0, 40)} is not a role; one of ${GRANTABLE_ROLES.join(", ")}`,
          );
        const password = o.passwordStdin ? await passwordFromStdin() : undefined;
        const r = await runWritingOperation(o.data, "actor-add", {
          actorId: o.id,
          kind: o.kind as (typeof KINDS)[number],
          roles,
          ...(o.name === undefined ? {} : { displayName: o.name }),
          ...(o.specialty === undefined ? {} : { specialty: o.specialty }),
          ...(o.organisation === undefined ? {} : { organisation: o.organisation }),
          ...(o.patient === undefined ? {} : { patient: o.patient }),
          ...(o.publicKey === undefined ? {} : { publicKey: o.publicKey }),
          ...(password === undefined ? {} : { password }),
        });
        if (o.json) printJson(r);
        else
          process.stdout.write(
            `enrolled ${o.id} (${o.kind}; ${roles.join(", ")}) at log index ${r.index}${r.keyHeld ? "; the node holds its key" : ""}${r.passwordSet ? "; first password set (to be changed at the first sign-in)" : ""}\n`,
          );
      },
    );

  actor
    .command("passwd")
    .description(
      "reset an actor's password: revokes all their tokens; they must choose a new one at the next sign-in",
    )
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--actor <id>", "the actor")
    .option("--password-stdin", "read the new password from stdin (otherwise a random one is printed once)")
    .option("--json", "print the result (and a generated password) as JSON")
    .action(async (o: { data: string; actor: string; passwordStdin?: boolean; json?: boolean }) => {
      actorIdOption("--actor", o.actor);
      const generated = o.passwordStdin ? undefined : randomBytes(18).toString("base64url");
      const password = generated ?? (await passwordFromStdin());
      const r = await runWritingOperation(o.data, "actor-passwd", { actor: o.actor, password });
      if (o.json) printJson({ ...r, ...(generated === undefined ? {} : { password: generated }) });
      else {
        if (generated !== undefined) process.stdout.write(`${generated}\n`);
        process.stderr.write(
          `password of ${o.actor} reset by the institution (on the log); ${r.revokedTokens} token(s) revoked; they choose a new one at the next sign-in\n`,
        );
      }
    });

  actor
    .command("revoke")
    .description(
      "revoke an actor's keys (they sign nothing more) and tokens (they read nothing more), at once",
    )
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--actor <id>", "the actor")
    .option("--reason <reason>", KEY_REVOCATION_REASONS.join(", "), "left")
    .option("--json", "print the revoked keys and tokens as JSON")
    .action(async (o: { data: string; actor: string; reason: string; json?: boolean }) => {
      actorIdOption("--actor", o.actor);
      if (!(KEY_REVOCATION_REASONS as readonly string[]).includes(o.reason))
        throw new RadledgerError("CLI_USAGE", `--reason must be one of ${KEY_REVOCATION_REASONS.join(", ")}`);
      const r = await runWritingOperation(o.data, "actor-revoke", {
        actor: o.actor,
        reason: o.reason as (typeof KEY_REVOCATION_REASONS)[number],
      });
      if (o.json) printJson(r);
      else
        process.stdout.write(
          `revoked ${o.actor}: ${r.keys.length} key(s) (key.revoked) and ${r.tokens.length} token(s), on the log\n`,
        );
    });
}
