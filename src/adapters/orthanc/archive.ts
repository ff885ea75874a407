/**
 * Orthanc as an ImagingArchive (src/ports/imaging.ts): its `/changes` feed, study instances, files,
 * `/anonymize` and delete, over the REST client (./client.ts).
 *
 * The feed: a study is ready once Orthanc reports `StableStudy` (nothing arrived for `StableAge`
 * seconds). The cursor key keeps the form the follower has always stored ("orthanc <base URL>"), so
 * an existing manifest store resumes where it stopped.
 */
import type { ArchiveAnonymizeOptions, ArchiveChangePage, ImagingArchive } from "../../ports/imaging.js";
import { OrthancClient, type OrthancClientOptions } from "./client.js";

export class OrthancArchive implements ImagingArchive {
  readonly feedKey: string;

  constructor(
    readonly client: OrthancClient,
    baseUrl: string,
  ) {
    this.feedKey = `orthanc ${baseUrl.replace(/\/+$/, "")}`;
  }

  static connect(options: OrthancClientOptions): OrthancArchive {
    return new OrthancArchive(new OrthancClient(options), options.baseUrl);
  }

  async changes(since: number, limit: number): Promise<ArchiveChangePage> {
    const page = await this.client.changes(since, limit);
    return {
      changes: page.Changes.map((c) => ({
        seq: c.Seq,
        kind: c.ChangeType === "StableStudy" && c.ResourceType === "Study" ? "study-stable" : "other",
        resourceId: c.ID,
      })),
      done: page.Done,
      last: page.Last,
    };
  }

  lastChangeSeq(): Promise<number> {
    return this.client.lastChangeSeq();
  }

  async studyInstances(studyId: string): Promise<string[]> {
    return (await this.client.studyInstances(studyId)).map((i) => i.ID);
  }

  instanceFile(instanceId: string): Promise<AsyncIterable<Uint8Array>> {
    return this.client.instanceFile(instanceId);
  }

  async anonymizeStudy(studyId: string, options: ArchiveAnonymizeOptions): Promise<string> {
    const result = await this.client.anonymizeStudy(studyId, {
      dicomVersion: "2021b",
      keepPrivateTags: false,
      replace: { ...options.replace },
      // Orthanc 1.10 protects PatientID: replacing it requires Force (the value is our pseudonym).
      force: true,
    });
    return result.ID;
  }

  deleteStudy(studyId: string): Promise<void> {
    return this.client.deleteStudy(studyId);
  }
}
