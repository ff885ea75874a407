/**
 * `radledger token create|list|revoke`: API tokens from the command line, for the first admin of a new
 * node and for integrations. `create` and `revoke` are local operations of the node
 * (src/app/operations.ts): run in this process, or inside a running `radledger serve` through its
 * local socket, and recorded on the log either way (token.issued, token.revoked), issued or revoked
 * by the institution — the operator who holds the data directory. The secret is printed once.
 *
 * `bind-cert` and `unbind-cert` bind a client certificate's key (mutual TLS, RFC 7469 SPKI pin) to a
 * system actor and remove the binding, as local operations too, on the log as cert.bound and
 * cert.unbound by the institution (docs/operations.md "Mutual TLS for system actors").
 *
 * `create` is the operator's bootstrap, for system actors and admins only: a person who is not an
 * admin signs in and mints their own token (docs/security.md "Tokens and delegation").
 */
import type { Command } from "commander";
import { readConfig } from "../../app/data-dir.js";
import { openAuthStore } from "../../wiring/auth.js";
import { RadledgerError } from "../../core/errors.js";
import { ACTOR_ID_PATTERN } from "../../core/entry.js";
import { tokenView } from "../../api/auth.js";
import {
  API_TOKEN_TTL_SECONDS,
  isApiTokenTtl,
  MAX_API_TOKEN_TTL_SECONDS,
  MIN_TOKEN_TTL_SECONDS,
} from "../../ports/auth.js";
import { runWritingOperation } from "../operations.js";
import { printJson } from "../output.js";
import { certificateFacts } from "../../api/client-cert.js";
import { certPin } from "../../domain/identity/credentials.js";
import { readCertificates } from "../tls.js";

/**
 * `--ttl-days` as the whole seconds the API takes for `ttlSeconds` (60 s to 366 days): a plain
 * decimal number of days, rounded to the second, refused outside the API's limits.
 */
export function ttlDaysToSeconds(text: string): number {
  const seconds = /^[0-9]{1,4}(\.[0-9]{1,12})?$/.test(text) ? Math.round(Number(text) * 86400) : NaN;
  if (!isApiTokenTtl(seconds))
    throw new RadledgerError(
      "CLI_USAGE",
      `--ttl-days must be a decimal number of days from ${MIN_TOKEN_TTL_SECONDS} seconds to ${MAX_API_TOKEN_TTL_SECONDS / 86400} days, as the API takes`,
    );
  return seconds;
}

export function registerToken(program: Command): void {
  const token = program
    .command("token")
    .description("issue, list and revoke API bearer tokens; bind client certificates to system actors");

  token
    .command("create")
    .description("issue an API token for an enrolled actor (printed once; only its scrypt hash is kept)")
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--actor <id>", "the enrolled actor the token authenticates")
    .option("--ttl-days <days>", "lifetime in days", String(API_TOKEN_TTL_SECONDS / 86400))
    .option("--label <label>", "what the token is for (shown in token lists)")
    .option("--json", "print the token and its record as JSON")
    .action(async (o: { data: string; actor: string; ttlDays: string; label?: string; json?: boolean }) => {
      const ttlSeconds = ttlDaysToSeconds(o.ttlDays);
      if (!ACTOR_ID_PATTERN.test(o.actor))
        throw new RadledgerError("CLI_USAGE", "--actor is not an actor id");
      if (o.label !== undefined && (o.label.length === 0 || o.label.length > 200))
        throw new RadledgerError("CLI_USAGE", "--label has 1 to 200 characters");
      const issued = await runWritingOperation(o.data, "token-issue", {
        actor: o.actor,
        ttlSeconds,
        ...(o.label === undefined ? {} : { label: o.label }),
      });
      if (o.json) printJson({ token: issued.token, record: tokenView(issued.record) });
      else process.stdout.write(`${issued.token}\n`);
      if (!o.json)
        process.stderr.write(
          `token ${issued.record.id} for ${issued.record.actor}, expires ${new Date(issued.record.expiresAt).toISOString()}; it is shown only now; its issuance is on the log\n`,
        );
    });

  token
    .command("list")
    .description("list token records (never secrets)")
    .requiredOption("--data <dir>", "data directory")
    .option("--actor <id>", "only this actor's tokens")
    .action(async (o: { data: string; actor?: string }) => {
      readConfig(o.data); // a data directory, before its credentials store is opened
      const auth = openAuthStore(o.data);
      try {
        printJson({ items: auth.listTokens(o.actor).map(tokenView) });
      } finally {
        auth.close();
      }
    });

  token
    .command("revoke")
    .description("revoke a token at once (also in a running server)")
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--id <tokenId>", "the token id (16 hex digits; the part after rl_)")
    .action(async (o: { data: string; id: string }) => {
      if (!/^[0-9a-f]{16}$/.test(o.id)) throw new RadledgerError("CLI_USAGE", "--id is 16 hex digits");
      printJson(tokenView(await runWritingOperation(o.data, "token-revoke", { id: o.id })));
    });

  token
    .command("bind-cert")
    .description(
      "bind a client certificate's key (mutual TLS) to a system actor; on the log as cert.bound (also in a running server)",
    )
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--actor <id>", "the enrolled system actor (a PACS, a RIS, an AI platform)")
    .requiredOption("--cert <file>", "the actor's client certificate (PEM; its key is what is bound)")
    .action(async (o: { data: string; actor: string; cert: string }) => {
      if (!ACTOR_ID_PATTERN.test(o.actor))
        throw new RadledgerError("CLI_USAGE", "--actor is not an actor id");
      const facts = certificateFacts(readCertificates("--cert", o.cert)[0]!);
      printJson(
        await runWritingOperation(o.data, "cert-bind", {
          actor: o.actor,
          pin: facts.pin,
          subject: facts.subject.length === 0 ? undefined : facts.subject,
          notAfter: facts.notAfter,
        }),
      );
    });

  token
    .command("unbind-cert")
    .description("remove a client certificate's binding at once; on the log as cert.unbound")
    .requiredOption("--data <dir>", "data directory")
    .option("--cert <file>", "the certificate whose key to unbind (PEM)")
    .option("--pin <sha256>", "or the key's pin (base64 SHA-256 of its SubjectPublicKeyInfo, RFC 7469)")
    .action(async (o: { data: string; cert?: string; pin?: string }) => {
      if ((o.cert === undefined) === (o.pin === undefined))
        throw new RadledgerError("CLI_USAGE", "give one of --cert and --pin");
      const pin =
        o.cert !== undefined ? certificateFacts(readCertificates("--cert", o.cert)[0]!).pin : o.pin!;
      if (!certPin.safeParse(pin).success)
        throw new RadledgerError("CLI_USAGE", "--pin is a base64 SHA-256 (44 characters)");
      printJson(await runWritingOperation(o.data, "cert-unbind", { pin }));
    });
}
