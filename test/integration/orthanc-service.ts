/**
 * Test helper: an Orthanc to talk to — the CI's (RADLEDGER_TEST_ORTHANC_URL / _USER / _PASSWORD) or
 * a private one (src/adapters/orthanc/dev-service.ts, shared with the benchmarks).
 */
export {
  startOrthancService as orthancForTests,
  type OrthancService,
} from "../../src/adapters/orthanc/dev-service.js";
