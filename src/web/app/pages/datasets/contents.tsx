/**
 * What a dataset holds, in log order: items (de-identified image sets by manifest root), annotations
 * (content hashes, by annotator and tool), vendor contributions and model validations — each paged
 * (GET /api/v1/datasets/:id/items, /annotations, /vendor-contributions, /validations).
 */
import { usePaged, type PagedList } from "../../hooks.js";
import { ActorName } from "../../ui/actor-name.js";
import { DataTable, Id, Loading, More, ProblemAlert, Section, Time } from "../../ui/index.js";
import type {
  Dataset,
  DatasetAnnotation,
  DatasetItem,
  DatasetValidation,
  VendorContribution,
} from "./types.js";

function Listed<T>(props: { list: PagedList<T>; children: () => preact.ComponentChildren }) {
  return (
    <>
      <ProblemAlert error={props.list.error} />
      {props.list.loading && props.list.items.length === 0 ? <Loading /> : props.children()}
      <More list={props.list} />
    </>
  );
}

export function Contents(props: { dataset: Dataset; items: PagedList<DatasetItem> }) {
  const id = props.dataset.id;
  const annotations = usePaged<DatasetAnnotation>(`/api/v1/datasets/${id}/annotations`);
  const vendor = usePaged<VendorContribution>(`/api/v1/datasets/${id}/vendor-contributions`);
  const validations = usePaged<DatasetValidation>(`/api/v1/datasets/${id}/validations`);
  return (
    <>
      <Section title="Items">
        <Listed list={props.items}>
          {() => (
            <DataTable
              caption="Items"
              testId="items"
              rows={props.items.items}
              rowKey={(i) => i.id}
              empty="No items yet."
              columns={[
                { header: "Version", render: (i) => i.version },
                { header: "Source institution", render: (i) => i.sourceInstitution },
                { header: "Modality", render: (i) => i.modality ?? "—" },
                { header: "Instances", render: (i) => i.instanceCount },
                { header: "De-identification", render: (i) => i.deidentification ?? "—" },
                { header: "Manifest root", render: (i) => <Id value={i.manifestRoot} /> },
                { header: "Added by", render: (i) => <ActorName id={i.addedBy} /> },
                { header: "Added", render: (i) => <Time iso={i.addedAt} /> },
              ]}
            />
          )}
        </Listed>
      </Section>
      <Section title="Annotations">
        <Listed list={annotations}>
          {() => (
            <DataTable
              caption="Annotations"
              testId="annotations"
              rows={annotations.items}
              rowKey={(a) => a.id}
              empty="No annotations yet."
              columns={[
                { header: "Version", render: (a) => a.version },
                { header: "Label schema", render: (a) => a.labelSchema },
                { header: "Kind", render: (a) => a.kind ?? "—" },
                { header: "Tool", render: (a) => `${a.tool.name} ${a.tool.version}` },
                { header: "Item", render: (a) => <Id value={a.item} /> },
                { header: "Content", render: (a) => <Id value={a.contentHash} /> },
                { header: "Annotator", render: (a) => <ActorName id={a.annotator} /> },
                { header: "Added", render: (a) => <Time iso={a.addedAt} /> },
              ]}
            />
          )}
        </Listed>
      </Section>
      <Section title="Vendor contributions">
        <Listed list={vendor}>
          {() => (
            <DataTable
              caption="Vendor contributions"
              testId="vendor-contributions"
              rows={vendor.items}
              rowKey={(v) => v.id}
              empty="No vendor contributions."
              columns={[
                { header: "Version", render: (v) => v.version },
                { header: "Kind", render: (v) => v.kind },
                {
                  header: "Product",
                  render: (v) => (v.product ? `${v.product.name} ${v.product.version}` : "—"),
                },
                { header: "Content", render: (v) => (v.contentHash ? <Id value={v.contentHash} /> : "—") },
                { header: "Vendor", render: (v) => <ActorName id={v.vendor} /> },
                { header: "Added", render: (v) => <Time iso={v.at} /> },
              ]}
            />
          )}
        </Listed>
      </Section>
      <Section title="Model validations">
        <Listed list={validations}>
          {() => (
            <DataTable
              caption="Model validations"
              testId="validations"
              rows={validations.items}
              rowKey={(v) => v.id}
              empty="No model validated on this dataset yet."
              columns={[
                { header: "Version", render: (v) => v.version },
                {
                  header: "Model",
                  render: (v) =>
                    `${v.model.vendor ? `${v.model.vendor} ` : ""}${v.model.name} ${v.model.version}`,
                },
                { header: "Site", render: (v) => v.site },
                {
                  header: "Metrics",
                  render: (v) =>
                    Object.entries(v.metrics)
                      .map(([k, m]) => `${k}: ${m}`)
                      .join("; "),
                },
                { header: "Recorded by", render: (v) => <ActorName id={v.recordedBy} /> },
                { header: "Recorded", render: (v) => <Time iso={v.recordedAt} /> },
              ]}
            />
          )}
        </Listed>
      </Section>
    </>
  );
}
