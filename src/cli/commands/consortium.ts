/**
 * `radledger consortium …`: configure the peers this node witnesses and mirrors, the witnesses that
 * cosign its checkpoints and the quorum, and show status, alarms and evidence (docs/consortium.md).
 * Configuration changes take effect at the next `radledger serve`.
 */
import type { Command } from "commander";
import { RadledgerError } from "../../core/errors.js";
import { formatPolicy } from "../../core/policy.js";
import { readConfig } from "../../app/data-dir.js";
import { currentLogVerifierKey } from "../../app/keys.js";
import {
  addPeer,
  addWitness,
  createWitnessKey,
  ownPolicy,
  readConsortiumConfig,
  requireWitnessKey,
  removePeer,
  removeWitness,
  setQuorum,
} from "../../app/consortium/config.js";
import { readConsortiumStatus, readEvidence, type ConsortiumStatus } from "../../app/consortium/status.js";
import { consortiumPorts } from "../../wiring/consortium.js";
import { printJson } from "../output.js";

const crypto = consortiumPorts.crypto;

const ago = (at: number | undefined): string =>
  at === undefined ? "never" : `${Math.max(0, Math.round((Date.now() - at) / 1000))} s ago`;

function printStatus(s: ConsortiumStatus): void {
  const out: string[] = [];
  out.push(`origin     ${s.origin} (log size ${s.logSize})`);
  const pub = s.cosigning.published;
  out.push(
    `published  ${pub ? `size ${pub.size}, ${pub.final ? "final" : "not final"}, cosigned by ${pub.witnesses.join(", ") || "no witness"}` : "nothing yet"}; quorum ${s.cosigning.quorum}; newest final size ${s.cosigning.finalSize ?? "none"}`,
  );
  for (const w of s.cosigning.witnesses)
    out.push(
      `witness    ${w.name} ${w.url}: ${w.failures === 0 ? "ok" : `${w.failures} failures`}, last cosignature ${ago(w.lastSuccessAt)}${w.lastError && w.failures > 0 ? ` — ${w.lastError.code}: ${w.lastError.message}` : ""}`,
    );
  if (s.witness) {
    out.push(`our witness ${s.witness.vkey}`);
    for (const l of s.witness.logs) out.push(`  cosigned  ${l.origin} size ${l.size} (${ago(l.updatedAt)})`);
  }
  for (const m of s.mirrors)
    out.push(
      `mirror     ${m.origin}: ${m.state}, ${m.mirroredSize} entries, checkpoint ${m.checkpointSize}${m.lastError ? ` — ${m.lastError.code}: ${m.lastError.message}` : ""}`,
    );
  out.push(
    `anchoring  ${s.anchoring.configured ? (s.anchoring.latest ? `size ${s.anchoring.latest.size} in ${s.anchoring.latest.txHash}` : "configured, nothing anchored yet") : "not configured"}`,
  );
  out.push(
    s.alarms.equivocations > 0
      ? `ALARM      ${s.alarms.equivocations} equivocation(s) proven:`
      : `alarms     none${s.alarms.unproven > 0 ? ` (${s.alarms.unproven} unproven observation(s))` : ""}`,
  );
  for (const e of s.alarms.evidence)
    out.push(`  #${e.id} ${e.kind} (${e.source}) ${e.summary}  → radledger consortium evidence ${e.id}`);
  process.stdout.write(out.join("\n") + "\n");
}

export function registerConsortium(program: Command): void {
  const c = program
    .command("consortium")
    .description("witnessing, mirroring and alarms between the logs of a consortium (docs/consortium.md)");

  c.command("init-witness")
    .description("create this node's witness key (DIR/keys/witness.key) and print its verifier key")
    .requiredOption("--data <dir>", "data directory")
    .option("--name <name>", "witness key name (default: the origin with /log replaced by /witness)")
    .action((o: { data: string; name?: string }) => {
      process.stdout.write(createWitnessKey(crypto, o.data, o.name) + "\n");
    });

  c.command("info")
    .description("print what peers need to configure this node: origin, log key, witness key")
    .requiredOption("--data <dir>", "data directory")
    .option("--witness-key", "print only the witness's verifier key (one line, for scripts)")
    .option("--json", "print as JSON")
    .action((o: { data: string; json?: boolean; witnessKey?: boolean }) => {
      const config = readConfig(o.data);
      const info = {
        origin: config.origin,
        name: config.institutionName,
        logKey: currentLogVerifierKey(crypto, o.data),
        witnessKey: requireWitnessKey(crypto, o.data),
      };
      if (o.witnessKey) process.stdout.write(info.witnessKey + "\n");
      else if (o.json) printJson(info);
      else
        process.stdout.write(
          `origin       ${info.origin}\nlog key      ${info.logKey}\nwitness key  ${info.witnessKey}\n`,
        );
    });

  c.command("add-peer")
    .description("witness and mirror a peer's log: its origin, URL (monitoring prefix) and log verifier key")
    .argument("<origin>", "the peer's log origin")
    .argument("<url>", "the peer's base URL (serves /checkpoint and /tile/…)")
    .argument("<vkey>", "the peer's log verifier key (radledger key on the peer)")
    .requiredOption("--data <dir>", "data directory")
    .action((origin: string, url: string, vkey: string, o: { data: string }) => {
      const next = addPeer(crypto, o.data, origin, url, vkey);
      process.stdout.write(`peers: ${next.peers.map((p) => p.origin).join(", ")}\n`);
    });

  c.command("remove-peer")
    .description("stop witnessing and mirroring a peer (its mirror file is kept)")
    .argument("<origin>")
    .requiredOption("--data <dir>", "data directory")
    .action((origin: string, o: { data: string }) => {
      const next = removePeer(o.data, origin);
      process.stdout.write(`peers: ${next.peers.map((p) => p.origin).join(", ") || "none"}\n`);
    });

  c.command("add-witness")
    .description("ask a witness to cosign this node's checkpoints")
    .argument("<name>", "local name of the witness (used in the policy)")
    .argument("<url>", "the witness's submission prefix (POST <url>/add-checkpoint)")
    .argument("<vkey>", "the witness's cosignature/v1 verifier key (type 0x04)")
    .requiredOption("--data <dir>", "data directory")
    .action((name: string, url: string, vkey: string, o: { data: string }) => {
      const next = addWitness(crypto, o.data, name, url, vkey);
      process.stdout.write(
        `witnesses: ${next.witnesses.map((w) => w.name).join(", ")}; quorum ${next.quorum} (set it with radledger consortium policy K)\n`,
      );
    });

  c.command("remove-witness")
    .description("stop asking a witness for cosignatures")
    .argument("<name>")
    .requiredOption("--data <dir>", "data directory")
    .action((name: string, o: { data: string }) => {
      const next = removeWitness(o.data, name);
      process.stdout.write(
        `witnesses: ${next.witnesses.map((w) => w.name).join(", ") || "none"}; quorum ${next.quorum}\n`,
      );
    });

  c.command("policy")
    .description(
      "set the quorum K (cosignatures that make a checkpoint final) and print the C2SP tlog-policy",
    )
    .argument("[k]", "number of configured witnesses that must cosign (0: none)")
    .requiredOption("--data <dir>", "data directory")
    .action((k: string | undefined, o: { data: string }) => {
      if (k !== undefined) {
        if (!/^(0|[1-9][0-9]{0,2})$/.test(k)) throw new RadledgerError("CLI_USAGE", "K is a whole number");
        setQuorum(o.data, Number(k));
      }
      process.stdout.write(formatPolicy(ownPolicy(crypto, o.data, readConsortiumConfig(o.data))));
    });

  c.command("status")
    .description("witnessing, mirrors, anchoring and equivocation alarms (exit 1 when an alarm is raised)")
    .option("--data <dir>", "data directory (read from its files, also while it is served)")
    .option("--url <url>", "ask a running node instead (its /api/v1/consortium/status)")
    .option("--json", "print as JSON")
    .action(async (o: { data?: string; url?: string; json?: boolean }) => {
      let status: ConsortiumStatus;
      if (o.url) {
        const res = await fetch(`${o.url.replace(/\/+$/, "")}/api/v1/consortium/status`, {
          signal: AbortSignal.timeout(10_000),
        }).catch((e: unknown) => {
          throw new RadledgerError("PEER_UNAVAILABLE", `cannot reach ${o.url}: ${(e as Error).message}`);
        });
        if (!res.ok) throw new RadledgerError("PEER_UNAVAILABLE", `${o.url} answered ${res.status}`);
        status = (await res.json()) as ConsortiumStatus;
      } else if (o.data) {
        status = readConsortiumStatus(o.data, consortiumPorts);
      } else {
        throw new RadledgerError("CLI_USAGE", "give --data DIR or --url URL");
      }
      if (o.json) printJson(status);
      else printStatus(status);
      // An alarm is a verification failure for scripts and monitoring.
      if (status.alarms.equivocations > 0) process.exitCode = 1;
    });

  c.command("evidence")
    .description(
      "list the evidence register, or print one evidence file (check it with radledger verify FILE)",
    )
    .argument("[id]", "evidence id")
    .requiredOption("--data <dir>", "data directory")
    .option("--json", "list as JSON")
    .action((id: string | undefined, o: { data: string; json?: boolean }) => {
      if (id === undefined) {
        const list = readConsortiumStatus(o.data, consortiumPorts).alarms.evidence;
        if (o.json) printJson(list);
        else
          process.stdout.write(
            list.map((e) => `#${e.id} ${e.origin} ${e.kind} (${e.source}) ${e.summary}`).join("\n") +
              (list.length > 0 ? "\n" : "no evidence\n"),
          );
        return;
      }
      if (!/^[1-9][0-9]{0,15}$/.test(id))
        throw new RadledgerError("CLI_USAGE", "evidence id is a positive integer");
      process.stdout.write(readEvidence(o.data, Number(id), consortiumPorts).text);
    });
}
