/**
 * The web app's one door to the node's API (docs/api.md): same origin, the session cookie set at
 * sign-in (HttpOnly: this code never sees the token), JSON in and out, and every refusal turned into
 * an ApiError carrying the RFC 9457 problem's stable code, which pages show and tests assert.
 */

/** A refused or failed request: the problem's code (docs/errors.md), status and detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly problem: Readonly<Record<string, unknown>> = {},
  ) {
    super(`${code}: ${detail}`);
    this.name = "ApiError";
  }
}

/** Listeners told when the node answers 401: the session ended (expired, revoked, signed out elsewhere). */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** path + query string, leaving out undefined and empty values. */
export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
  const qs = params.toString();
  return qs === "" ? path : `${path}?${qs}`;
}

export interface RequestOptions {
  readonly method?: "GET" | "POST" | "PUT" | "DELETE";
  readonly query?: Query;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

/** A raw response, checked: a non-2xx answer becomes an ApiError. */
export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { accept: "application/json" };
  // The node refuses a cookie-authenticated change without this header (route.ts, CSRF_REJECTED).
  if (method !== "GET") headers["x-radledger-csrf"] = "1";
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(withQuery(path, options.query), {
      method,
      headers,
      credentials: "same-origin",
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "NETWORK", "the node did not answer; check the connection and try again");
  }
  if (res.ok) return res;
  let problem: Record<string, unknown> = {};
  try {
    problem = (await res.json()) as Record<string, unknown>;
  } catch {
    // not a problem document (a proxy's error page): the status says enough
  }
  const code = typeof problem.code === "string" ? problem.code : `HTTP_${res.status}`;
  const detail = typeof problem.detail === "string" ? problem.detail : res.statusText;
  if (res.status === 401 && path !== "/api/v1/auth/login") for (const l of unauthorizedListeners) l();
  throw new ApiError(res.status, code, detail, problem);
}

/** A JSON request. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const res = await request(path, options);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Fetches a file from the node and hands it to the browser as a download with this name. */
export async function download(path: string, filename: string, query?: Query): Promise<void> {
  const res = await request(path, query ? { query } : {});
  saveBlob(await res.blob(), filename);
}

/** Saves bytes the page made (a CSV) or fetched as a file the person keeps. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A page of a list endpoint (docs/api.md "Lists and paging"). */
export interface Page<T> {
  readonly items: T[];
  readonly next?: string;
}
