import type { Command } from "commander";
import { openNode } from "../../app/node.js";
import { buildServer, DEFAULT_LIMITS } from "../../api/server.js";
import { ConsortiumService } from "../../app/consortium.js";
import { RadledgerError } from "../../core/errors.js";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("serve the log (tlog-tiles, checkpoint, JSON API) over HTTP")
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
    .action(
      async (o: {
        data: string;
        host: string;
        port: string;
        log?: boolean;
        actorRate: string;
        anonymousRate: string;
      }) => {
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
        // The consortium side learns of each commit through the ledger's hook (cosignature requests).
        const hooks: { onCommit?: () => void } = {};
        const node = openNode(o.data, { onCommit: () => hooks.onCommit?.() });
        const consortium = await ConsortiumService.open(node).catch(async (e: unknown) => {
          await node.close();
          throw e;
        });
        hooks.onCommit = () => consortium.onCommit();
        const app = buildServer(node, {
          consortium,
          logger: o.log ? { stream: process.stderr } : false,
          limits: {
            actor: { perSecond: actorRate, burst: actorRate * 5 },
            anonymous: { perSecond: anonymousRate, burst: anonymousRate * 2 },
          },
        });
        const address = await app.listen({ host: o.host, port });
        process.stdout.write(
          `radledger serving ${node.config.origin} (size ${node.ledger.size}) at ${address}\n  API: ${address}/api/v1/docs (OpenAPI: ${address}/api/v1/openapi.json)\n`,
        );
        const shutdown = (signal: string): void => {
          process.stderr.write(`radledger: ${signal}, closing\n`);
          void app
            .close()
            .then(() => consortium.close())
            .then(() => node.close())
            .then(() => process.exit(0));
        };
        process.once("SIGINT", () => shutdown("SIGINT"));
        process.once("SIGTERM", () => shutdown("SIGTERM"));
      },
    );
}
