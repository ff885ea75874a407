/** Wiring of the local operations (src/app/operations.ts): Orthanc's REST API as the image archive. */
import { OrthancArchive } from "../adapters/orthanc/archive.js";
import type { OperationEnv } from "../app/operations.js";

export const operationEnv: OperationEnv = {
  connectArchive: (o) =>
    OrthancArchive.connect({
      baseUrl: o.url,
      ...(o.user === undefined ? {} : { username: o.user }),
      ...(o.password === undefined ? {} : { password: o.password }),
    }),
};
