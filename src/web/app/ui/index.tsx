/**
 * radledger's design system: the few components every page is made of, so that every page looks
 * and behaves the same — labelled fields, tables that turn into cards on a phone, one way to show a refusal
 * (the problem's code and detail), badges with one meaning each. Styles: ui/styles.css.
 */
import type { AnchorHTMLAttributes, ButtonHTMLAttributes, ComponentChildren } from "preact";
import { useEffect, useId } from "preact/hooks";
import type { ApiError } from "../api.js";

/** A page: its heading, the document title (never PHI: ids and pseudonyms only), actions. */
export function Page(props: {
  title: string;
  lead?: ComponentChildren;
  actions?: ComponentChildren;
  children?: ComponentChildren;
}) {
  useEffect(() => {
    document.title = `${props.title} — radledger`;
  }, [props.title]);
  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1>{props.title}</h1>
          {props.lead !== undefined && <p class="lead">{props.lead}</p>}
        </div>
        {props.actions !== undefined && <div class="actions">{props.actions}</div>}
      </div>
      {props.children}
    </div>
  );
}

/** A titled block of a page. */
export function Section(props: { title: string; actions?: ComponentChildren; children?: ComponentChildren }) {
  const id = useId();
  return (
    <section class="card" aria-labelledby={id}>
      <div class="card-head">
        <h2 id={id}>{props.title}</h2>
        {props.actions !== undefined && <div class="actions">{props.actions}</div>}
      </div>
      {props.children}
    </section>
  );
}

type ButtonProps = Omit<ButtonHTMLAttributes, "class" | "className"> & {
  variant?: "primary" | "secondary" | "danger" | "ghost";
  busy?: boolean;
};

export function Button({ variant = "secondary", busy = false, type = "button", ...rest }: ButtonProps) {
  return (
    <button
      {...rest}
      type={type}
      class={`btn btn-${variant}`}
      disabled={Boolean(rest.disabled) || busy}
      aria-busy={busy || undefined}
    />
  );
}

/** A link styled as a button (navigation, downloads). */
export function LinkButton(
  props: Omit<AnchorHTMLAttributes, "class" | "className"> & { variant?: "primary" | "secondary" },
) {
  const { variant = "secondary", ...rest } = props;
  return <a {...rest} class={`btn btn-${variant}`} />;
}

interface FieldBase {
  label: string;
  hint?: string;
  error?: string;
  required?: boolean;
  name?: string;
}

function FieldWrap(props: FieldBase & { id: string; children: ComponentChildren }) {
  return (
    <div class={`field${props.error ? " invalid" : ""}`}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint !== undefined && (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error !== undefined && (
        <p class="field-error" id={`${props.id}-error`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

function describedBy(id: string, f: FieldBase): string | undefined {
  const ids = [f.hint !== undefined && `${id}-hint`, f.error !== undefined && `${id}-error`].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

export function TextField(
  props: FieldBase & {
    value: string;
    onValue: (v: string) => void;
    type?: "text" | "password" | "date" | "datetime-local" | "number" | "search" | "email";
    autocomplete?: string;
    placeholder?: string;
    id?: string;
    minLength?: number;
    maxLength?: number;
  },
) {
  const generated = useId();
  const id = props.id ?? generated;
  return (
    <FieldWrap {...props} id={id}>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value}
        required={props.required}
        autocomplete={props.autocomplete}
        placeholder={props.placeholder}
        minLength={props.minLength}
        maxLength={props.maxLength}
        aria-invalid={props.error !== undefined || undefined}
        aria-describedby={describedBy(id, props)}
        onInput={(e) => props.onValue(e.currentTarget.value)}
      />
    </FieldWrap>
  );
}

export function TextAreaField(
  props: FieldBase & {
    value: string;
    onValue: (v: string) => void;
    rows?: number;
    id?: string;
    maxLength?: number;
  },
) {
  const generated = useId();
  const id = props.id ?? generated;
  return (
    <FieldWrap {...props} id={id}>
      <textarea
        id={id}
        name={props.name}
        rows={props.rows ?? 4}
        value={props.value}
        required={props.required}
        maxLength={props.maxLength}
        aria-invalid={props.error !== undefined || undefined}
        aria-describedby={describedBy(id, props)}
        onInput={(e) => props.onValue(e.currentTarget.value)}
      />
    </FieldWrap>
  );
}

export interface Option {
  readonly value: string;
  readonly label: string;
}

export function SelectField(
  props: FieldBase & { value: string; onValue: (v: string) => void; options: readonly Option[]; id?: string },
) {
  const generated = useId();
  const id = props.id ?? generated;
  return (
    <FieldWrap {...props} id={id}>
      <select
        id={id}
        name={props.name}
        value={props.value}
        required={props.required}
        aria-describedby={describedBy(id, props)}
        onChange={(e) => props.onValue(e.currentTarget.value)}
      >
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldWrap>
  );
}

/** A form: submit by Enter or the button; the page handles the data, never a full-page post. */
export function Form(props: {
  onSubmit: () => void;
  children: ComponentChildren;
  label?: string;
  class?: string;
}) {
  return (
    <form
      class={props.class ?? "form"}
      aria-label={props.label}
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit();
      }}
    >
      {props.children}
    </form>
  );
}

/** A row of filter fields and buttons that wraps on a narrow screen. */
export function Toolbar(props: { children: ComponentChildren; label?: string }) {
  return (
    <div class="toolbar" role="group" aria-label={props.label}>
      {props.children}
    </div>
  );
}

export interface Column<T> {
  readonly header: string;
  readonly render: (row: T) => ComponentChildren;
  /** Shown first on a phone; others follow. */
  readonly key?: string;
}

/**
 * A table with a caption. On a wide screen it is a plain table (scrolling sideways inside its own
 * focusable region if it must; the page itself never does: WCAG 1.4.10 reflow). Below 640 px
 * (ui/styles.css) each row is a card of its cells, each labelled with its column's header (the
 * td's data-label, drawn by CSS), so every column — a Status, a Revoke button — is on a phone's
 * screen without a sideways scroll.
 *
 * The explicit ARIA roles keep it a table for assistive technology at every width: a browser drops
 * the table semantics of table elements that CSS lays out as blocks (Chromium and WebKit do), and
 * with them the column headers a screen reader announces with each cell (WAI-ARIA 1.2 "table",
 * "rowgroup", "row", "columnheader", "cell"). The table is named by its caption through
 * aria-labelledby for the same reason. The visible labels are for sight only (their CSS alt text is
 * empty): a screen reader hears each header once, from the column header.
 */
export function DataTable<T>(props: {
  caption: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  empty?: ComponentChildren;
  testId?: string;
}) {
  const captionId = useId();
  if (props.rows.length === 0)
    return (
      <p class="empty" data-testid={props.testId}>
        {props.empty ?? "Nothing to show."}
      </p>
    );
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={props.caption}>
      <table data-testid={props.testId} role="table" aria-labelledby={captionId}>
        <caption id={captionId} class="sr-only">
          {props.caption}
        </caption>
        <thead role="rowgroup">
          <tr role="row">
            {props.columns.map((c) => (
              <th key={c.header} scope="col" role="columnheader">
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody role="rowgroup">
          {props.rows.map((r) => (
            <tr key={props.rowKey(r)} role="row">
              {props.columns.map((c) => (
                <td key={c.header} role="cell" data-label={c.header}>
                  {/* One box for the cell's content, beside its label in a phone's card. */}
                  <span class="cell">{c.render(r)}</span>
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export type Tone = "neutral" | "info" | "success" | "warning" | "danger" | "ai";

/** A short status word. Tone carries meaning, and so does the text (never colour alone). */
export function Badge(props: { tone?: Tone; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${props.tone ?? "neutral"}`} title={props.title}>
      {props.children}
    </span>
  );
}

export function Alert(props: { tone?: Tone; title?: string; children?: ComponentChildren; testId?: string }) {
  const tone = props.tone ?? "info";
  return (
    <div
      class={`alert alert-${tone}`}
      role={tone === "danger" ? "alert" : "status"}
      data-testid={props.testId}
    >
      {props.title !== undefined && <strong>{props.title}</strong>}
      {props.children !== undefined && <div>{props.children}</div>}
    </div>
  );
}

/** A refusal or failure from the node: what happened, and its stable code. */
export function ProblemAlert(props: { error: ApiError | undefined; title?: string }) {
  if (!props.error) return null;
  return (
    <div class="alert alert-danger" role="alert" data-code={props.error.code} data-testid="problem">
      <strong>{props.title ?? "The node refused"}</strong>
      <div>
        {props.error.detail} <code>{props.error.code}</code>
      </div>
    </div>
  );
}

export function Loading(props: { label?: string }) {
  return (
    <p class="loading" role="status">
      {props.label ?? "Loading…"}
    </p>
  );
}

/** Loading, a problem, or the content. */
export function Loaded<T>(props: {
  state: { data: T | undefined; error: ApiError | undefined; loading: boolean };
  children: (data: T) => ComponentChildren;
}) {
  if (props.state.error) return <ProblemAlert error={props.state.error} />;
  if (props.state.data === undefined) return <Loading />;
  return <>{props.children(props.state.data)}</>;
}

/** Label–value pairs (a record's facts). */
export function Facts(props: { items: readonly (readonly [string, ComponentChildren])[] }) {
  return (
    <dl class="facts">
      {props.items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** An RFC 3339 time shown in the reader's locale, with the exact value on hover and for machines. */
export function Time(props: { iso: string | undefined }) {
  if (props.iso === undefined) return <span>—</span>;
  const d = new Date(props.iso);
  if (Number.isNaN(d.getTime())) return <span>{props.iso}</span>;
  return (
    <time dateTime={props.iso} title={props.iso}>
      {d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}
    </time>
  );
}

/** An identifier (pseudonym, entry id, leaf hash): monospace, shortened with the full value kept. */
export function Id(props: { value: string; full?: boolean }) {
  const short =
    props.full || props.value.length <= 20
      ? props.value
      : `${props.value.slice(0, 10)}…${props.value.slice(-6)}`;
  return (
    <code class="id" title={props.value}>
      {short}
    </code>
  );
}

/** "Load more" under a paged list. */
export function More(props: { list: { hasMore: boolean; loading: boolean; more: () => void } }) {
  if (!props.list.hasMore) return null;
  return (
    <div class="more">
      <Button onClick={() => props.list.more()} busy={props.list.loading}>
        Load more
      </Button>
    </div>
  );
}
