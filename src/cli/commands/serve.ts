import type { Command } from "commander";
import { buildServer, DEFAULT_LIMITS } from "../../api/server.js";
import { listenLocalSocket } from "../../api/local-socket.js";
import { ArchiveFollower } from "../../app/archive-follower.js";
import { ConsortiumService } from "../../app/consortium/service.js";
import { LedgerDicomwebAuthorizer } from "../../app/dicomweb-access.js";
import { RadledgerError } from "../../core/errors.js";
import { openAuthStore } from "../../wiring/auth.js";
import { openNode } from "../../wiring/node.js";
import { operationEnv } from "../../wiring/operations.js";
import { describeEvent, orthancArchiveArgs } from "./orthanc.js";
import { consortiumPorts } from "../../wiring/consortium.js";

interface ServeOptions {
  data: string;
  host: string;
  port: string;
  log?: boolean;
  orthancUrl?: string;
  orthancUser?: string;
  orthancPassword?: string;
  orthancDicomwebUrl?: string;
  orthancFollow?: boolean;
  orthancName: string;
  orthancInterval: string;
  actorRate: string;
  anonymousRate: string;
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description(
      "serve the log (tlog-tiles, checkpoint, JSON API) over HTTP; optionally front an Orthanc PACS",
    )
    .requiredOption("--data <dir>", "data directory")
    .option("--host <host>", "address to listen on (loopback by default)", "127.0.0.1")
    .option("--port <port>", "TCP port (0 picks a free one)", "8080")
    .option("--log", "write structured JSON request logs to stderr")
    .option(
      "--actor-rate <perSecond>",
      "requests per second each authenticated actor may make (bursts of 5x)",
      String(DEFAULT_LIMITS.actor.perSecond),
    )
    .option(
      "--anonymous-rate <perSecond>",
      "requests per second per client address to public endpoints (bursts of 2x)",
      String(DEFAULT_LIMITS.anonymous.perSecond),
    )
    .option(
      "--orthanc-url <url>",
      "Orthanc base URL: enables DICOMweb through the gatekeeper at /dicom-web (bearer tokens)",
    )
    .option("--orthanc-user <name>", "Orthanc user (HTTP Basic)")
    .option("--orthanc-password <password>", "Orthanc password (or $RADLEDGER_ORTHANC_PASSWORD)")
    .option("--orthanc-dicomweb-url <url>", "Orthanc's DICOMweb root (default: <orthanc-url>/dicom-web)")
    .option("--orthanc-follow", "follow Orthanc's /changes feed and register each stable study")
    .option("--orthanc-name <label>", "source name recorded in study registrations", "orthanc")
    .option("--orthanc-interval <seconds>", "poll interval of the /changes feed", "5")
    .action(async (o: ServeOptions) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new RadledgerError("CLI_USAGE", "--port must be 0..65535");
      const rate = (v: string, name: string): number => {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0)
          throw new RadledgerError("CLI_USAGE", `${name} must be a positive number`);
        return n;
      };
      const actorRate = rate(o.actorRate, "--actor-rate");
      const anonymousRate = rate(o.anonymousRate, "--anonymous-rate");
      const interval = Number(o.orthancInterval);
      if (!Number.isFinite(interval) || interval < 0.1 || interval > 3600)
        throw new RadledgerError("CLI_USAGE", "--orthanc-interval must be 0.1..3600 seconds");
      if (o.orthancUrl === undefined && (o.orthancFollow || o.orthancDicomwebUrl !== undefined))
        throw new RadledgerError(
          "CLI_USAGE",
          "--orthanc-follow and --orthanc-dicomweb-url need --orthanc-url",
        );
      // The consortium side learns of each commit through the ledger's hook (cosignature requests).
      const hooks: { onCommit?: () => void } = {};
      const node = openNode(o.data, { onCommit: () => hooks.onCommit?.() });
      const consortium = await ConsortiumService.open(node, consortiumPorts).catch(async (e: unknown) => {
        await node.close();
        throw e;
      });
      hooks.onCommit = () => consortium.onCommit();
      // The credentials store can fail to open after the node did (a disk that filled up between
      // them, a read-only file): close what is open, so that the coded error ends the process rather
      // than leaving it running with nothing listening (the verification threads keep it alive).
      let auth: ReturnType<typeof openAuthStore>;
      try {
        auth = openAuthStore(node.dir);
      } catch (e) {
        await consortium.close();
        await node.close();
        throw e;
      }
      const password = o.orthancPassword ?? process.env.RADLEDGER_ORTHANC_PASSWORD;
      const app = buildServer(node, {
        auth,
        consortium,
        logger: o.log ? { stream: process.stderr } : false,
        limits: {
          actor: { perSecond: actorRate, burst: actorRate * 5 },
          anonymous: { perSecond: anonymousRate, burst: anonymousRate * 2 },
        },
        ...(o.orthancUrl === undefined
          ? {}
          : {
              dicomweb: {
                upstream: o.orthancDicomwebUrl ?? `${o.orthancUrl.replace(/\/+$/, "")}/dicom-web`,
                ...(o.orthancUser === undefined ? {} : { username: o.orthancUser }),
                ...(password === undefined ? {} : { password }),
                authorizer: new LedgerDicomwebAuthorizer(node),
              },
            }),
      });
      const stop = new AbortController();
      let following: Promise<void> | undefined;
      if (o.orthancUrl !== undefined && o.orthancFollow === true) {
        const archive = operationEnv.connectArchive(
          orthancArchiveArgs({
            url: o.orthancUrl,
            ...(o.orthancUser === undefined ? {} : { user: o.orthancUser }),
            ...(password === undefined ? {} : { password }),
          }),
        );
        const follower = new ArchiveFollower(node, archive, {
          name: o.orthancName,
          onEvent: (e) => process.stderr.write(`radledger: orthanc ${describeEvent(e)}\n`),
        });
        following = follower.run(stop.signal, interval * 1000, (e) =>
          process.stderr.write(`radledger: orthanc: ${e.code}: ${e.message} (retrying)\n`),
        );
      }
      const address = await app.listen({ host: o.host, port }).catch(async (e: unknown) => {
        // Nothing else may keep the process alive: close what was opened, then exit with a coded error.
        stop.abort();
        await app.close();
        await following;
        await consortium.close();
        await node.close();
        const code = (e as NodeJS.ErrnoException).code;
        const why =
          code === "EADDRINUSE"
            ? "the address is already in use"
            : code === "EACCES"
              ? "not permitted"
              : code === "EADDRNOTAVAIL"
                ? "no such local address"
                : (code ?? "failed");
        throw new RadledgerError("LISTEN_FAILED", `cannot listen on ${o.host}:${port}: ${why}`);
      });
      // The command line's writing verbs (ingest, deidentify, erase) reach this node through it.
      const local = await listenLocalSocket(node, operationEnv, {
        onError: (e) => process.stderr.write(`radledger: local operation: ${e.code}: ${e.message}\n`),
      });
      process.stdout.write(
        `radledger serving ${node.config.origin} (size ${node.ledger.size}) at ${address}\n  API: ${address}/api/v1/docs (OpenAPI: ${address}/api/v1/openapi.json)\n  local socket for the command line: ${local.path}\n`,
      );
      const shutdown = (signal: string): void => {
        process.stderr.write(`radledger: ${signal}, closing\n`);
        stop.abort();
        void local
          .close()
          .then(() => app.close())
          .then(() => following)
          .then(() => consortium.close())
          .then(() => node.close())
          .then(() => process.exit(0));
      };
      process.once("SIGINT", () => shutdown("SIGINT"));
      process.once("SIGTERM", () => shutdown("SIGTERM"));
    });
}
