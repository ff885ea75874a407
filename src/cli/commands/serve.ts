import type { AddressInfo } from "node:net";
import type { Server as TlsServer } from "node:tls";
import type { Command } from "commander";
import { buildServer, DEFAULT_LIMITS } from "../../api/server.js";
import { Metrics } from "../../api/metrics.js";
import { startSyslog, type SyslogService } from "../../wiring/syslog.js";
import { startMllp, type MllpService } from "../../wiring/mllp.js";
import { listenLocalSocket } from "../../api/local-socket.js";
import { ArchiveFollower } from "../../app/archive-follower.js";
import { ConsortiumService } from "../../app/consortium/service.js";
import { LedgerDicomwebAuthorizer } from "../../app/dicomweb-access.js";
import { RadledgerError } from "../../core/errors.js";
import { openAuthStore } from "../../wiring/auth.js";
import { openNode } from "../../wiring/node.js";
import { recordApplicationActivity } from "../../app/gatekeeper.js";
import { operationEnv } from "../../wiring/operations.js";
import { describeEvent, orthancArchiveArgs } from "./orthanc.js";
import { consortiumPorts } from "../../wiring/consortium.js";
import { loadTlsOptions } from "../tls.js";
import { listenRedirect } from "../redirect.js";

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
  orthancAuthz?: boolean;
  orthancName: string;
  orthancInterval: string;
  actorRate: string;
  anonymousRate: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  httpRedirectPort?: string;
  syslogTls?: string;
  syslogTcp?: string;
  syslogUdp?: string;
  syslogHost?: string;
  syslogSource: string[];
  syslogRaw: string;
  mllp?: string;
  mllpHost?: string;
  mllpSource: string[];
  mllpClinician: string[];
}

/** `--syslog-source ADDRESS=ACTOR`, repeatable. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The plain TCP/UDP senders: address → system actor (docs/audit.md). */
function syslogSources(given: readonly string[]): Map<string, string> {
  const sources = new Map<string, string>();
  for (const s of given) {
    const m = /^([0-9A-Fa-f.:]+)=([a-z0-9][a-z0-9._-]*)$/.exec(s);
    if (!m)
      throw new RadledgerError(
        "CLI_USAGE",
        `--syslog-source expects ADDRESS=ACTOR (an IP address and an actor id)`,
      );
    sources.set(m[1]!, m[2]!);
  }
  return sources;
}

/** `--mllp-clinician RISID=ACTOR`: the RIS's id of a clinician and their actor (docs/intake.md). */
function clinicianMap(given: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const s of given) {
    const m = /^([^=\s]{1,64})=([a-z0-9][a-z0-9._-]*)$/.exec(s);
    if (!m) throw new RadledgerError("CLI_USAGE", "--mllp-clinician expects RISID=ACTOR");
    map.set(m[1]!, m[2]!);
  }
  return map;
}

function listenFailed(e: unknown, host: string, port: number): RadledgerError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === "EADDRINUSE"
      ? "the address is already in use"
      : code === "EACCES"
        ? "not permitted"
        : code === "EADDRNOTAVAIL"
          ? "no such local address"
          : (code ?? "failed");
  return new RadledgerError("LISTEN_FAILED", `cannot listen on ${host}:${port}: ${why}`);
}

function portOf(text: string, name: string): number {
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RadledgerError("CLI_USAGE", `${name} must be 0..65535`);
  return port;
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
    .option(
      "--orthanc-authz",
      "answer the Orthanc authorization plugin at POST /api/v1/orthanc/authorize (docs/families/imaging.md)",
    )
    .option("--orthanc-follow", "follow Orthanc's /changes feed and register each stable study")
    .option("--orthanc-name <label>", "source name recorded in study registrations", "orthanc")
    .option("--orthanc-interval <seconds>", "poll interval of the /changes feed", "5")
    .option("--tls-cert <file>", "serve HTTPS with this certificate chain (PEM; with --tls-key)")
    .option("--tls-key <file>", "the certificate's private key (PEM, unencrypted)")
    .option(
      "--tls-client-ca <file>",
      "mutual TLS: ask clients for a certificate chaining to these CAs (PEM); bound system actors authenticate by it",
    )
    .option(
      "--http-redirect-port <port>",
      "also listen for plain HTTP on this port and answer every request with 308 to the https:// URL",
    )
    .option(
      "--syslog-tls <port>",
      "IHE ATNA: receive audit messages over syslog TLS (RFC 5425, usually 6514; mutual TLS, needs --tls-client-ca)",
    )
    .option(
      "--syslog-tcp <port>",
      "IHE ATNA: receive audit messages over plain TCP, octet-counting framing (RFC 6587); senders by --syslog-source",
    )
    .option(
      "--syslog-udp <port>",
      "IHE ATNA: receive audit messages over UDP (RFC 5426); senders by --syslog-source",
    )
    .option("--syslog-host <host>", "address the syslog receivers listen on (default: --host)")
    .option(
      "--syslog-source <address=actor>",
      "a plain TCP/UDP sender's IP address and the system actor it speaks for (repeatable)",
      collect,
      [],
    )
    .option(
      "--syslog-raw <policy>",
      "what is kept of each raw audit message: vault (the patient's vault) or drop",
      "vault",
    )
    .option(
      "--mllp <port>",
      "HL7 v2: receive ORU^R01 reports from a RIS over MLLP (docs/intake.md); senders by --mllp-source",
    )
    .option("--mllp-host <host>", "address the MLLP listener listens on (default: --host)")
    .option(
      "--mllp-source <address=actor>",
      "an MLLP sender's IP address and the system actor (integration role) it speaks for (repeatable)",
      collect,
      [],
    )
    .option(
      "--mllp-clinician <risid=actor>",
      "the RIS's id of a clinician (OBR-32/33/34) and their actor id, when they differ (repeatable)",
      collect,
      [],
    )
    .action(async (o: ServeOptions) => {
      const port = portOf(o.port, "--port");
      if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
        throw new RadledgerError("CLI_USAGE", "--tls-cert and --tls-key go together");
      if (o.tlsCert === undefined && (o.tlsClientCa !== undefined || o.httpRedirectPort !== undefined))
        throw new RadledgerError(
          "CLI_USAGE",
          "--tls-client-ca and --http-redirect-port need --tls-cert and --tls-key",
        );
      const redirectPort =
        o.httpRedirectPort === undefined ? undefined : portOf(o.httpRedirectPort, "--http-redirect-port");
      // Read and checked before the data directory is opened: a bad file costs nothing to undo.
      const https =
        o.tlsCert === undefined
          ? undefined
          : loadTlsOptions({ cert: o.tlsCert, key: o.tlsKey!, clientCa: o.tlsClientCa });
      const rate = (v: string, name: string): number => {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0)
          throw new RadledgerError("CLI_USAGE", `${name} must be a positive number`);
        return n;
      };
      const syslogPorts = {
        ...(o.syslogTls === undefined ? {} : { tlsPort: portOf(o.syslogTls, "--syslog-tls") }),
        ...(o.syslogTcp === undefined ? {} : { tcpPort: portOf(o.syslogTcp, "--syslog-tcp") }),
        ...(o.syslogUdp === undefined ? {} : { udpPort: portOf(o.syslogUdp, "--syslog-udp") }),
      };
      if (o.syslogTls !== undefined && (https === undefined || o.tlsClientCa === undefined))
        throw new RadledgerError(
          "CLI_USAGE",
          "--syslog-tls needs --tls-cert, --tls-key and --tls-client-ca (mutual TLS)",
        );
      if (o.syslogRaw !== "vault" && o.syslogRaw !== "drop")
        throw new RadledgerError("CLI_USAGE", "--syslog-raw must be vault or drop");
      const sources = syslogSources(o.syslogSource);
      const mllpPort = o.mllp === undefined ? undefined : portOf(o.mllp, "--mllp");
      const mllpSources = syslogSources(o.mllpSource);
      const clinicians = clinicianMap(o.mllpClinician);
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
      const metrics = new Metrics({
        logSize: () => node.ledger.size,
        checkpointSize: () => Number(node.ledger.latestCheckpoint?.split("\n")[1] ?? 0),
      });
      const app = buildServer(node, {
        auth,
        metrics,
        consortium,
        // The FHIR audit feed keeps raw events as the syslog receivers do (--syslog-raw).
        auditRawMessages: o.syslogRaw,
        logger: o.log ? { stream: process.stderr } : false,
        ...(https === undefined ? {} : { https }),
        limits: {
          actor: { perSecond: actorRate, burst: actorRate * 5 },
          anonymous: { perSecond: anonymousRate, burst: anonymousRate * 2 },
        },
        ...(o.orthancAuthz === true ? { orthancAuthz: new LedgerDicomwebAuthorizer(node) } : {}),
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
        throw listenFailed(e, o.host, port);
      });
      const redirect =
        redirectPort === undefined
          ? undefined
          : await listenRedirect(o.host, redirectPort, app.server.address() as AddressInfo).catch(
              async (e: unknown) => {
                stop.abort();
                await app.close();
                await following;
                await consortium.close();
                await node.close();
                throw listenFailed(e, o.host, redirectPort);
              },
            );
      // IHE ATNA: the hospital's audit messages over syslog (docs/audit.md); off unless a port is given.
      let syslog: SyslogService | undefined;
      if (Object.keys(syslogPorts).length > 0) {
        syslog = await startSyslog(node, {
          host: o.syslogHost ?? o.host,
          ...syslogPorts,
          ...(https === undefined || o.tlsClientCa === undefined
            ? {}
            : {
                tls: {
                  cert: https.cert,
                  key: https.key,
                  ca: https.ca as Buffer,
                  minVersion: "TLSv1.2" as const,
                },
              }),
          sources,
          rawMessages: o.syslogRaw,
          onOutcome: (transport, outcome) => metrics.auditMessages.inc({ transport, outcome }),
          ...(o.log ? { log: (line: string) => process.stderr.write(`${line}\n`) } : {}),
        }).catch(async (e: unknown) => {
          stop.abort();
          await redirect?.close();
          await app.close();
          await following;
          await consortium.close();
          await node.close();
          throw e;
        });
      }
      // HL7 v2 results from the RIS over MLLP (docs/intake.md); off unless a port is given.
      let mllp: MllpService | undefined;
      if (mllpPort !== undefined) {
        mllp = await startMllp(node, {
          host: o.mllpHost ?? o.host,
          port: mllpPort,
          sources: mllpSources,
          clinicians,
          ...(o.log ? { log: (line: string) => process.stderr.write(`${line}\n`) } : {}),
        }).catch(async (e: unknown) => {
          stop.abort();
          await syslog?.close();
          await redirect?.close();
          await app.close();
          await following;
          await consortium.close();
          await node.close();
          throw e;
        });
      }
      // The node audits itself: it serves from now on (DICOM 110100 Application Activity, 110120
      // Application Start; docs/audit.md "What is recorded when").
      await recordApplicationActivity(node, "start");
      // The command line's writing verbs (ingest, deidentify, erase) reach this node through it.
      const local = await listenLocalSocket(node, operationEnv, {
        onError: (e) => process.stderr.write(`radledger: local operation: ${e.code}: ${e.message}\n`),
      });
      process.stdout.write(
        `radledger serving ${node.config.origin} (size ${node.ledger.size}) at ${address}\n  API: ${address}/api/v1/docs (OpenAPI: ${address}/api/v1/openapi.json)\n${redirect === undefined ? "" : `  plain HTTP redirects to HTTPS at ${redirect.url}\n`}  local socket for the command line: ${local.path}\n${(syslog?.receivers ?? []).map((r) => `  IHE ATNA audit messages: ${r.transport} at ${r.address}\n`).join("")}${mllp === undefined ? "" : `  HL7 v2 results (MLLP) at ${mllp.address}\n`}`,
      );
      // Graceful stop (docs/operations.md "Stopping"): no new connections or requests (new requests
      // on open connections get NODE_CLOSED, 503, Connection: close); requests in flight finish,
      // within DRAIN_MILLIS; the appender settles every submitted entry, and each batch it commits
      // carries its signed checkpoint in the same transaction, so the last acknowledged entry is
      // covered by a checkpoint on disk before the stores close. A second signal changes nothing.
      let stopping = false;
      const shutdown = (signal: string): void => {
        if (stopping) {
          process.stderr.write(`radledger: ${signal} again, still draining\n`);
          return;
        }
        stopping = true;
        process.stderr.write(`radledger: ${signal}, draining\n`);
        stop.abort();
        void Promise.all([redirect?.close(), local.close(), app.close(), syslog?.close(), mllp?.close()])
          .then(() => following)
          .then(() => consortium.close())
          .then(async () => {
            // Every writer (HTTP requests, local operations, the Orthanc follower) has finished: the
            // stop is the last entry of this run (110100, 110121 Application Stop), then every
            // acknowledged entry is committed and the latest checkpoint covers it.
            await recordApplicationActivity(node, "stop");
            const size = node.ledger.size;
            const checkpoint = Number(node.ledger.latestCheckpoint?.split("\n")[1] ?? 0);
            await node.close();
            process.stdout.write(
              `radledger stopped: size ${size}, signed checkpoint of size ${checkpoint} on disk\n`,
            );
            process.exit(0);
          })
          .catch((e: unknown) => {
            process.stderr.write(
              `radledger: stopping failed: ${e instanceof Error ? e.message : String(e)}\n`,
            );
            process.exit(1);
          });
      };
      process.on("SIGINT", () => shutdown("SIGINT"));
      process.on("SIGTERM", () => shutdown("SIGTERM"));
      if (https !== undefined) {
        // SIGHUP re-reads the TLS files (a renewed certificate) for new connections; open ones keep
        // theirs. Files that do not load keep the current certificate and say why (the node stays up).
        const files = { cert: o.tlsCert!, key: o.tlsKey!, clientCa: o.tlsClientCa };
        process.on("SIGHUP", () => {
          try {
            (app.server as unknown as Pick<TlsServer, "setSecureContext">).setSecureContext(
              loadTlsOptions(files),
            );
            process.stderr.write("radledger: SIGHUP, TLS certificate reloaded\n");
          } catch (e) {
            const why = e instanceof RadledgerError ? `${e.code}: ${e.message}` : String(e);
            process.stderr.write(`radledger: SIGHUP, TLS certificate kept: ${why}\n`);
          }
        });
      }
    });
}
