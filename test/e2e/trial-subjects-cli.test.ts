/**
 * `radledger query trial-subjects`: a trial's subjects are listable from the command line (issue 20,
 * trial monitor: a subject id could not be found without the API), paged like the API's
 * /api/v1/trials/:id/subjects, and each id is what `query trial-timeline --subject` takes.
 */
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/node.js";

const tmp = tempDir("radledger-trial-subjects-");
const dir = join(tmp.path, "demo");
let trial = "";

beforeAll(async () => {
  const seeded = await runCli(["demo", "--data", dir]);
  expect(seeded.code, seeded.stderr).toBe(0);
  const trials = await runCli(["query", "list", "trials", "--data", dir, "--json"]);
  trial = (JSON.parse(trials.stdout) as { id: string }[])[0]!.id;
}, 120_000);

afterAll(() => tmp.remove());

interface Subject {
  id: string;
  subject: string;
  trial: string;
}

test("lists a trial's subjects, pages them, and each id opens its timeline", async () => {
  const all = await runCli([
    "query",
    "trial-subjects",
    "--trial",
    trial.slice(0, 10),
    "--data",
    dir,
    "--json",
  ]);
  expect(all.code, all.stderr).toBe(0);
  const page = JSON.parse(all.stdout) as { items: Subject[]; next?: number };
  expect(page.items.length).toBe(2);
  expect(page.items.every((s) => s.trial === trial && s.subject.startsWith("ts_"))).toBe(true);

  const first = await runCli([
    "query",
    "trial-subjects",
    "--trial",
    trial,
    "--limit",
    "1",
    "--data",
    dir,
    "--json",
  ]);
  const p1 = JSON.parse(first.stdout) as { items: Subject[]; next?: number };
  expect(p1.items.map((s) => s.id)).toEqual([page.items[0]!.id]);
  expect(p1.next).toBeDefined();
  const second = await runCli([
    "query",
    "trial-subjects",
    "--trial",
    trial,
    "--limit",
    "1",
    "--after",
    String(p1.next),
    "--data",
    dir,
    "--json",
  ]);
  expect((JSON.parse(second.stdout) as { items: Subject[] }).items.map((s) => s.id)).toEqual([
    page.items[1]!.id,
  ]);

  const human = await runCli(["query", "trial-subjects", "--trial", trial, "--data", dir]);
  expect(human.stdout).toContain(page.items[0]!.subject);

  const one = await runCli([
    "query",
    "trial-subjects",
    "--trial",
    trial,
    "--subject",
    page.items[1]!.subject,
    "--data",
    dir,
    "--json",
  ]);
  expect((JSON.parse(one.stdout) as { items: Subject[] }).items).toEqual([page.items[1]]);

  const timeline = await runCli(["query", "trial-timeline", "--subject", page.items[0]!.id, "--data", dir]);
  expect(timeline.code, timeline.stderr).toBe(0);
  expect(timeline.stdout).toContain(page.items[0]!.subject);
});

test("an unknown trial or subject is not found; a malformed subject is a usage error", async () => {
  const noTrial = await runCli(["query", "trial-subjects", "--trial", "abcdef0123", "--data", dir]);
  expect(noTrial.code).toBe(3);
  expect(noTrial.stderr).toContain("RECORD_NOT_FOUND");
  const noSubject = await runCli([
    "query",
    "trial-subjects",
    "--trial",
    trial,
    "--subject",
    `ts_${"A".repeat(43)}`,
    "--data",
    dir,
  ]);
  expect(noSubject.code).toBe(3);
  expect(noSubject.stderr).toContain("RECORD_NOT_FOUND");
  const bad = await runCli(["query", "trial-subjects", "--trial", trial, "--subject", "nope", "--data", dir]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("CLI_USAGE");
});
