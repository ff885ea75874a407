/** The datasets API's answers as the pages use them (docs/families/datasets.md "Projection", "Queries"). */
export interface DatasetVersion {
  readonly version: number;
  readonly seal: string;
  readonly index: number;
  readonly manifestRoot: string;
  readonly items: number;
  readonly annotations: number;
  readonly contributors: number;
  readonly sealedAt: string;
}

export interface Dataset {
  readonly id: string;
  readonly index: number;
  readonly name: string;
  readonly purpose?: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly openVersion: number;
  readonly items: number;
  readonly annotations: number;
  readonly vendorContributions: number;
  readonly versions: DatasetVersion[];
}

export interface DatasetItem {
  readonly id: string;
  readonly version: number;
  readonly manifestRoot: string;
  readonly instanceCount: number;
  readonly modality?: string;
  readonly sourceInstitution: string;
  readonly deidentification?: string;
  readonly addedBy: string;
  readonly addedAt: string;
}

export interface DatasetAnnotation {
  readonly id: string;
  readonly version: number;
  readonly item: string;
  readonly labelSchema: string;
  readonly kind?: string;
  readonly tool: { readonly name: string; readonly version: string };
  readonly contentHash: string;
  readonly annotator: string;
  readonly addedAt: string;
}

export interface VendorContribution {
  readonly id: string;
  readonly version: number;
  readonly kind: string;
  readonly product?: { readonly name: string; readonly version: string };
  readonly contentHash?: string;
  readonly vendor: string;
  readonly at: string;
}

export interface DatasetShare {
  readonly id: string;
  readonly version: number;
  readonly grantee: string;
  readonly dataUseAgreement: string;
  readonly purpose?: string;
  readonly expires?: string;
  readonly sharedBy: string;
  readonly sharedAt: string;
}

export interface DatasetValidation {
  readonly id: string;
  readonly version: number;
  readonly model: { readonly name: string; readonly version: string; readonly vendor?: string };
  readonly site: string;
  readonly metrics: Readonly<Record<string, number | string>>;
  readonly recordedBy: string;
  readonly recordedAt: string;
}

export interface Count {
  readonly name: string;
  readonly count: number;
}

export interface ContributorCredit {
  readonly actor: string;
  readonly displayName?: string;
  readonly roles: readonly string[];
  readonly items: number;
  readonly annotations: number;
  readonly vendorContributions: number;
  readonly itemsByInstitution: Count[];
  readonly annotationsBySchema: Count[];
  readonly vendorContributionsByKind: Count[];
}

export interface CreditReport {
  readonly dataset: { readonly id: string; readonly name: string };
  readonly version: number;
  readonly sealed: boolean;
  readonly seal?: {
    readonly id: string;
    readonly index: number;
    readonly manifestRoot: string;
    readonly sealedBy: string;
    readonly sealedAt: string;
  };
  readonly totals: {
    readonly contributors: number;
    readonly items: number;
    readonly annotations: number;
    readonly vendorContributions: number;
    readonly itemsByInstitution: Count[];
    readonly annotationsBySchema: Count[];
    readonly vendorContributionsByKind: Count[];
  };
  readonly contributors: ContributorCredit[];
}

/** GET /api/v1/datasets/:id/seal-proposal: the dataset.version.sealed body to sign now. */
export interface SealProposal {
  readonly version: number;
  readonly manifestRoot: string;
  readonly items: number;
  readonly annotations: number;
  readonly contributors: string[];
}

/** POST /api/v1/entries/{type}: the durable entry. */
export interface Appended {
  readonly index: number;
  readonly leafHash: string;
  readonly size: number;
}

/** "name: n; name: m" — a breakdown in one cell. */
export const counts = (list: readonly Count[]): string => list.map((c) => `${c.name}: ${c.count}`).join("; ");
