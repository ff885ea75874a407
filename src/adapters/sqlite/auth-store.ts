/**
 * API credentials on SQLite and node:crypto scrypt (RFC 7914). Tokens are `rl_<id>_<secret>`: a
 * public 16-hex-digit id used for lookup and a 32-byte random secret (base64url) of which only an
 * scrypt hash is stored. Passwords are stored as scrypt hashes with their own salt and parameters
 * (`scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`), so costs can be raised later without breaking old hashes.
 *
 * A token secret has 256 bits of entropy, so its KDF cost only guards a stolen database against
 * offline checks of individual tokens; passwords are low-entropy and get the full cost (OWASP's
 * scrypt guidance: N=2^16, r=8, p=2). A token is checked with scrypt once per process; afterwards
 * a SHA-256 of the secret kept in memory is compared in constant time, while expiry and revocation
 * are read from the database on every request, so a revocation (even by another process, e.g. the
 * CLI) takes effect at once.
 */
import { guardWrite, openSqlite, storeError } from "./open.js";
import Database from "better-sqlite3";
import { chmodSync } from "node:fs";
import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { RadledgerError } from "../../core/errors.js";
import { formatEnrolmentCode, parseEnrolmentCode } from "../../core/enrolment.js";
import {
  MAX_ENROLMENT_CODE_ATTEMPTS,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  type AuthStore,
  type EnrolmentCodeRecord,
  type IssueEnrolmentCodeRequest,
  type IssueTokenRequest,
  type TokenKind,
  type TokenRecord,
} from "../../ports/auth.js";

export interface ScryptCost {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

export interface AuthStoreOptions {
  readonly passwordCost?: ScryptCost;
  readonly tokenCost?: ScryptCost;
}

export const PASSWORD_COST: ScryptCost = { logN: 16, r: 8, p: 2 };
export const TOKEN_COST: ScryptCost = { logN: 14, r: 8, p: 1 };
export const TOKEN_PATTERN = /^rl_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

const KEY_LENGTH = 32;

function kdf(secret: string | Buffer, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const N = 2 ** cost.logN;
  return new Promise((resolve, reject) =>
    scrypt(
      secret,
      salt,
      KEY_LENGTH,
      { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r + (1 << 20) },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

async function hashSecret(secret: string, cost: ScryptCost): Promise<string> {
  const salt = randomBytes(16);
  const key = await kdf(secret, salt, cost);
  return `scrypt$${cost.logN}$${cost.r}$${cost.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

async function checkSecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt")
    throw new RadledgerError("STORE_CORRUPT", "an auth hash is not in scrypt form");
  const cost = { logN: Number(parts[1]), r: Number(parts[2]), p: Number(parts[3]) };
  const expected = Buffer.from(parts[5]!, "base64");
  const key = await kdf(secret, Buffer.from(parts[4]!, "base64"), cost);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

const sha256 = (s: string): Buffer => createHash("sha256").update(s).digest();

interface TokenRow {
  id: string;
  actor: string;
  kind: string;
  label: string | null;
  hash: string;
  created_at: number;
  created_by: string;
  expires_at: number;
  revoked_at: number | null;
  revoked_by: string | null;
  pending: number;
}

function record(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    actor: row.actor,
    kind: row.kind as TokenKind,
    ...(row.label === null ? {} : { label: row.label }),
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
    ...(row.revoked_by === null ? {} : { revokedBy: row.revoked_by }),
    ...(row.pending === 0 ? {} : { pending: true as const }),
  };
}

interface EnrolmentCodeRow {
  id: string;
  actor: string;
  hash: string;
  created_at: number;
  created_by: string;
  expires_at: number;
  used_at: number | null;
  attempts: number;
  pending: number;
}

function codeRecord(row: EnrolmentCodeRow): EnrolmentCodeRecord {
  return {
    id: row.id,
    actor: row.actor,
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    ...(row.used_at === null ? {} : { usedAt: row.used_at }),
    attempts: row.attempts,
    ...(row.pending === 0 ? {} : { pending: true as const }),
  };
}

export class SqliteAuthStore implements AuthStore {
  readonly #db: Database.Database;
  readonly #passwordCost: ScryptCost;
  readonly #tokenCost: ScryptCost;
  /** Token id → SHA-256 of its secret, for tokens whose secret passed scrypt in this process. */
  readonly #verified = new Map<string, Buffer>();
  /**
   * Token rows by id, read once per change of the database: every API request presents a token,
   * and a SELECT per request cost a tenth of an append over HTTP. The cache is dropped when this
   * connection writes and when `PRAGMA data_version` shows another connection's commit (the CLI's
   * `token revoke` in another process), so a revocation takes effect at the next request.
   */
  readonly #rows = new Map<string, TokenRow>();
  #dataVersion = -1;
  /** A hash to check against when an actor has no password, so both paths cost the same. */
  #dummy: Promise<string> | undefined;
  readonly #s;
  readonly #path: string;

  constructor(path: string, options: AuthStoreOptions = {}) {
    this.#path = path;
    this.#passwordCost = options.passwordCost ?? PASSWORD_COST;
    this.#tokenCost = options.tokenCost ?? TOKEN_COST;
    this.#db = openSqlite(path, {
      what: "credentials",
      schema: `
      CREATE TABLE IF NOT EXISTS tokens (
        id TEXT PRIMARY KEY, actor TEXT NOT NULL, kind TEXT NOT NULL, label TEXT, hash TEXT NOT NULL,
        created_at INTEGER NOT NULL, created_by TEXT NOT NULL, expires_at INTEGER NOT NULL,
        revoked_at INTEGER, revoked_by TEXT, pending INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS tokens_actor ON tokens (actor);
      CREATE TABLE IF NOT EXISTS passwords (
        actor TEXT PRIMARY KEY, hash TEXT NOT NULL, set_at INTEGER NOT NULL, set_by TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS enrolment_codes (
        id TEXT PRIMARY KEY, actor TEXT NOT NULL, hash TEXT NOT NULL, created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0, pending INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS enrolment_codes_actor ON enrolment_codes (actor);
    `,
    });
    if (path !== ":memory:") chmodSync(path, 0o600);
    // Stores created before tokens could be pending: every token in them is usable.
    const columns = this.#db.prepare("SELECT name FROM pragma_table_info('tokens')").pluck().all();
    if (!columns.includes("pending"))
      this.#write(() => this.#db.exec("ALTER TABLE tokens ADD COLUMN pending INTEGER NOT NULL DEFAULT 0"));
    this.#s = {
      insert: this.#db.prepare(
        "INSERT INTO tokens (id, actor, kind, label, hash, created_at, created_by, expires_at, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      activate: this.#db.prepare("UPDATE tokens SET pending = 0 WHERE id = ?"),
      get: this.#db.prepare("SELECT * FROM tokens WHERE id = ?"),
      dataVersion: this.#db.prepare("PRAGMA data_version").pluck(),
      all: this.#db.prepare("SELECT * FROM tokens ORDER BY created_at, id"),
      ofActor: this.#db.prepare("SELECT * FROM tokens WHERE actor = ? ORDER BY created_at, id"),
      revoke: this.#db.prepare(
        "UPDATE tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL",
      ),
      revokeOf: this.#db.prepare(
        "UPDATE tokens SET revoked_at = ?, revoked_by = ? WHERE actor = ? AND revoked_at IS NULL AND expires_at > ?",
      ),
      password: this.#db.prepare("SELECT hash FROM passwords WHERE actor = ?"),
      passwordSetBy: this.#db.prepare("SELECT set_by FROM passwords WHERE actor = ?").pluck(),
      codeInsert: this.#db.prepare(
        "INSERT INTO enrolment_codes (id, actor, hash, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      codeGet: this.#db.prepare("SELECT * FROM enrolment_codes WHERE id = ?"),
      codeActivate: this.#db.prepare("UPDATE enrolment_codes SET pending = 0 WHERE id = ?"),
      codeUse: this.#db.prepare("UPDATE enrolment_codes SET used_at = ? WHERE id = ? AND used_at IS NULL"),
      codeAll: this.#db.prepare("SELECT * FROM enrolment_codes ORDER BY created_at, id"),
      codeOfActor: this.#db.prepare("SELECT * FROM enrolment_codes WHERE actor = ? ORDER BY created_at, id"),
      codeFail: this.#db.prepare(
        "UPDATE enrolment_codes SET attempts = attempts + 1 WHERE actor = ? AND used_at IS NULL AND expires_at > ?",
      ),
      codeMaxAttempts: this.#db
        .prepare(
          "SELECT max(attempts) FROM enrolment_codes WHERE actor = ? AND used_at IS NULL AND expires_at > ?",
        )
        .pluck(),
      setPassword: this.#db.prepare(
        "INSERT INTO passwords (actor, hash, set_at, set_by) VALUES (?, ?, ?, ?) ON CONFLICT (actor) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at, set_by = excluded.set_by",
      ),
    };
  }

  async issueToken(r: IssueTokenRequest): Promise<{ token: string; record: TokenRecord }> {
    const now = r.now ?? Date.now();
    if (!Number.isSafeInteger(r.ttlMs) || r.ttlMs <= 0)
      throw new RadledgerError(
        "INPUT_INVALID",
        "a token's lifetime must be a positive number of milliseconds",
      );
    const secret = randomBytes(32).toString("base64url");
    const hash = await hashSecret(secret, this.#tokenCost);
    for (;;) {
      const id = randomBytes(8).toString("hex");
      try {
        this.#rows.clear();
        this.#s.insert.run(
          id,
          r.actor,
          r.kind,
          r.label ?? null,
          hash,
          now,
          r.createdBy,
          now + r.ttlMs,
          r.pending === true ? 1 : 0,
        );
      } catch (e) {
        if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") continue;
        throw this.#fault(e);
      }
      this.#verified.set(id, sha256(secret));
      return { token: `rl_${id}_${secret}`, record: this.getToken(id)! };
    }
  }

  async verifyToken(token: string, now = Date.now()): Promise<TokenRecord> {
    const m = TOKEN_PATTERN.exec(token);
    if (!m) throw new RadledgerError("AUTH_TOKEN_INVALID", "the bearer token is malformed");
    const [, id, secret] = m as unknown as [string, string, string];
    const row = this.cachedRow(id);
    if (!row) throw new RadledgerError("AUTH_TOKEN_INVALID", "unknown bearer token");
    const known = this.#verified.get(id);
    const ok = known
      ? timingSafeEqual(known, sha256(secret))
      : await checkSecret(secret, row.hash).then((good) => {
          if (good) {
            if (this.#verified.size >= 100_000) this.#verified.clear();
            this.#verified.set(id, sha256(secret));
          }
          return good;
        });
    if (!ok) throw new RadledgerError("AUTH_TOKEN_INVALID", "unknown bearer token");
    // Re-read only after scrypt ran (a revocation may have landed meanwhile); a cached secret was
    // checked synchronously against the row just read.
    const current = record(known ? row : ((this.#s.get.get(id) as TokenRow | undefined) ?? row));
    // A pending token's issuance is not on the log (yet, or ever): it is no token.
    if (current.pending === true) throw new RadledgerError("AUTH_TOKEN_INVALID", "unknown bearer token");
    if (current.revokedAt !== undefined)
      throw new RadledgerError("AUTH_TOKEN_REVOKED", `token ${id} was revoked`);
    if (current.expiresAt <= now) throw new RadledgerError("AUTH_TOKEN_EXPIRED", `token ${id} has expired`);
    return current;
  }

  /** The token's row as committed (see #rows). */
  private cachedRow(id: string): TokenRow | undefined {
    const version = this.#s.dataVersion.get() as number;
    if (version !== this.#dataVersion) {
      this.#rows.clear();
      this.#dataVersion = version;
    }
    let row = this.#rows.get(id);
    if (row === undefined) {
      row = this.#s.get.get(id) as TokenRow | undefined;
      if (row === undefined) return undefined;
      if (this.#rows.size >= 10_000) this.#rows.clear();
      this.#rows.set(id, row);
    }
    return row;
  }

  getToken(id: string): TokenRecord | undefined {
    const row = this.#s.get.get(id) as TokenRow | undefined;
    return row && record(row);
  }

  listTokens(actor?: string): TokenRecord[] {
    const rows = (actor === undefined ? this.#s.all.all() : this.#s.ofActor.all(actor)) as TokenRow[];
    return rows.map(record);
  }

  activateToken(id: string): TokenRecord | undefined {
    this.#rows.clear();
    this.#write(() => this.#s.activate.run(id));
    return this.getToken(id);
  }

  revokeToken(id: string, by: string, now = Date.now()): TokenRecord | undefined {
    this.#rows.clear();
    this.#write(() => this.#s.revoke.run(now, by, id));
    this.#verified.delete(id);
    return this.getToken(id);
  }

  revokeTokensOf(actor: string, by: string, now = Date.now()): number {
    for (const t of this.listTokens(actor)) this.#verified.delete(t.id);
    this.#rows.clear();
    return this.#write(() => this.#s.revokeOf.run(now, by, actor, now).changes);
  }

  async setPassword(actor: string, password: string, by: string, now = Date.now()): Promise<void> {
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH)
      throw new RadledgerError(
        "INPUT_INVALID",
        `a password has ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
        { at: "password" },
      );
    const hash = await hashSecret(password, this.#passwordCost);
    this.#write(() => this.#s.setPassword.run(actor, hash, now, by));
  }

  async checkPassword(actor: string, password: string): Promise<boolean> {
    const row = this.#s.password.get(actor) as { hash: string } | undefined;
    if (!row) {
      this.#dummy ??= hashSecret(randomBytes(16).toString("hex"), this.#passwordCost);
      await checkSecret(password, await this.#dummy);
      return false;
    }
    return checkSecret(password, row.hash);
  }

  hasPassword(actor: string): boolean {
    return this.#s.password.get(actor) !== undefined;
  }

  passwordSetBy(actor: string): string | undefined {
    return this.#s.passwordSetBy.get(actor) as string | undefined;
  }

  async issueEnrolmentCode(
    r: IssueEnrolmentCodeRequest,
  ): Promise<{ code: string; record: EnrolmentCodeRecord }> {
    const now = r.now ?? Date.now();
    if (!Number.isSafeInteger(r.ttlMs) || r.ttlMs <= 0)
      throw new RadledgerError(
        "INPUT_INVALID",
        "a code's lifetime must be a positive number of milliseconds",
      );
    for (;;) {
      const { code, id, secret } = formatEnrolmentCode(randomBytes(15));
      const hash = await hashSecret(secret, this.#tokenCost);
      try {
        this.#s.codeInsert.run(id, r.actor, hash, now, r.createdBy, now + r.ttlMs);
      } catch (e) {
        // 40-bit ids: a clash is rare but possible; draw again.
        if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") continue;
        throw this.#fault(e);
      }
      return { code, record: this.#code(id)! };
    }
  }

  activateEnrolmentCode(id: string): EnrolmentCodeRecord | undefined {
    this.#write(() => this.#s.codeActivate.run(id));
    return this.#code(id);
  }

  async checkEnrolmentCode(actor: string, code: string, now = Date.now()): Promise<EnrolmentCodeRecord> {
    const parsed = parseEnrolmentCode(code);
    const row =
      parsed === undefined ? undefined : (this.#s.codeGet.get(parsed.id) as EnrolmentCodeRow | undefined);
    // Scrypt runs for unknown codes too (against the row's or a dummy hash), so timing tells nothing.
    const good =
      parsed !== undefined &&
      (await checkSecret(parsed.secret, row?.hash ?? (await this.#dummyCode()))) &&
      row !== undefined &&
      row.actor === actor &&
      row.pending === 0;
    const open = (): number => (this.#s.codeMaxAttempts.get(actor, now) as number | null) ?? 0;
    if (!good) {
      this.#write(() => this.#s.codeFail.run(actor, now));
      if (open() >= MAX_ENROLMENT_CODE_ATTEMPTS)
        throw new RadledgerError(
          "ENROLMENT_CODE_EXHAUSTED",
          `${MAX_ENROLMENT_CODE_ATTEMPTS} wrong codes were tried: the open codes are void; ask the registrar for a new one`,
          { at: "code" },
        );
      throw new RadledgerError("ENROLMENT_CODE_INVALID", "this is not an enrolment code of yours", {
        at: "code",
      });
    }
    const record = codeRecord(row);
    if (record.usedAt !== undefined)
      throw new RadledgerError("ENROLMENT_CODE_USED", `enrolment code ${record.id} was already used`, {
        at: "code",
      });
    if (record.expiresAt <= now)
      throw new RadledgerError("ENROLMENT_CODE_EXPIRED", `enrolment code ${record.id} has expired`, {
        at: "code",
      });
    if (record.attempts >= MAX_ENROLMENT_CODE_ATTEMPTS)
      throw new RadledgerError(
        "ENROLMENT_CODE_EXHAUSTED",
        `${MAX_ENROLMENT_CODE_ATTEMPTS} wrong codes were tried: this code is void; ask the registrar for a new one`,
        { at: "code" },
      );
    return record;
  }

  useEnrolmentCode(id: string, now = Date.now()): EnrolmentCodeRecord | undefined {
    this.#write(() => this.#s.codeUse.run(now, id));
    return this.#code(id);
  }

  listEnrolmentCodes(actor?: string): EnrolmentCodeRecord[] {
    const rows = (
      actor === undefined ? this.#s.codeAll.all() : this.#s.codeOfActor.all(actor)
    ) as EnrolmentCodeRow[];
    return rows.map(codeRecord);
  }

  #code(id: string): EnrolmentCodeRecord | undefined {
    const row = this.#s.codeGet.get(id) as EnrolmentCodeRow | undefined;
    return row && codeRecord(row);
  }

  #dummyCodeHash: Promise<string> | undefined;
  #dummyCode(): Promise<string> {
    this.#dummyCodeHash ??= hashSecret(randomBytes(10).toString("hex"), this.#tokenCost);
    return this.#dummyCodeHash;
  }

  /** A write on a full or read-only disk is STORE_FULL or STORE_IO (503), not a raw SqliteError (500). */
  #write<T>(write: () => T): T {
    return guardWrite(this.#path, "credentials", undefined, write);
  }

  #fault(e: unknown): unknown {
    return storeError(e, this.#path, "credentials") ?? e;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
