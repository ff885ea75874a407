import type { Command } from "commander";
import { ArchiveFollower, type FollowEvent } from "../../app/archive-follower.js";
import { openNode } from "../../wiring/node.js";
import { operationEnv } from "../../wiring/operations.js";
import { RadledgerError } from "../../core/errors.js";
import { printJson } from "../output.js";

export interface OrthancCliOptions {
  url: string;
  user?: string;
  password?: string;
}

/**
 * Orthanc as the command line names it, checked. The password: --password, else
 * $RADLEDGER_ORTHANC_PASSWORD (kept out of `ps` output and shell history). Never printed.
 */
export function orthancArchiveArgs(o: OrthancCliOptions): OrthancCliOptions {
  if (!/^https?:\/\/[^\s@/]+/.test(o.url))
    throw new RadledgerError("CLI_USAGE", "--orthanc-url must be http(s)://host[:port] without credentials");
  const password = o.password ?? process.env.RADLEDGER_ORTHANC_PASSWORD;
  return {
    url: o.url,
    ...(o.user === undefined ? {} : { user: o.user }),
    ...(password === undefined ? {} : { password }),
  };
}

export function describeEvent(e: FollowEvent): string {
  const what =
    e.status === "registered"
      ? `registered at index ${e.outcome?.index ?? "?"} as ${e.outcome?.studyId ?? "?"}`
      : e.status === "already-registered"
        ? `already registered as ${e.outcome?.studyId ?? "?"}${e.outcome?.differs === true ? " (the archive now holds a different set of instances)" : ""}`
        : `${e.status}${e.error ? `: ${e.error.code}: ${e.error.message}` : ""}${e.instanceErrors ? ` (instances: ${[...new Set(e.instanceErrors)].join(", ")})` : ""}`;
  // One line per AI result of the study (docs/intake.md "AI results from DICOM").
  const ai = (e.aiResults ?? []).map((a) => {
    const model = `${a.model?.vendor ?? "?"} / ${a.model?.name ?? "?"} / ${a.model?.version ?? "?"}`;
    const done =
      a.status === "recorded" || a.status === "already-recorded"
        ? `${a.status} at index ${a.index ?? "?"}`
        : `${a.status}: ${a.error?.code ?? "?"}: ${a.error?.message ?? ""}`;
    return `; AI result ${a.instanceKey} (${a.kind.toUpperCase()}, ${model}) ${done}`;
  });
  return `change ${e.seq}: study ${e.studyKey ?? "?"} ${what}${ai.join("")}`;
}

export function registerOrthanc(program: Command): void {
  const orthanc = program.command("orthanc").description("Orthanc PACS as a study source");
  orthanc
    .command("follow")
    .description("follow Orthanc's /changes feed and register each stable study; resumes where it stopped")
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--url <url>", "Orthanc base URL, e.g. http://127.0.0.1:8042")
    .option("--user <name>", "Orthanc user (HTTP Basic)")
    .option("--password <password>", "Orthanc password (or $RADLEDGER_ORTHANC_PASSWORD)")
    .option("--name <label>", "source name recorded in the entries", "orthanc")
    .option("--once", "handle the changes available now, then exit")
    .option("--interval <seconds>", "poll interval when following", "5")
    .option("--from-now", "on the first run, start at the end of the feed (skip the existing archive)")
    .option("--json", "print the result of --once as JSON")
    .action(
      async (o: {
        data: string;
        url: string;
        user?: string;
        password?: string;
        name: string;
        once?: boolean;
        interval: string;
        fromNow?: boolean;
        json?: boolean;
      }) => {
        const interval = Number(o.interval);
        if (!Number.isFinite(interval) || interval < 0.1 || interval > 3600)
          throw new RadledgerError("CLI_USAGE", "--interval must be 0.1..3600 seconds");
        const archive = operationEnv.connectArchive(
          orthancArchiveArgs({
            url: o.url,
            ...(o.user === undefined ? {} : { user: o.user }),
            ...(o.password === undefined ? {} : { password: o.password }),
          }),
        );
        const node = openNode(o.data);
        const follower = new ArchiveFollower(node, archive, {
          name: o.name,
          fromNow: o.fromNow === true,
          onEvent: (e) => {
            if (!o.json) process.stdout.write(describeEvent(e) + "\n");
          },
        });
        try {
          if (o.once) {
            const r = await follower.pass();
            if (o.json)
              printJson({
                changes: r.changes,
                cursor: r.cursor,
                studies: r.studies.map((e) => ({
                  seq: e.seq,
                  studyKey: e.studyKey,
                  status: e.status,
                  studyId: e.outcome?.studyId,
                  error: e.error?.code,
                  aiResults: e.aiResults?.map((a) => ({
                    kind: a.kind,
                    instanceKey: a.instanceKey,
                    status: a.status,
                    index: a.index,
                    error: a.error?.code,
                  })),
                })),
              });
            else process.stdout.write(`${r.changes} changes read; cursor at ${r.cursor}\n`);
            return;
          }
          const stop = new AbortController();
          process.once("SIGINT", () => stop.abort());
          process.once("SIGTERM", () => stop.abort());
          process.stdout.write(`following ${o.url} (cursor ${follower.cursor ?? "none"})\n`);
          await follower.run(stop.signal, interval * 1000, (e) =>
            process.stderr.write(`radledger: ${e.code}: ${e.message} (retrying)\n`),
          );
        } finally {
          await node.close();
        }
      },
    );
}
