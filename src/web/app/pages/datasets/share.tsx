/**
 * Sharing a sealed version with another institution under a data-use agreement (curators and
 * admins): appends `dataset.shared` (POST /api/v1/entries/dataset.shared) with the grantee's log
 * origin or name, the SHA-256 of the signed agreement — computed here in the browser from the file
 * (WebCrypto; the file is not uploaded) or pasted — a purpose of use and an optional expiry
 * (docs/families/datasets.md). Institutions already known to the dataset are offered by name.
 */
import { useState } from "preact/hooks";
import { api, ApiError } from "../../api.js";
import { Alert, Button, Form, Id, ProblemAlert, Section, SelectField, TextField } from "../../ui/index.js";
import type { Appended, Dataset } from "./types.js";

const OTHER = "__other__";
const PURPOSES = [
  { value: "HRESCH", label: "Healthcare research (HRESCH)" },
  { value: "CLINTRL", label: "Clinical trial research (CLINTRL)" },
  { value: "HQUALIMP", label: "Quality improvement (HQUALIMP)" },
  { value: "PUBHLTH", label: "Public health (PUBHLTH)" },
  { value: "", label: "Not stated" },
];

async function sha256Hex(file: File): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function ShareVersion(props: {
  dataset: Dataset;
  institutions: readonly string[];
  onShared: () => void;
}) {
  const d = props.dataset;
  const sealed = d.versions;
  const [version, setVersion] = useState(String(sealed.at(-1)?.version ?? ""));
  // "" until the person picks one: the first known institution once the dataset's items have loaded.
  const [picked, setChoice] = useState("");
  const choice = picked !== "" ? picked : (props.institutions[0] ?? OTHER);
  const [other, setOther] = useState("");
  const [dua, setDua] = useState("");
  const [purpose, setPurpose] = useState("HRESCH");
  const [expires, setExpires] = useState("");
  const [invalid, setInvalid] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<{ grantee: string; version: number; entry: Appended }>();

  if (sealed.length === 0)
    return (
      <Section title="Share with an institution">
        <p>Only a sealed version can be shared: seal version {d.openVersion} first.</p>
      </Section>
    );

  function submit(): void {
    const grantee = (choice === OTHER ? other : choice).trim();
    const hash = dua.trim().toLowerCase();
    const problems: Record<string, string> = {};
    if (grantee === "") problems.grantee = "Name the institution (its log origin or name).";
    if (!/^[0-9a-f]{64}$/.test(hash))
      problems.dua = "The agreement's SHA-256: 64 hexadecimal digits (or choose the file).";
    let expiresAt: string | undefined;
    if (expires !== "") {
      // The end of the chosen day, UTC, as the log writes times (RFC 3339 with milliseconds).
      const t = new Date(`${expires}T23:59:59.999Z`);
      if (Number.isNaN(t.getTime()) || t.getTime() <= Date.now()) problems.expires = "Choose a future date.";
      else expiresAt = t.toISOString();
    }
    setInvalid(problems);
    if (Object.keys(problems).length > 0) return;
    const seal = sealed.find((v) => String(v.version) === version);
    if (!seal) return;
    setBusy(true);
    setError(undefined);
    api<Appended>("/api/v1/entries/dataset.shared", {
      method: "POST",
      body: {
        body: {
          grantee,
          dataUseAgreement: hash,
          ...(purpose !== "" ? { purpose } : {}),
          ...(expiresAt !== undefined ? { expires: expiresAt } : {}),
        },
        refs: { dataset: d.id, version: seal.seal },
      },
    })
      .then((entry) => {
        setDone({ grantee, version: seal.version, entry });
        props.onShared();
      })
      .catch((e: unknown) => setError(e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e))))
      .finally(() => setBusy(false));
  }

  return (
    <Section title="Share with an institution">
      {done && (
        <Alert tone="success" title={`Version ${done.version} shared with ${done.grantee}`} testId="shared">
          On the log at index {done.entry.index}, entry <Id value={done.entry.leafHash} />.
        </Alert>
      )}
      <ProblemAlert error={error} title="The node refused the share" />
      <Form onSubmit={submit} label="Share a sealed version">
        <SelectField
          label="Sealed version"
          value={version}
          onValue={setVersion}
          options={sealed
            .slice()
            .reverse()
            .map((v) => ({ value: String(v.version), label: `Version ${v.version}` }))}
        />
        <SelectField
          label="Institution"
          value={choice}
          onValue={setChoice}
          options={[
            ...props.institutions.map((i) => ({ value: i, label: i })),
            { value: OTHER, label: "Another institution…" },
          ]}
          {...(invalid.grantee && choice !== OTHER ? { error: invalid.grantee } : {})}
        />
        {choice === OTHER && (
          <TextField
            label="Institution's log origin or name"
            value={other}
            onValue={setOther}
            maxLength={200}
            {...(invalid.grantee ? { error: invalid.grantee } : {})}
          />
        )}
        <div class="field">
          <label for="dua-file">Signed data-use agreement (file)</label>
          <input
            id="dua-file"
            type="file"
            aria-describedby="dua-file-hint"
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              if (file) void sha256Hex(file).then(setDua, () => setDua(""));
            }}
          />
          <p class="hint" id="dua-file-hint">
            Hashed in this browser; only its SHA-256 goes on the log, the file is not uploaded.
          </p>
        </div>
        <TextField
          label="Data-use agreement SHA-256"
          hint="Filled in from the file, or paste it"
          value={dua}
          onValue={setDua}
          autocomplete="off"
          maxLength={64}
          {...(invalid.dua ? { error: invalid.dua } : {})}
        />
        <SelectField label="Purpose of use" value={purpose} onValue={setPurpose} options={PURPOSES} />
        <TextField
          label="Expires (optional)"
          type="date"
          value={expires}
          onValue={setExpires}
          {...(invalid.expires ? { error: invalid.expires } : {})}
        />
        <Button type="submit" variant="primary" busy={busy}>
          Share version {version}
        </Button>
      </Form>
    </Section>
  );
}
