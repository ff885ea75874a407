/**
 * The node's local operations: the command line's writing verbs (`ingest`, `deidentify`, `erase`,
 * `token create`, `token revoke`, `token bind-cert`, `token unbind-cert`) and `backup`, which must run where the writer is, as
 * named operations with JSON arguments. Each runs on a RadledgerNode and appends only through its
 * appender, so it is decided and recorded like any other request. The command line runs an operation
 * in its own process when the data directory is free, and inside the serving node — sent over the
 * node's local socket (src/api/local-socket.ts) — while `radledger serve` holds it; either way the
 * same code runs and the caller gets the same JSON.
 *
 * Arguments come from the operator (the command line, or whoever can open the socket, which only the
 * data directory's owner can): they are still parsed strictly, as any input is. Paths are absolute:
 * the serving process does not share the caller's working directory.
 */
import { isAbsolute } from "node:path";
import { z } from "zod";
import { RadledgerError, type ErrorCode, type ErrorDetails } from "../core/errors.js";
import { actorId, label, pseudonym } from "../domain/schemas.js";
import { getActor, INSTITUTION_ACTOR } from "../domain/identity/state.js";
import type { ActorDoc } from "../domain/ledger/entry-types.js";
import {
  MAX_API_TOKEN_TTL_SECONDS,
  MAX_ENROLMENT_CODE_TTL_SECONDS,
  MIN_ENROLMENT_CODE_TTL_SECONDS,
  MIN_TOKEN_TTL_SECONDS,
  type AuthStore,
  type EnrolmentCodeRecord,
  type TokenRecord,
} from "../ports/auth.js";
import type { PinDatabases } from "../ports/backup.js";
import { backupNode, type BackupProgress, type BackupResult } from "./backup.js";
import { bindCertificate, issueToken, revokeToken, unbindCertificate } from "./credentials.js";
import { issueEnrolmentCode, selfEnrollable } from "./enrolment.js";
import { certPin } from "../domain/identity/entries.js";
import type { CertBindingDoc } from "../domain/identity/state.js";
import { erasureReasons } from "../domain/privacy/entries.js";
import type { ImagingArchive } from "../ports/imaging.js";
import { deidentifyStudy, type DeidentifyStudyResult } from "./deidentify.js";
import { erasePatient } from "./erase.js";
import { ingestPaths, type IngestProgress, type IngestSummary } from "./ingest.js";
import type { RadledgerNode } from "./node.js";

/** What operations need besides the node, given by the wiring (src/wiring/operations.ts). */
export interface OperationEnv {
  /** The data directory's credentials store (closed by the caller). */
  openAuth(dir: string): AuthStore;
  /** An image archive (Orthanc) named by the caller. */
  connectArchive(o: {
    readonly url: string;
    readonly user?: string | undefined;
    readonly password?: string | undefined;
  }): ImagingArchive;
  /** Read snapshots of the data directory's SQLite databases, pinned at one instant (backup). */
  readonly pinDatabases: PinDatabases;
}

/** A value as it crosses the socket: JSON, with coded errors in their toJSON form. */
export type Wire<T> = T extends RadledgerError
  ? { code: ErrorCode; message: string; details: ErrorDetails }
  : T extends readonly (infer I)[]
    ? Wire<I>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;

interface Operation<A, R, P> {
  readonly args: z.ZodType<A>;
  run(node: RadledgerNode, args: A, env: OperationEnv, progress: (p: P) => void): Promise<R>;
}

const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => isAbsolute(p), "an absolute path");

const archive = z.strictObject({
  url: z.string().regex(/^https?:\/\/[^\s@/]+/, "http(s)://host[:port] without credentials"),
  user: z.string().max(256).optional(),
  password: z.string().max(1024).optional(),
});

/** Record ids as the caller typed them: the operation itself says RECORD_NOT_FOUND for a wrong one. */
const recordId = z.string().min(1).max(200);

const ingestArgs = z.strictObject({
  paths: z.array(absolutePath).min(1).max(10_000),
  sourceName: z.string().min(1).max(64).optional(),
  workers: z.number().int().min(1).max(64).optional(),
});

const ingest: Operation<z.infer<typeof ingestArgs>, IngestSummary, IngestProgress> = {
  args: ingestArgs,
  run: (node, a, _env, progress) =>
    ingestPaths(node, a.paths, {
      ...(a.sourceName === undefined ? {} : { sourceName: a.sourceName }),
      ...(a.workers === undefined ? {} : { workers: a.workers }),
      onProgress: progress,
    }),
};
const deidentifyArgs = z.strictObject({
  study: recordId,
  out: absolutePath,
  target: z.discriminatedUnion("kind", [
    z.strictObject({
      kind: z.literal("trial"),
      subject: recordId,
      timepoint: z.string().min(1).max(64),
      modality: z.string().max(16).optional(),
      linkStudy: z.literal(true).optional(),
    }),
    z.strictObject({
      kind: z.literal("dataset"),
      dataset: recordId,
      modality: z.string().max(16).optional(),
      signer: z.string().max(64).optional(),
    }),
  ]),
  via: z.enum(["files", "orthanc"]).optional(),
  archive: archive.optional(),
  keepInArchive: z.literal(true).optional(),
});

const deidentify: Operation<z.infer<typeof deidentifyArgs>, DeidentifyStudyResult, never> = {
  args: deidentifyArgs,
  run: (node, { archive: source, ...a }, env) =>
    deidentifyStudy(node, {
      ...a,
      ...(source === undefined ? {} : { archive: env.connectArchive(source) }),
    }),
};

const eraseArgs = z.strictObject({ patient: pseudonym, reason: erasureReasons.schema });

const erase: Operation<z.infer<typeof eraseArgs>, { recorded: boolean; items: number }, never> = {
  args: eraseArgs,
  run: (node, a) => erasePatient(node, a.patient, a.reason),
};

/** The operator acts as the institution: the command line's token verbs are issued by it. */
function institution(node: RadledgerNode): ActorDoc {
  return getActor(node.store, INSTITUTION_ACTOR)!;
}

function withAuth<T>(
  node: RadledgerNode,
  env: OperationEnv,
  fn: (auth: AuthStore) => Promise<T>,
): Promise<T> {
  const auth = env.openAuth(node.dir);
  return fn(auth).finally(() => auth.close());
}

const tokenIssueArgs = z.strictObject({
  actor: actorId,
  ttlSeconds: z.number().int().min(MIN_TOKEN_TTL_SECONDS).max(MAX_API_TOKEN_TTL_SECONDS),
  label: label.optional(),
});

const tokenIssue: Operation<z.infer<typeof tokenIssueArgs>, { token: string; record: TokenRecord }, never> = {
  args: tokenIssueArgs,
  run: (node, a, env) =>
    withAuth(node, env, (auth) => {
      const target = getActor(node.store, a.actor);
      if (!target || target.status !== "active" || target.id === INSTITUTION_ACTOR)
        throw new RadledgerError("ACTOR_UNKNOWN", `no active enrolled actor ${a.actor}`, { at: "actor" });
      if (target.kind !== "system" && !target.roles.includes("admin"))
        throw new RadledgerError(
          "TOKEN_NOT_ISSUABLE",
          `${target.id} is a person: they sign in and obtain their own token (the command line issues tokens for system actors and admins only)`,
          { at: "actor" },
        );
      return issueToken(node, auth, {
        target,
        issuer: institution(node),
        kind: "api",
        ttlSeconds: a.ttlSeconds,
        label: a.label,
      });
    }),
};

const tokenRevokeArgs = z.strictObject({ id: z.string().regex(/^[0-9a-f]{16}$/, "16 hex digits") });

const tokenRevoke: Operation<z.infer<typeof tokenRevokeArgs>, TokenRecord, never> = {
  args: tokenRevokeArgs,
  run: (node, a, env) =>
    withAuth(node, env, (auth) => {
      const record = auth.getToken(a.id);
      if (!record) throw new RadledgerError("RECORD_NOT_FOUND", `no token ${a.id}`, { at: "id" });
      return revokeToken(node, auth, record, INSTITUTION_ACTOR, "revoked");
    }),
};

const backupArgs = z.strictObject({ to: absolutePath, keysTo: absolutePath.optional() });

/** Inside the node that holds the directory: that is what makes the copy consistent (src/app/backup.ts). */
const backup: Operation<z.infer<typeof backupArgs>, BackupResult, BackupProgress> = {
  args: backupArgs,
  run: (node, a, env, progress) => backupNode(node, env.pinDatabases, a, progress),
};

const certBindArgs = z.strictObject({
  actor: actorId,
  pin: certPin,
  subject: label.optional(),
  notAfter: z.string().max(40).optional(),
});

/** `radledger token bind-cert`: the operator (as the institution) binds a certificate key to a system actor. */
const certBind: Operation<z.infer<typeof certBindArgs>, CertBindingDoc, never> = {
  args: certBindArgs,
  run: (node, a) => {
    const target = getActor(node.store, a.actor);
    if (!target || target.status !== "active" || target.id === INSTITUTION_ACTOR)
      throw new RadledgerError("ACTOR_UNKNOWN", `no active enrolled actor ${a.actor}`, { at: "actor" });
    return bindCertificate(node, {
      target,
      issuer: institution(node),
      pin: a.pin,
      subject: a.subject,
      notAfter: a.notAfter,
    });
  },
};

const certUnbindArgs = z.strictObject({ pin: certPin });

const certUnbind: Operation<z.infer<typeof certUnbindArgs>, CertBindingDoc, never> = {
  args: certUnbindArgs,
  run: (node, a) => unbindCertificate(node, a.pin, INSTITUTION_ACTOR),
};

const enrolmentCodeArgs = z.strictObject({
  actor: actorId,
  ttlSeconds: z.number().int().min(MIN_ENROLMENT_CODE_TTL_SECONDS).max(MAX_ENROLMENT_CODE_TTL_SECONDS),
});

/** `radledger actor enrolment-code`: the operator (as the institution) issues a patient's enrolment code. */
const enrolmentCodeIssue: Operation<
  z.infer<typeof enrolmentCodeArgs>,
  { code: string; record: EnrolmentCodeRecord },
  never
> = {
  args: enrolmentCodeArgs,
  run: (node, a, env) =>
    withAuth(node, env, (auth) =>
      issueEnrolmentCode(node, auth, {
        target: selfEnrollable(node, a.actor),
        issuer: institution(node),
        ttlSeconds: a.ttlSeconds,
      }),
    ),
};

export const OPERATIONS = {
  backup,
  ingest,
  deidentify,
  erase,
  "token-issue": tokenIssue,
  "token-revoke": tokenRevoke,
  "cert-bind": certBind,
  "cert-unbind": certUnbind,
  "enrolment-code-issue": enrolmentCodeIssue,
} as const;

export type OperationName = keyof typeof OPERATIONS;
type Op<N extends OperationName> = (typeof OPERATIONS)[N];
export type OperationArgs<N extends OperationName> = z.input<Op<N>["args"]>;
export type OperationResult<N extends OperationName> = Wire<Awaited<ReturnType<Op<N>["run"]>>>;
export type OperationProgress<N extends OperationName> = Parameters<Parameters<Op<N>["run"]>[3]>[0];

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(OPERATIONS, name);
}

/**
 * Runs an operation on a node: arguments parsed strictly (INPUT_INVALID naming the field), the
 * result turned into its wire form, whichever process runs it.
 */
export async function runOperation<N extends OperationName>(
  node: RadledgerNode,
  env: OperationEnv,
  name: N,
  args: unknown,
  progress: (p: OperationProgress<N>) => void = () => undefined,
): Promise<OperationResult<N>> {
  const op = OPERATIONS[name] as unknown as Operation<unknown, unknown, OperationProgress<N>>;
  const parsed = op.args.safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.join(".");
    throw new RadledgerError("INPUT_INVALID", `${name}: ${at === "" ? "" : `${at}: `}${issue.message}`, {
      ...(at === "" ? {} : { at }),
    });
  }
  const result = await op.run(node, parsed.data, env, progress);
  return JSON.parse(JSON.stringify(result)) as OperationResult<N>;
}
