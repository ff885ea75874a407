/**
 * Starts a worker thread from a module next to the caller: the built .js normally; when running
 * from TypeScript sources (tests, tsx), a tiny bootstrap registers tsx's loader inside the worker.
 */
import { Worker } from "node:worker_threads";

export function startModuleWorker(moduleBaseName: string, callerUrl: string, workerData?: unknown): Worker {
  const options = workerData === undefined ? {} : { workerData };
  if (!callerUrl.endsWith(".ts")) return new Worker(new URL(`./${moduleBaseName}.js`, callerUrl), options);
  const tsx = import.meta.resolve("tsx/esm/api");
  const script = new URL(`./${moduleBaseName}.ts`, callerUrl).href;
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(script)}); });`,
    { eval: true, ...options },
  );
}
