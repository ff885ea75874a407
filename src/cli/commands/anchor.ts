/**
 * `radledger anchor …`: anchoring checkpoints on the consortium's EVM chain (docs/evm-anchoring.md,
 * docs/consortium.md). Keys are read from files (mode 0600 once stored), never from the command line,
 * and never printed.
 */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { RadledgerError } from "../../core/errors.js";
import { readConfig } from "../../app/data-dir.js";
import { currentLogVerifierKey } from "../../app/keys.js";
import { openNode } from "../../wiring/node.js";
import { ConsortiumService } from "../../app/consortium/service.js";
import { consortiumPorts, consortiumStorage } from "../../wiring/consortium.js";
import { evmAnchoring, type MemberInput } from "../../wiring/evm.js";
import {
  consortiumPaths,
  readConsortiumConfig,
  readEvmKey,
  requireWitnessKey,
  setAnchorConfig,
  writeEvmKey,
} from "../../app/consortium/config.js";
import { existsSync } from "node:fs";
import { printJson } from "../output.js";

function readKeyFile(file: string): `0x${string}` {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch {
    throw new RadledgerError("STORE_NOT_FOUND", `cannot read ${file}`);
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(text))
    throw new RadledgerError("EVM_INVALID_CONFIG", `${file} must hold 0x followed by 64 hex digits`);
  return text as `0x${string}`;
}

/** A member of the bootstrap set, read from a data directory that has its EVM key stored. */
function memberOf(dir: string): MemberInput {
  const config = readConfig(dir);
  return {
    origin: config.origin,
    account: evmAnchoring.accountOf(readEvmKey(dir)),
    verifierKey: currentLogVerifierKey(consortiumPorts.crypto, dir),
    witnessKey: requireWitnessKey(consortiumPorts.crypto, dir),
  };
}

/** ORIGIN,ACCOUNT,LOGVKEY,WITNESSVKEY (vkeys contain no commas). */
function parseMember(spec: string): MemberInput {
  const parts = spec.split(",");
  if (parts.length !== 4 || !/^0x[0-9a-fA-F]{40}$/.test(parts[1]!))
    throw new RadledgerError("CLI_USAGE", "--member is ORIGIN,ACCOUNT,LOG-VKEY,WITNESS-VKEY");
  return {
    origin: parts[0]!,
    account: parts[1] as `0x${string}`,
    verifierKey: parts[2]!,
    witnessKey: parts[3]!,
  };
}

function anchorConfig(dir: string): { rpcUrl: string; contract: `0x${string}` } {
  const a = readConsortiumConfig(dir).anchor;
  if (!a?.contract)
    throw new RadledgerError(
      "CONSORTIUM_NOT_CONFIGURED",
      "anchoring is not configured (radledger anchor configure --rpc URL --key-file FILE --contract ADDRESS)",
    );
  return { rpcUrl: a.rpcUrl, contract: a.contract as `0x${string}` };
}

export function registerAnchor(program: Command): void {
  const a = program.command("anchor").description("anchor checkpoints on the consortium's EVM chain");

  a.command("configure")
    .description("set the JSON-RPC endpoint, the account key and (once deployed) the contract address")
    .requiredOption("--data <dir>", "data directory")
    .option("--rpc <url>", "JSON-RPC endpoint, e.g. http://127.0.0.1:8545")
    .option(
      "--key-file <file>",
      "file holding the account's private key (0x + 64 hex); copied to DIR/keys/evm.key",
    )
    .option("--contract <address>", "RadledgerConsortium address")
    .option("--interval <seconds>", "seconds between anchoring attempts while serving (default 60)")
    .action((o: { data: string; rpc?: string; keyFile?: string; contract?: string; interval?: string }) => {
      readConfig(o.data);
      const current = readConsortiumConfig(o.data).anchor;
      const rpcUrl = o.rpc ?? current?.rpcUrl;
      if (!rpcUrl) throw new RadledgerError("CLI_USAGE", "give --rpc URL");
      if (o.keyFile) writeEvmKey(o.data, readKeyFile(o.keyFile));
      const contract = o.contract ?? current?.contract;
      const next = setAnchorConfig(o.data, {
        rpcUrl,
        ...(contract === undefined ? {} : { contract }),
        intervalSeconds: o.interval === undefined ? (current?.intervalSeconds ?? 60) : Number(o.interval),
      });
      const account = existsSync(consortiumPaths(o.data).evmKey)
        ? evmAnchoring.accountOf(readEvmKey(o.data))
        : "(no key yet: --key-file)";
      process.stdout.write(
        `anchoring: ${next.anchor!.rpcUrl}, contract ${next.anchor!.contract ?? "(not set)"}, account ${account}, every ${next.anchor!.intervalSeconds} s\n`,
      );
    });

  a.command("deploy")
    .description("deploy RadledgerConsortium with a bootstrap member set and quorum K; prints its address")
    .requiredOption("--rpc <url>", "JSON-RPC endpoint")
    .requiredOption("--key-file <file>", "file holding the deploying account's private key")
    .requiredOption("--quorum <k>", "votes needed to admit or remove members")
    .option("--member-data <dir...>", "members from data directories (their EVM key configured)")
    .option("--member <spec...>", "members as ORIGIN,ACCOUNT,LOG-VKEY,WITNESS-VKEY")
    .option("--json", "print as JSON")
    .action(
      async (o: {
        rpc: string;
        keyFile: string;
        quorum: string;
        memberData?: string[];
        member?: string[];
        json?: boolean;
      }) => {
        const members = [...(o.memberData ?? []).map(memberOf), ...(o.member ?? []).map(parseMember)];
        if (members.length === 0)
          throw new RadledgerError("CLI_USAGE", "give at least one --member-data or --member");
        const client = await evmAnchoring.deploy(
          { rpcUrl: o.rpc, privateKey: readKeyFile(o.keyFile) },
          { members, quorum: Number(o.quorum) },
        );
        if (o.json) printJson({ contract: client.address, members: members.map((m) => m.origin) });
        else process.stdout.write(`${client.address}\n`);
      },
    );

  a.command("now")
    .description("anchor the newest final checkpoint once (the node must not be served meanwhile)")
    .requiredOption("--data <dir>", "data directory")
    .option("--json", "print as JSON")
    .action(async (o: { data: string; json?: boolean }) => {
      anchorConfig(o.data);
      const node = openNode(o.data, { verifyThreads: 0 });
      try {
        const svc = await ConsortiumService.open(node, consortiumPorts, { background: false });
        try {
          const out = await svc.anchorer!.anchorNow();
          if (o.json) printJson(out);
          else if (out.anchored)
            process.stdout.write(
              `anchored size ${out.record.size} in ${out.record.txHash} (block ${out.record.blockNumber}, ${out.record.gasUsed} gas)\n`,
            );
          else process.stdout.write(`nothing anchored: ${out.reason}\n`);
        } finally {
          await svc.close();
        }
      } finally {
        await node.close();
      }
    });

  a.command("status")
    .description("each member's latest anchored size and transaction, and this node's own anchors")
    .requiredOption("--data <dir>", "data directory")
    .option("--json", "print as JSON")
    .action(async (o: { data: string; json?: boolean }) => {
      const { rpcUrl, contract } = anchorConfig(o.data);
      const client = await evmAnchoring.connect({ rpcUrl, privateKey: readEvmKey(o.data) }, contract);
      const members = await client.members();
      const rows = await Promise.all(
        members.map(async (m) => {
          const [latest, events] = await Promise.all([
            client.latest(m.origin),
            client.anchorEvents(m.origin),
          ]);
          const last = events.at(-1);
          return {
            origin: m.origin,
            account: m.account,
            anchoredSize: latest ? Number(latest.size) : undefined,
            root: latest ? Buffer.from(latest.rootHash).toString("base64") : undefined,
            txHash: last?.txHash,
            blockNumber: last === undefined ? undefined : Number(last.blockNumber),
            anchors: events.length,
          };
        }),
      );
      const p = consortiumPaths(o.data).consortiumDb;
      const local = existsSync(p) ? consortiumStorage.openCosignatureStore(p, { readonly: true }) : undefined;
      const own = local?.anchors(5) ?? [];
      local?.close();
      const quorum = Number(await client.quorum());
      if (o.json) {
        printJson({ contract, quorum, members: rows, ownAnchors: own });
        return;
      }
      const lines = [`contract ${contract} (quorum ${quorum}, ${rows.length} members)`];
      for (const r of rows)
        lines.push(
          `  ${r.origin}: ${r.anchoredSize === undefined ? "never anchored" : `size ${r.anchoredSize} in ${r.txHash ?? "?"} (block ${r.blockNumber ?? "?"}, ${r.anchors} anchors)`}`,
        );
      for (const x of own) lines.push(`  this node: size ${x.size} in ${x.txHash} (${x.gasUsed} gas)`);
      process.stdout.write(lines.join("\n") + "\n");
    });
}
