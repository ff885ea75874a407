import type { Command } from "commander";
import { openNode } from "../../app/node.js";
import { buildServer } from "../../api/server.js";
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
    .action(async (o: { data: string; host: string; port: string; log?: boolean }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new RadledgerError("CLI_USAGE", "--port must be 0..65535");
      // The consortium side learns of each commit through the ledger's hook (cosignature requests).
      const hooks: { onCommit?: () => void } = {};
      const node = openNode(o.data, { onCommit: () => hooks.onCommit?.() });
      const consortium = await ConsortiumService.open(node).catch(async (e: unknown) => {
        await node.close();
        throw e;
      });
      hooks.onCommit = () => consortium.onCommit();
      const app = buildServer(node, { logger: o.log ?? false, consortium });
      const address = await app.listen({ host: o.host, port });
      process.stdout.write(
        `radledger serving ${node.config.origin} (size ${node.ledger.size}) at ${address}\n`,
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
    });
}
