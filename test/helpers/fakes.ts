/** Hand-written fakes for our own ports (STYLE.md: vi.fn only to assert calls). */
import type { ConnectorConfig } from '../../lib/config/index.ts';
import { TigerStreamError } from '../../lib/errors/index.ts';
import type { KafkaDelivery, OutRecord, ProducedRange } from '../../lib/kafka/index.ts';
import type {
  LoadCounts,
  LoadingRunSummary,
  LoadingJobRun,
  RunProgress,
  RunStatus,
  TigerGraphClient,
} from '../../lib/tigergraph/index.ts';
import { validate, VALID } from './config.ts';

export const testConfig = (text = VALID): ConnectorConfig => {
  const result = validate(text);
  if (result.errors.length > 0) throw new Error(JSON.stringify(result.errors));
  return result.connectors[0] as ConnectorConfig;
};

/** A target cluster in memory: topics with partitions, offsets assigned like a broker. */
export class FakeDelivery implements KafkaDelivery {
  readonly logs = new Map<string, OutRecord[][]>();
  readonly sent: OutRecord[][] = [];
  failures: TigerStreamError[] = [];
  /** Every send, also refused ones. */
  readonly attempts: OutRecord[][] = [];
  /**
   * The broker's verdict on a record: an error refuses every send holding the record, as a
   * Kafka produce request fails as a whole.
   */
  refuse: (r: OutRecord) => TigerStreamError | undefined = () => undefined;
  constructor(readonly topics: Record<string, number>) {
    for (const [t, n] of Object.entries(topics))
      this.logs.set(
        t,
        Array.from({ length: n }, () => []),
      );
  }
  partitionCount(topic: string): Promise<number> {
    return Promise.resolve(this.topics[topic] ?? 0);
  }
  send(
    records: readonly OutRecord[],
    _options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<ProducedRange[]> {
    this.attempts.push([...records]);
    const failure = this.failures.shift();
    if (failure) return Promise.reject(failure);
    const refusal = records.map((r) => this.refuse(r)).find((e) => e !== undefined);
    if (refusal) return Promise.reject(refusal);
    this.sent.push([...records]);
    const ranges = new Map<string, ProducedRange>();
    for (const r of records) {
      const log = this.logs.get(r.topic);
      if (!log) return Promise.reject(new TigerStreamError('FAKE_UNKNOWN_TOPIC', r.topic));
      const partition = r.partition ?? 0;
      const list = log[partition] as OutRecord[];
      const key = `${r.topic}|${partition}`;
      if (!ranges.has(key))
        ranges.set(key, { topic: r.topic, partition, firstOffset: list.length });
      // What a broker keeps of a record: the port's fields only (a caller's object may carry more).
      const { topic, partition: asked, key: k, value, headers, timestamp } = r;
      list.push({ topic, partition: asked, key: k, value, headers, timestamp });
    }
    return Promise.resolve([...ranges.values()]);
  }
  disconnect(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A {@link FakeDelivery} that records each send's abort signal; with `hang`, a send with a
 * signal waits for it and fails with its reason instead of answering.
 */
export class SignalDelivery extends FakeDelivery {
  readonly signals: AbortSignal[] = [];
  hang = false;
  override send(
    records: readonly OutRecord[],
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<ProducedRange[]> {
    const signal = options?.signal;
    if (signal) this.signals.push(signal);
    if (!this.hang || signal === undefined) return super.send(records, options);
    return new Promise((_, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
    );
  }
}

/** A TigerGraph loader that "loads" what FakeDelivery holds, from each run's start offsets. */
export class FakeTigerGraph implements TigerGraphClient {
  readonly runs: LoadingJobRun[] = [];
  readonly posts: string[] = [];
  startFailures: TigerStreamError[] = [];
  /** What getProgress answers for every run. */
  status: RunStatus = 'FINISHED';
  /** Set by a test that needs run aborts (the real client has one in both dialects). */
  abortRun?: (graph: string, jobId: string, signal?: AbortSignal) => Promise<void>;
  /** Lines whose JSON lacks this field count as rejected objects. */
  constructor(
    readonly delivery: FakeDelivery,
    readonly idField = 'company',
  ) {}
  private counts = new Map<string, LoadCounts>();
  /** As TigerGraph counts: a line that is not JSON is rejected whole; one without the id loads no object. */
  private count(lines: string[]): LoadCounts {
    let validLines = 0;
    let rejectedLines = 0;
    let validObjects = 0;
    let rejectedObjects = 0;
    for (const l of lines) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(l);
      } catch {
        rejectedLines++;
        continue;
      }
      validLines++;
      if ((parsed as Record<string, unknown> | null)?.[this.idField] !== undefined) validObjects++;
      else rejectedObjects++;
    }
    return { validLines, rejectedLines, validObjects, rejectedObjects, filteredObjects: 0 };
  }
  startLoadingJob(run: LoadingJobRun): Promise<string[]> {
    const failure = this.startFailures.shift();
    if (failure) return Promise.reject(failure);
    this.runs.push(run);
    const lines = run.partitions.flatMap((p) =>
      (this.delivery.logs.get(run.topic)?.[p.partition] ?? [])
        .slice(Math.max(0, p.start_offset))
        .map((r) => r.value?.toString() ?? ''),
    );
    const id = `run-${this.runs.length}`;
    this.counts.set(id, this.count(lines));
    return Promise.resolve([id]);
  }
  getProgress(_graph: string, jobId: string): Promise<RunProgress> {
    return Promise.resolve({
      jobId,
      status: this.status,
      counts: this.counts.get(jobId) as LoadCounts,
      error: undefined,
    });
  }
  postDdl(_graph: string, _job: string, _filename: string, body: string): Promise<LoadCounts> {
    this.posts.push(body);
    return Promise.resolve(this.count(body.split('\n')));
  }
  listVertices(): Promise<{ v_id: string; attributes: Record<string, unknown> }[]> {
    return Promise.resolve([]);
  }
  /** Runs started before this fake's life (another container's), listed before its own. */
  readonly earlierRuns: LoadingRunSummary[] = [];
  /** Ids resumed, in order. */
  readonly resumed: string[] = [];
  listRuns(): Promise<LoadingRunSummary[]> {
    return Promise.resolve([
      ...this.earlierRuns,
      ...this.runs.map((_, i) => ({ jobId: `run-${i + 1}`, status: this.status })),
    ]);
  }
  /** What the next resumes answer (a refusal), in order; none: the resume takes. */
  resumeFailures: TigerStreamError[] = [];
  resumeRun(_graph: string, jobId: string): Promise<void> {
    const failure = this.resumeFailures.shift();
    if (failure) return Promise.reject(failure);
    this.resumed.push(jobId);
    this.status = 'RUNNING';
    return Promise.resolve();
  }
}
