/**
 * Request decoding at the API's edge (issue 18, finding 6): a JSON body must be valid UTF-8 (a
 * broken byte is a 400, never silently replaced with U+FFFD and stored), a JSON route answers any
 * other content type with 415, and an unknown query parameter is a 400 naming it — on routes with a
 * query schema, on routes without one, and on the FHIR and bundle routes. DICOMweb keeps the query
 * parameters PS3.18 defines (attribute matching by keyword or tag, includefield, limit…).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { utf8 } from "../../src/core/bytes.js";
import { RadledgerError } from "../../src/core/errors.js";
import { checkDicomwebQuery } from "../../src/api/dicomweb.js";
import { fakePseudonym } from "../helpers/fixtures.js";
import { startApi, type ApiResponse, type TestApi } from "../helpers/api.js";

let api: TestApi;
let admin = "";
const PA = fakePseudonym();

function expectProblem(r: ApiResponse, status: number, code: string, at?: string): void {
  expect(r.status, r.text).toBe(status);
  expect(r.type).toContain("application/problem+json");
  expect(r.body.code).toBe(code);
  if (at !== undefined) expect(r.body.at).toBe(at);
}

beforeAll(async () => {
  api = await startApi();
  admin = await api.token("admin");
}, 60_000);

afterAll(async () => api.close());

describe("JSON bodies", () => {
  test("invalid UTF-8 in a JSON body is a 400 problem, not content with U+FFFD", async () => {
    const before = utf8(`{"patient":"${PA}","content":{"text":"caf`);
    const after = utf8(`"}}`);
    const raw = new Uint8Array([...before, 0xc3, 0x28, ...after]); // 0xC3 0x28: a broken two-byte sequence
    const r = await api.call("POST", "/api/v1/vault", { token: admin, raw });
    expectProblem(r, 400, "ENCODING_INVALID", "body");
    // A lone continuation byte and an overlong encoding of "/" are refused alike.
    for (const bad of [[0x80], [0xc0, 0xaf]]) {
      const r2 = await api.call("POST", "/api/v1/vault", {
        token: admin,
        raw: new Uint8Array([...before, ...bad, ...after]),
      });
      expectProblem(r2, 400, "ENCODING_INVALID");
    }
    // Valid UTF-8 still goes through.
    const ok = await api.call("POST", "/api/v1/vault", {
      token: admin,
      raw: utf8(`{"patient":"${PA}","content":{"text":"café"}}`),
    });
    expect(ok.status, ok.text).toBe(201);
  });

  test("a JSON route answers text/plain and other media types with 415", async () => {
    const body = JSON.stringify({ patient: PA, content: { text: "x" } });
    for (const contentType of ["text/plain", "text/plain; charset=utf-8", "application/xml"]) {
      const r = await api.call("POST", "/api/v1/vault", { token: admin, raw: body, contentType });
      expectProblem(r, 415, "MEDIA_TYPE_UNSUPPORTED");
      expect(r.body.detail).toContain(`takes application/json, not "${contentType}"`);
    }
    const ok = await api.call("POST", "/api/v1/vault", { token: admin, raw: body });
    expect(ok.status, ok.text).toBe(201);
  });
});

describe("query parameters", () => {
  test("an unknown query parameter is a 400 naming it, with or without a query schema", async () => {
    // A list route with a (strict) page query.
    expectProblem(
      await api.call("GET", "/api/v1/patients?limit=5&colour=red", { token: admin }),
      400,
      "INPUT_INVALID",
      "query.colour",
    );
    // Routes that declare no query at all.
    expectProblem(
      await api.call("GET", "/api/v1/auth/me?debug=1", { token: admin }),
      400,
      "INPUT_INVALID",
      "query.debug",
    );
    expectProblem(await api.call("GET", "/api/v1/openapi.json?x=1"), 400, "INPUT_INVALID", "query.x");
    // Known parameters still work.
    const ok = await api.call("GET", "/api/v1/patients?limit=5", { token: admin });
    expect(ok.status, ok.text).toBe(200);
  });

  test("the FHIR export and bundle routes refuse unknown parameters too", async () => {
    expectProblem(
      await api.call("GET", `/api/v1/fhir?patient=${PA}&_elements=all`, { token: admin }),
      400,
      "INPUT_INVALID",
      "query._elements",
    );
    const fhir = await api.call("GET", `/api/v1/fhir?patient=${PA}`, { token: admin });
    expect(fhir.status, fhir.text).toBe(200);
    expectProblem(
      await api.call("GET", `/api/v1/bundles/access/${PA}?disclose=false&everything=yes`, { token: admin }),
      400,
      "INPUT_INVALID",
      "query.everything",
    );
  });

  test("DICOMweb keeps PS3.18's query parameters and refuses others", () => {
    const ok: [string, string][] = [
      [
        "/studies",
        "?PatientID=X&StudyDate=20240101-&includefield=00081030&limit=10&offset=0&fuzzymatching=true",
      ],
      ["/studies", "?00100020=X&ReferencedStudySequence.StudyInstanceUID=1.2"],
      ["/studies/1.2/series", "?Modality=CT&includefield=all"],
      ["/studies/1.2/series/1.3/instances", "?SOPClassUID=1.2.840"],
      ["/studies/1.2/rendered", "?viewport=512,512&quality=90&window=40,400,linear&annotation=patient"],
      ["/studies/1.2/series/1.3/instances/1.4/thumbnail", "?viewport=64,64"],
      ["/studies/1.2", "?accept=application/dicom"],
      ["/studies/1.2/metadata", "?charset=utf-8"],
      ["/studies/1.2", ""],
    ];
    for (const [path, query] of ok) expect(() => checkDicomwebQuery(path, query), path + query).not.toThrow();
    const bad: [string, string, string][] = [
      ["/studies", "?patientid=X", "query.patientid"],
      ["/studies", "?PatientID=X&debug=1", "query.debug"],
      ["/studies/1.2", "?PatientID=X", "query.PatientID"], // a retrieval matches nothing
      ["/studies/1.2", "?limit=1", "query.limit"],
      ["/studies/1.2/metadata", "?viewport=1,1", "query.viewport"],
    ];
    for (const [path, query, at] of bad) {
      let thrown: unknown;
      try {
        checkDicomwebQuery(path, query);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, path + query).toBeInstanceOf(RadledgerError);
      expect((thrown as RadledgerError).code).toBe("INPUT_INVALID");
      expect((thrown as RadledgerError).details.at).toBe(at);
    }
  });
});
