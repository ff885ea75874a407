/**
 * The node's local operations: the command line's writing verbs (`ingest`, `deidentify`, `erase`,
 * `token create`, `token revoke`, `token bind-cert`, `token unbind-cert`, `consent grant|revoke`,
 * `access review`, `actor add|passwd|revoke`) and `backup`, which must run where the writer is, as
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
import { certPin } from "../domain/identity/credentials.js";
import type { CertBindingDoc } from "../domain/identity/state.js";
import { erasureReasons } from "../domain/privacy/entries.js";
import type { ImagingArchive } from "../ports/imaging.js";
import { deidentifyStudy, type DeidentifyStudyResult } from "./deidentify.js";
import { erasePatient } from "./erase.js";
import { ingestPaths, type IngestProgress, type IngestSummary } from "./ingest.js";
import type { RadledgerNode } from "./node.js";
import { formatTime } from "../core/entry.js";
import { code, publicKey, timestamp } from "../domain/schemas.js";
import { GRANTABLE_ROLES } from "../domain/identity/roles.js";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../ports/auth.js";
import {
  grantee,
  onBehalfReasons,
  purposeOfUse,
  revocationReasons,
  SCOPE_KINDS,
  uniqueList,
} from "../domain/consent/entries.js";
import { getGrant, type GrantDoc } from "../domain/consent/state.js";
import type { AccessDoc } from "../domain/access/state.js";
import { requireKnownPatient } from "../domain/patients.js";
import { institutionKey } from "./institution.js";
import { appendInstitutionRecord } from "./gatekeeper.js";
import { auditRecordedBody } from "../domain/access/audit.js";
import { accessAction, part } from "../domain/consent/entries.js";
import type { JsonObject } from "../core/canonical-json.js";
import { resolveRecordId } from "./read-only.js";
import {
  appendAs,
  changePassword,
  commitText,
  enrolActor,
  KEY_REVOCATION_REASONS,
  requireActiveActor,
  revokeActor,
} from "./actors.js";

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

// --- consent, access review and actors (src/app/actors.ts) -------------------------------------

/**
 * The institution acting on a patient's documented request (docs/families/consent.md): the request
 * document's text goes to the patient's vault, the entry carries its commitment and the reason code.
 */
const onBehalfArgs = z.strictObject({
  reason: onBehalfReasons.schema,
  document: z.string().min(1).max(10_000),
});

/** A record id as typed: a full id or a unique prefix (≥ 6 hex digits), resolved on the node. */
const idOrPrefix = z.string().min(6).max(64);

const consentGrantArgs = z.strictObject({
  patient: pseudonym,
  grantee,
  scope: z.enum(SCOPE_KINDS),
  study: idOrPrefix.optional(),
  purposes: z.array(purposeOfUse).min(1).max(17).refine(uniqueList, "purposes must be unique"),
  start: timestamp.optional(),
  end: timestamp.optional(),
  onBehalf: onBehalfArgs,
});

interface Written<D> {
  readonly index: number;
  readonly leafHash: string;
  readonly record: D;
}

/**
 * `radledger consent grant`: the operator is the institution, so the grant is signed by the
 * institution on the patient's documented request (`onBehalf`), which is what the log shows — as an
 * admin's grant through the API is. The patient's own key is for the patient's own grants.
 */
const consentGrant: Operation<z.infer<typeof consentGrantArgs>, Written<GrantDoc>, never> = {
  args: consentGrantArgs,
  run: async (node, a) => {
    requireKnownPatient(node.store, a.patient);
    const study = a.study === undefined ? undefined : resolveRecordId(node.store, "study", a.study);
    const body = {
      patient: a.patient,
      grantee: a.grantee,
      scope: { kind: a.scope },
      purposes: a.purposes,
      period: {
        start: a.start ?? formatTime(node.clock.now()),
        ...(a.end === undefined ? {} : { end: a.end }),
      },
      onBehalf: {
        documentCommitment: commitText(node, a.patient, "document", a.onBehalf.document),
        reason: a.onBehalf.reason,
      },
    };
    const r = await appendAs(node, institutionKey(node), "consent.granted", body, study ? { study } : {});
    return { ...r, record: getGrant(node.store, r.leafHash)! };
  },
};

const consentRevokeArgs = z.strictObject({
  grant: idOrPrefix,
  reason: revocationReasons.schema.optional(),
  onBehalf: onBehalfArgs,
});

const consentRevoke: Operation<z.infer<typeof consentRevokeArgs>, Written<GrantDoc>, never> = {
  args: consentRevokeArgs,
  run: async (node, a) => {
    const grant = getGrant(node.store, resolveRecordId(node.store, "consent", a.grant))!;
    const body = {
      ...(a.reason === undefined ? {} : { reason: a.reason }),
      onBehalf: {
        documentCommitment: commitText(node, grant.patient, "document", a.onBehalf.document),
        reason: a.onBehalf.reason,
      },
    };
    const r = await appendAs(node, institutionKey(node), "consent.revoked", body, { grant: grant.id });
    return { ...r, record: getGrant(node.store, grant.id)! };
  },
};

/** A person's own credential, checked as the API checks a bearer token. */
const credentialArgs = z.strictObject({ token: z.string().min(1).max(512) });

/**
 * The person a credential authenticates (as the API's bearer authentication: a valid, unexpired,
 * unrevoked token of an active actor), whose held key then signs — the command line acting for a
 * person exactly as the API does for its caller, never on the operator's say-so.
 */
async function authenticated(node: RadledgerNode, auth: AuthStore, token: string): Promise<ActorDoc> {
  const record = await auth.verifyToken(token, node.clock.now());
  const actor = getActor(node.store, record.actor);
  if (!actor || actor.status !== "active" || actor.id === INSTITUTION_ACTOR)
    throw new RadledgerError("AUTH_ACTOR_INACTIVE", `actor ${record.actor} is not an active enrolled actor`);
  return actor;
}

const accessReviewArgs = z.strictObject({
  access: idOrPrefix,
  outcome: z.enum(["justified", "unjustified", "escalated"]),
  note: z.string().min(1).max(10_000).optional(),
  credential: credentialArgs,
});

/**
 * `radledger access review`: an auditor closes a break-glass access. access.reviewed is the
 * auditor's own statement (only auditors sign it), so the auditor authenticates with their own token
 * and the key the node holds for them signs, as POST /api/v1/entries/access.reviewed does. The note
 * goes to the patient's vault; the entry carries its commitment.
 */
const accessReview: Operation<z.infer<typeof accessReviewArgs>, Written<AccessDoc>, never> = {
  args: accessReviewArgs,
  run: (node, a, env) =>
    withAuth(node, env, async (auth) => {
      const auditor = await authenticated(node, auth, a.credential.token);
      const key = node.heldKeys.get(auditor.id);
      if (!key)
        throw new RadledgerError(
          "SIGNING_KEY_NOT_HELD",
          `the node holds no key for ${auditor.id}: sign access.reviewed yourself and POST it to /api/v1/entries`,
        );
      const id = resolveRecordId(node.store, "access", a.access);
      const access = node.store.getDoc("access", id) as unknown as AccessDoc;
      const body = {
        outcome: a.outcome,
        ...(a.note === undefined ? {} : { noteCommitment: commitText(node, access.patient, "note", a.note) }),
      };
      const r = await appendAs(node, key, "access.reviewed", body, { access: id });
      return { ...r, record: node.store.getDoc("access", id) as unknown as AccessDoc };
    }),
};

const newPassword = z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH);

const actorAddArgs = z.strictObject({
  actorId,
  kind: z.enum(["staff", "patient", "system"]),
  roles: z
    .array(z.enum(GRANTABLE_ROLES as [string, ...string[]]))
    .min(1)
    .max(8),
  displayName: label.optional(),
  specialty: code.optional(),
  organisation: label.optional(),
  patient: pseudonym.optional(),
  publicKey: publicKey.optional(),
  password: newPassword.optional(),
});

/**
 * `radledger actor add`: the institution enrols (actor.enrolled), as an admin does through
 * POST /api/v1/actors; a first password is set by the institution, so the person chooses their own
 * at the first sign-in.
 */
const actorAdd: Operation<
  z.infer<typeof actorAddArgs>,
  { index: number; leafHash: string; actor: ActorDoc; keyHeld: boolean; passwordSet: boolean },
  never
> = {
  args: actorAddArgs,
  run: (node, { password, ...a }, env) =>
    withAuth(node, env, async (auth) => {
      const r = await enrolActor(node, institutionKey(node), a);
      if (password !== undefined)
        await changePassword(node, auth, { actor: a.actorId, password, by: INSTITUTION_ACTOR });
      return { ...r, actor: getActor(node.store, a.actorId)!, passwordSet: password !== undefined };
    }),
};

const actorPasswdArgs = z.strictObject({ actor: actorId, password: newPassword });

/**
 * `radledger actor passwd`: a reset by the institution, as an admin's through
 * PUT /api/v1/actors/:id/password: every token of the actor is revoked, and the person must choose
 * a new password at the next sign-in (PASSWORD_CHANGE_REQUIRED until then).
 */
const actorPasswd: Operation<
  z.infer<typeof actorPasswdArgs>,
  { actor: string; revokedTokens: number },
  never
> = {
  args: actorPasswdArgs,
  run: (node, a, env) =>
    withAuth(node, env, async (auth) => {
      requireActiveActor(node, a.actor);
      const { revoked } = await changePassword(node, auth, {
        actor: a.actor,
        password: a.password,
        by: INSTITUTION_ACTOR,
      });
      return { actor: a.actor, revokedTokens: revoked };
    }),
};

const actorRevokeArgs = z.strictObject({ actor: actorId, reason: z.enum(KEY_REVOCATION_REASONS) });

/** `radledger actor revoke`: the institution revokes the actor's keys and tokens (src/app/actors.ts). */
const actorRevoke: Operation<
  z.infer<typeof actorRevokeArgs>,
  { actor: string; keys: string[]; tokens: TokenRecord[] },
  never
> = {
  args: actorRevokeArgs,
  run: (node, a, env) =>
    withAuth(node, env, async (auth) => ({
      actor: a.actor,
      ...(await revokeActor(node, auth, institutionKey(node), a.actor, a.reason)),
    })),
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

const auditRecordArgs = z.strictObject({
  /** What the verb read or exported: the node's audit events (audit.recorded bodies). */
  events: z.array(auditRecordedBody).max(8),
  /** Accesses to parts of patients' records the verb discloses (the report of a report bundle). */
  accesses: z
    .array(z.strictObject({ patient: pseudonym, part, action: accessAction, purpose: purposeOfUse }))
    .max(8)
    .default([]),
});

/**
 * Recording of the command line's own reads and exports (docs/audit.md "What is recorded when"):
 * `radledger export` and `radledger query` read the data directory without the writer lock, so they
 * record here — in this process when the directory is free, in the serving node otherwise — before
 * they print or write anything. The operator at the data directory acts as the institution: the
 * accesses carry basis role institution (docs/families/access.md "Basis role").
 */
const auditRecord: Operation<
  z.infer<typeof auditRecordArgs>,
  { events: number[]; accesses: number[] },
  never
> = {
  args: auditRecordArgs,
  run: async (node, a) => {
    const now = node.clock.now();
    const accesses: number[] = [];
    for (const x of a.accesses) {
      const body = {
        actor: INSTITUTION_ACTOR,
        patient: x.patient,
        part: x.part,
        action: x.action,
        purpose: x.purpose,
        decision: "permit",
        basis: { kind: "role", role: "institution" },
      };
      accesses.push((await appendInstitutionRecord(node, "access.recorded", body, {}, now)).index);
    }
    const events: number[] = [];
    for (const e of a.events)
      events.push((await appendInstitutionRecord(node, "audit.recorded", e as JsonObject, {}, now)).index);
    return { events, accesses };
  },
};

export const OPERATIONS = {
  "audit-record": auditRecord,
  backup,
  ingest,
  deidentify,
  erase,
  "token-issue": tokenIssue,
  "token-revoke": tokenRevoke,
  "cert-bind": certBind,
  "cert-unbind": certUnbind,
  "consent-grant": consentGrant,
  "consent-revoke": consentRevoke,
  "access-review": accessReview,
  "actor-add": actorAdd,
  "actor-passwd": actorPasswd,
  "actor-revoke": actorRevoke,
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
