import { request } from "node:http";
import { statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { listenLocalSocket, type LocalSocket } from "./local-socket.js";
import { operationEnv } from "../wiring/operations.js";
import { fakePseudonym } from "../../test/helpers/fixtures.js";
import { makeNode, type TestNode } from "../../test/helpers/node.js";

let t: TestNode;
let socket: LocalSocket;

/** One request over the socket: the status and the NDJSON lines of the answer. */
function call(path: string, body: string, method = "POST"): Promise<{ status: number; lines: unknown[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket.path, method, path }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          lines: text
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => JSON.parse(l) as unknown),
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

beforeAll(async () => {
  t = await makeNode();
  socket = await listenLocalSocket(t.node, operationEnv);
});

afterAll(async () => {
  await socket.close();
  await t.close();
});

describe("the serving node's local socket", () => {
  test("is a socket only its owner can open", () => {
    const info = statSync(socket.path);
    expect(info.isSocket()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
  });

  test("runs an operation on the node: its entry is appended through the node's appender", async () => {
    const observed: number[] = [];
    const stop = t.node.appender.onAppend((o) => observed.push(o.admitted));
    const size = t.node.ledger.size;
    const patient = fakePseudonym();
    const r = await call("/v1/operations/erase", JSON.stringify({ patient, reason: "patient-request" }));
    stop();
    expect(r).toEqual({ status: 200, lines: [{ result: { recorded: true, items: 0 } }] });
    expect(t.node.ledger.size).toBe(size + 1);
    expect(observed).toEqual([1]);
  });

  test("hostile or wrong requests get a coded error line, never a crash", async () => {
    const error = (r: { lines: unknown[] }): unknown =>
      (r.lines.at(-1) as { error?: { code: string } }).error?.code;
    expect(error(await call("/v1/operations/format-disk", "{}"))).toBe("ROUTE_NOT_FOUND");
    expect(error(await call("/v1/operations/erase", "", "GET"))).toBe("ROUTE_NOT_FOUND");
    expect(error(await call("/v1/operations/erase", "{not json"))).toBe("JSON_INVALID");
    expect(error(await call("/v1/operations/erase", JSON.stringify({ patient: "x", reason: "other" })))).toBe(
      "INPUT_INVALID",
    );
    expect(
      error(
        await call(
          "/v1/operations/erase",
          JSON.stringify({ patient: fakePseudonym(), reason: "other", x: 1 }),
        ),
      ),
    ).toBe("INPUT_INVALID");
    // The serving process does not share the caller's working directory: paths must be absolute.
    const relative = await call("/v1/operations/ingest", JSON.stringify({ paths: ["some/folder"] }));
    expect(relative.lines.at(-1)).toMatchObject({
      error: { code: "INPUT_INVALID", details: { at: "paths.0" } },
    });
    expect(error(await call("/v1/operations/erase", "x".repeat(2 * 1024 * 1024)))).toBe("BODY_TOO_LARGE");
    // Still serving.
    const ok = await call(
      "/v1/operations/erase",
      JSON.stringify({ patient: fakePseudonym(), reason: "other" }),
    );
    expect(ok.lines).toEqual([{ result: { recorded: true, items: 0 } }]);
  });
});
