import type { Command } from "commander";
import { existsSync } from "node:fs";
import { initDataDir } from "../../app/init.js";
import { paths } from "../../app/data-dir.js";
import { DEMO_ORIGIN, seedDemo } from "../../app/demo/index.js";
import { buildServer } from "../../api/server.js";
import { listenLocalSocket } from "../../api/local-socket.js";
import { openAuthStore } from "../../wiring/auth.js";
import { nodeFactory, openNode } from "../../wiring/node.js";
import { operationEnv } from "../../wiring/operations.js";
import { issueToken } from "../../app/credentials.js";
import { getActor, INSTITUTION_ACTOR } from "../../domain/identity/state.js";
import { demoUsersPath, demoUsersTable, enrolDemoUsers, readDemoUsers } from "../../app/demo/users.js";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("create (if needed) and seed a demo log through the real append path, optionally serving it")
    .requiredOption("--data <dir>", "data directory (created with the demo scenario if it does not exist)")
    .option("--serve", "serve the demo log after seeding")
    .option("--host <host>", "address to listen on with --serve", "127.0.0.1")
    .option("--port <port>", "TCP port with --serve", "8080")
    .action(async (o: { data: string; serve?: boolean; host: string; port: string }) => {
      if (!existsSync(paths(o.data).config)) {
        await initDataDir(o.data, { origin: DEMO_ORIGIN, institutionName: "Demo Hospital" }, nodeFactory);
        const node = openNode(o.data);
        try {
          const summary = await seedDemo(node, nodeFactory);
          // One sign-in user per persona, with a random password (src/app/demo/users.ts).
          const auth = openAuthStore(node.dir);
          try {
            await enrolDemoUsers(node, auth);
          } finally {
            auth.close();
          }
          process.stdout.write(`seeded demo log in ${o.data}: ${summary}\n`);
          process.stdout.write(`demo users and their passwords: ${demoUsersPath(o.data)}\n`);
        } finally {
          await node.close();
        }
      } else {
        process.stdout.write(`using existing data directory ${o.data}\n`);
      }
      if (!o.serve) return;
      const node = openNode(o.data);
      const app = buildServer(node, { auth: openAuthStore(node.dir) });
      const address = await app.listen({ host: o.host, port: Number(o.port) });
      const local = await listenLocalSocket(node, operationEnv);
      // A short-lived token for the demo's administrator, so the API can be tried at once; the
      // demo is a local sandbox (loopback by default), so printing it is the point. Issued like
      // `radledger token create`: by the institution, and on the log (token.issued).
      const { token } = await issueToken(node, app.radledger.auth, {
        target: getActor(node.store, "admin")!,
        issuer: getActor(node.store, INSTITUTION_ACTOR)!,
        kind: "api",
        ttlSeconds: 8 * 3600,
        label: "demo",
      });
      // The demo's users right after the address (src/app/demo/users.ts), then the rest; one write,
      // so whoever reads up to the last line ("try: curl") has the whole table.
      const users = readDemoUsers(o.data);
      process.stdout.write(
        [
          `radledger serving ${node.config.origin} (size ${node.ledger.size}) at ${address}`,
          ...(users === undefined
            ? []
            : [
                `sign in at ${address} as one of the demo's users (also in ${demoUsersPath(o.data)}):`,
                demoUsersTable(users),
              ]),
          `  checkpoint:      ${address}/checkpoint`,
          `  verifier key:    ${node.verifierKey}`,
          `  API docs:        ${address}/api/v1/docs`,
          `  bundle verifier: ${address}/verify`,
          `  admin token (8 h): ${token}`,
          `  try: curl -H "Authorization: Bearer ${token}" ${address}/api/v1/reports`,
          "",
        ].join("\n"),
      );
      const shutdown = (): void => {
        void local
          .close()
          .then(() => app.close())
          .then(() => node.close())
          .then(() => process.exit(0));
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
    });
}
