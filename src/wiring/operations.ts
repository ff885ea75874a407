/**
 * Wiring of the local operations (src/app/operations.ts): Orthanc's REST API as the image archive,
 * the data directory's SQLite credentials store, SQLite's backup API for `radledger backup`.
 */
import { OrthancArchive } from "../adapters/orthanc/archive.js";
import type { OperationEnv } from "../app/operations.js";
import { pinDatabases } from "../adapters/sqlite/snapshot.js";
import { openAuthStore } from "./auth.js";

export const operationEnv: OperationEnv = {
  openAuth: (dir) => openAuthStore(dir),
  pinDatabases,
  connectArchive: (o) =>
    OrthancArchive.connect({
      baseUrl: o.url,
      ...(o.user === undefined ? {} : { username: o.user }),
      ...(o.password === undefined ? {} : { password: o.password }),
    }),
};
