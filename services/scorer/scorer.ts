/**
 * The scorer: consumes telemetry.readings, runs the pure core on each reading, and writes
 * anomaly scores, failure predictions, dead letters and the per-asset state changelog in
 * ONE Kafka transaction together with the consumed offsets (exactly-once). Its memory
 * holds nothing that cannot be rebuilt: on every partition assignment it drops what it
 * had and restores the assigned partitions' states from the compacted changelog (read
 * committed) before scoring, so a restart, a kill -9 or a rebalance continues exactly
 * where the last committed transaction left off.
 *
 * Checkpoints: an asset's state is not written after every transaction (at 3.6 KB per asset
 * it would outweigh the scores several times over). Rolling checkpoints: an asset's state is
 * written in the first transaction at least `checkpointIntervalMs` (or
 * `checkpointMaxReadings` readings of its partition) after the reading that made it
 * differ from its last written state, so the writes spread evenly over time instead of
 * arriving all at once. Each such transaction also writes the partition's marker record (key
 * CHECKPOINT_KEY): the offset below which every reading of the partition is folded into a
 * written state. A restore loads the changelog, then replays the readings from the marker
 * up to the group's committed offset through the same core without producing anything (their
 * outputs are already committed), skipping for each asset the readings its written state
 * already holds (offset ≤ its sourceOffset). That rebuilds exactly the states of the last commit.
 *
 * Concurrency: kafkajs runs eachBatch for several partitions at once, but one partition's
 * batches one at a time; each partition has its own state map, so a state is only touched by
 * one batch at a time. Restores and commits are shared (one promise each) and guarded by
 * `epoch`: work scored before a restore or a failed transaction is never committed.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, EachBatchPayload, Kafka, Message } from 'kafkajs';
import { decodeState, encodeState, maintain, newState, score, UnknownAssetTypeError } from '../core/index.ts';
import type { AssetState, CompiledConfig, MaintenanceEvent, Reading } from '../core/index.ts';
import { AvroCodec, loadSchemaText, recordWriterKey } from '../kafka/codec.ts';
import { createKafka } from '../kafka/client.ts';
import { deadLetter } from '../kafka/dlq.ts';
import { ensureTopics, type TopicNames } from '../kafka/topics.ts';
import { describeError, PipelineError, PoisonRecordError, ServiceConfigError } from '../runtime/errors.ts';
import { createLogger, type Logger } from '../runtime/log.ts';
import { MetricsRegistry } from '../runtime/metrics.ts';
import type { RunningService } from '../runtime/service.ts';
import { MAINTENANCE_SCHEMA, maintenanceProblem, predictionRecord, validMaintenance, validReading, type StateRecord } from './records.ts';
import { ScoreBlocks } from './score-blocks.ts';

export interface ScorerOptions {
  brokers: string[];
  registryUrl: string;
  topics: TopicNames;
  /** Partitions for topics the scorer creates when missing. */
  partitions: number;
  cfg: CompiledConfig;
  /** Consumer group of all scorer instances. Default 'pdm-scorer'. */
  groupId?: string;
  /**
   * Stable identity of this instance: its transactional id is `${groupId}-${instanceId}`, so a
   * restarted instance fences its dead predecessor and aborts its open transaction. Default '0'.
   */
  instanceId?: string;
  /**
   * Readings per partition chunk (default 20,000; the chunks of concurrently scored
   * partitions share a transaction): bounds the work redone after a crash and the time
   * between commits. Sends inside a transaction are split by size anyway (see
   * MAX_REQUEST_BYTES), so this is not what keeps requests under the broker's limit.
   */
  maxReadingsPerTransaction?: number;
  /** Partitions scored at once (their chunks share transactions). Default 8. */
  partitionsConcurrently?: number;
  /**
   * A changed asset state is written to the changelog in the first transaction at least this
   * long after its first unwritten change, ms (default 10_000): bounds the readings a
   * restore replays.
   */
  checkpointIntervalMs?: number;
  /** ... or once its partition has had this many readings since that change, whichever comes first (default 50_000). */
  checkpointMaxReadings?: number;
  /** Max time a restore may wait for the changelog, ms. Default 120_000. */
  restoreTimeoutMs?: number;
  metrics?: MetricsRegistry;
  logger?: Logger;
  /** Wall clock for dead-letter timestamps (injectable for tests). */
  now?: () => number;
}

const SERVICE = 'scorer';
/**
 * Fetch sizes of the scorer's consumer. A backlog is scored in cycles of fetch, score, one
 * transaction; each cycle costs several round trips whatever its size, so large fetches
 * (kafkajs's defaults are 1 MiB per partition, 10 MiB in all) make fewer, larger
 * transactions. With no backlog a fetch returns what has arrived, so latency is unaffected.
 */
export const SCORER_FETCH = { maxBytesPerPartition: 4 * 1024 * 1024, maxBytes: 32 * 1024 * 1024 } as const;
/** Asset score from which a reading counts as an anomaly in the metrics (not a detection threshold). */
export const ANOMALY_SCORE = 0.5;
/**
 * Bytes of values per produce request inside a transaction. The broker refuses a record
 * batch over message.max.bytes (1 MiB by default) and kafkajs puts one partition's messages
 * of a request into one batch, so a large transaction is sent in several requests.
 */
const MAX_REQUEST_BYTES = 512 * 1024;
/** Findings that make a reading's bytes worth a dead letter (the rest are ordinary data-quality events). */
const DLQ_FINDINGS = new Set(['nan', 'infinite', 'out_of_range']);
/**
 * Changelog key of a partition's checkpoint marker; its record's sourceOffset is the first
 * readings offset NOT folded into the partition's checkpointed states. Asset ids cannot
 * contain control characters (validReading), so it never collides with an asset.
 */
export const CHECKPOINT_KEY = '\u0000checkpoint';

/**
 * Per partition: the assets whose state differs from their last written one, in the order
 * they became so (a Map keeps insertion order), with when and at which readings offset.
 */
type DirtyAssets = Map<string, { at: number; offset: number }>;

export async function startScorer(opts: ScorerOptions): Promise<RunningService> {
  const groupId = opts.groupId ?? 'pdm-scorer';
  const instanceId = opts.instanceId ?? '0';
  const log = opts.logger ?? createLogger(`${SERVICE}.${instanceId}`);
  const metrics = opts.metrics ?? new MetricsRegistry();
  const now = opts.now ?? Date.now;
  const maxPerTxn = opts.maxReadingsPerTransaction ?? 20_000;
  const checkpointMs = opts.checkpointIntervalMs ?? 10_000;
  const checkpointReadings = opts.checkpointMaxReadings ?? 50_000;
  const bad: string[] = [];
  if (!Number.isInteger(maxPerTxn) || maxPerTxn < 1) bad.push(`maxReadingsPerTransaction: ${maxPerTxn} is not a positive integer`);
  if (!Number.isFinite(checkpointMs) || checkpointMs < 0) bad.push(`checkpointIntervalMs: ${checkpointMs} is not a duration ≥ 0 ms`);
  if (!Number.isInteger(checkpointReadings) || checkpointReadings < 1) bad.push(`checkpointMaxReadings: ${checkpointReadings} is not a positive integer`);
  if (bad.length > 0) throw new ServiceConfigError(bad);
  const m = {
    readings: metrics.counter('pdm_scorer_readings_total', 'Readings scored'),
    anomalies: metrics.counter('pdm_scorer_anomalies_total', `Readings whose asset anomaly score reached ${ANOMALY_SCORE}`),
    predictions: metrics.counter('pdm_scorer_predictions_total', 'Prediction events produced, by kind'),
    deadLetters: metrics.counter('pdm_dead_letters_total', 'Records sent to a dead-letter topic, by service and reason'),
    findings: metrics.counter('pdm_scorer_quality_findings_total', 'Data-quality findings, by kind'),
    transactions: metrics.counter('pdm_scorer_transactions_total', 'Kafka transactions committed'),
    aborts: metrics.counter('pdm_scorer_transaction_aborts_total', 'Kafka transactions aborted'),
    restores: metrics.counter('pdm_scorer_restored_states_total', 'Asset states restored from the changelog'),
    maintenance: metrics.counter('pdm_scorer_maintenance_events_total', 'Maintenance events, by outcome (applied; no_state: the asset had no state yet)'),
    replayed: metrics.counter('pdm_scorer_replayed_readings_total', 'Readings re-scored after a restore to rebuild states past the last checkpoint (no output)'),
    checkpointed: metrics.counter('pdm_scorer_checkpointed_states_total', 'Asset states written to the changelog (rolling checkpoints)'),
    assets: metrics.gauge('pdm_scorer_assets', 'Asset states held in memory'),
  };

  // Transaction requests right after a commit often meet CONCURRENT_TRANSACTIONS while the
  // broker writes the markers; they are retried through the client's retrier, whose default
  // 200 ms first backoff would stall the pipeline for far longer than the markers take.
  const kafka = createKafka({ brokers: opts.brokers, clientId: `pdm-${SERVICE}-${instanceId}`, initialRetryTimeMs: 10 });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, opts.topics, { partitions: opts.partitions });
  } catch (err) {
    await admin.disconnect();
    throw err;
  }

  const codec = new AvroCodec(opts.registryUrl);
  await codec.registerValueSchema(opts.topics.scores, loadSchemaText('score'));
  // Scores go out as one columnar block record per asset per chunk (score-blocks.ts): Kafka's
  // (and kafkajs's) cost per record, then the encoding of per-reading records, dominated the
  // scorer when it wrote one record per reading.
  const scoreBlockKey = recordWriterKey(opts.topics.scores, await codec.registerRecordSchema(opts.topics.scores, loadSchemaText('scoreBlock')));
  await codec.registerValueSchema(opts.topics.predictions, loadSchemaText('prediction'));
  await codec.registerValueSchema(opts.topics.state, loadSchemaText('state'));
  await codec.registerRecordSchema(opts.topics.readings, loadSchemaText('maintenance'));

  // Connecting a transactional producer initialises its producer id, which fences a dead
  // predecessor with the same transactional id and aborts its open transaction.
  const producer = kafka.producer({
    transactionalId: `${groupId}-${instanceId}`,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 60_000,
    retry: { initialRetryTime: 10, maxRetryTime: 1_000, retries: 20 },
  });
  await producer.connect();

  const consumer = kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: 30_000, heartbeatInterval: 3_000, ...SCORER_FETCH });
  /** partition → (assetId → state); only partitions assigned in the current generation. */
  let states = new Map<number, Map<string, AssetState>>();
  let assigned: number[] = [];
  let restoring: Promise<void> | undefined;
  let needRestore = true;
  /** partition → assets not checkpointed since they changed (current generation only). */
  let trackers = new Map<number, DirtyAssets>();
  /** partition → (assetId → sourceOffset of its restored state), used while replaying. */
  let restoredOffsets = new Map<number, Map<string, number>>();
  /** partition → first offset scored for output; readings below it are replayed into the states only. */
  let replayUntil = new Map<number, bigint>();
  /** partition → next offset after the last committed chunk (what a checkpoint marker records). */
  let positions = new Map<number, bigint>();
  const tracker = (partition: number): DirtyAssets => {
    let t = trackers.get(partition);
    if (!t) trackers.set(partition, (t = new Map()));
    return t;
  };

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    assigned = [...(e.payload.memberAssignment[opts.topics.readings] ?? [])].sort((a, b) => a - b);
    needRestore = true;
    log.info('partitions assigned', { partitions: assigned });
  });

  const restore = async (): Promise<void> => {
    const t0 = Date.now();
    const fresh = new Map<number, Map<string, AssetState>>(assigned.map((p) => [p, new Map()]));
    const { count, markers, sourceOffsets } = await restorePartitions(kafka, codec, opts.topics.state, assigned, fresh, opts.restoreTimeoutMs ?? 120_000, log);
    // Readings between each partition's checkpoint and the group's committed offset were
    // scored and their outputs committed, but their states were not checkpointed: replay them.
    const replay = await replayRanges(admin, groupId, opts.topics.readings, assigned, markers, log);
    states = fresh;
    trackers = new Map();
    replayUntil = new Map();
    restoredOffsets = sourceOffsets;
    epoch++;
    needRestore = false;
    // Every partition with committed work restarts at its replay start (= the committed offset
    // when there is nothing to replay): after a failed transaction kafkajs's own positions
    // may be past what was committed.
    positions = new Map();
    for (const [partition, { from, until }] of replay) {
      if (from < until) replayUntil.set(partition, until);
      positions.set(partition, until);
      consumer.seek({ topic: opts.topics.readings, partition, offset: from.toString() });
    }
    m.restores.inc({}, count);
    m.assets.set(count);
    const toReplay = [...replay].reduce((sum, [, r]) => sum + Number(r.until - r.from), 0);
    log.info('state restored', { partitions: assigned, assets: count, replayOffsets: toReplay, ms: Date.now() - t0 });
  };

  /**
   * Group commit. Batches of different partitions are scored concurrently
   * (partitionsConsumedConcurrently) but a transactional producer runs one transaction at a
   * time, so chunks that finish while a transaction is in flight wait and then go out
   * together in the next one: one commit for many partitions instead of one each.
   * `epoch` advances on every failed transaction and every restore; a chunk scored in an
   * older epoch used states that are being rebuilt and is never committed.
   */
  interface PendingChunk {
    epoch: number;
    topicMessages: { topic: string; messages: Message[] }[];
    /** The consumed offset to commit with it; none for the final checkpoint. */
    offset?: { partition: number; offset: string };
    resolve: () => void;
    reject: (err: unknown) => void;
  }
  let epoch = 0;
  let queue: PendingChunk[] = [];
  let committer: Promise<void> | undefined;
  const commitInGroup = (chunk: Omit<PendingChunk, 'resolve' | 'reject'>): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      queue.push({ ...chunk, resolve, reject });
      // Start the transaction after the current turn of the event loop: the other partitions'
      // batches of the same fetch are scored in this turn and join the same transaction.
      committer ??= new Promise<void>((r) => setImmediate(r)).then(drain).finally(() => (committer = undefined));
    });
  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const group = queue;
      queue = [];
      const stale = group.filter((c) => c.epoch !== epoch);
      for (const c of stale) c.reject(new PipelineError('scored on states that are being restored after a failed transaction', true));
      const live = group.filter((c) => c.epoch === epoch);
      if (live.length === 0) continue;
      const txn = await producer.transaction();
      try {
        const byTopic = new Map<string, Message[]>();
        for (const c of live) {
          for (const t of c.topicMessages) {
            const list = byTopic.get(t.topic);
            if (list) for (const msg of t.messages) list.push(msg);
            else byTopic.set(t.topic, [...t.messages]);
          }
        }
        const merged = [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs }));
        for (const request of splitBySize(merged, MAX_REQUEST_BYTES)) await txn.sendBatch({ topicMessages: request });
        const offsets = live.flatMap((c) => (c.offset ? [c.offset] : []));
        if (offsets.length > 0) await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: opts.topics.readings, partitions: offsets }] });
        await txn.commit();
        m.transactions.inc();
        for (const c of live) c.resolve();
      } catch (err) {
        m.aborts.inc();
        epoch++;
        await txn.abort().catch((abortErr: unknown) => log.warn('abort failed', { error: describeError(abortErr) }));
        for (const c of live) c.reject(err);
      }
    }
  };

  const processBatch = async (payload: EachBatchPayload): Promise<void> => {
    if (needRestore) {
      restoring ??= restore().finally(() => (restoring = undefined));
      await restoring;
    }
    const { batch, isRunning, isStale } = payload;
    // A restore that seeks this partition back for a replay makes this batch stale.
    if (isStale()) return;
    // At most maxPerTxn readings per commit bounds the work redone after a crash; request
    // sizes are bounded separately (splitBySize) and commits are shared (commitInGroup).
    for (let i = 0; i < batch.messages.length; i += maxPerTxn) {
      if (!isRunning() || isStale() || needRestore) return;
      await processChunk(payload, batch.messages.slice(i, i + maxPerTxn));
    }
  };

  const processChunk = async ({ batch, resolveOffset, heartbeat }: EachBatchPayload, messages: EachBatchPayload['batch']['messages']): Promise<void> => {
    if (messages.length === 0) return;
    const chunkEpoch = epoch;
    const partition = batch.partition;
    const partStates = states.get(partition) ?? new Map<string, AssetState>();
    states.set(partition, partStates);
    const dirty = tracker(partition);
    const restoredAt = restoredOffsets.get(partition);
    const replayEnd = replayUntil.get(partition);
    /** Keeps the first unwritten change of an asset (the dirty map is in first-change order). */
    const markDirty = (assetId: string, offset: number): void => {
      if (!dirty.has(assetId)) dirty.set(assetId, { at: now(), offset });
    };
    /** Replay: an asset's written state already holds its readings up to its sourceOffset. */
    const alreadyHeld = (assetId: string, offset: number): boolean => offset <= (restoredAt?.get(assetId) ?? -1);

    /** Each asset's scored readings and applied repairs of this chunk, in order. */
    const blocks = new ScoreBlocks(opts.cfg.version);
    const predictions: Message[] = [];
    const dead: { topic: string; message: Message }[] = [];
    const counts = { readings: 0, replayed: 0, anomalies: 0, predictions: new Map<string, number>(), findings: new Map<string, number>(), maintenance: new Map<string, number>() };

    for (const msg of messages) {
      // Below replayEnd the reading's outputs (and dead letters) are already committed: only
      // its effect on the state is redone, through exactly the same steps as the first time.
      const offset = Number(msg.offset);
      const replaying = replayEnd !== undefined && BigInt(msg.offset) < replayEnd;
      const src = { topic: batch.topic, partition, offset: msg.offset, key: msg.key, value: msg.value, headers: msg.headers };
      let reading: Reading | undefined;
      let repair: MaintenanceEvent | undefined;
      let repairSource = '';
      try {
        const decoded = codec.decodeIfCached(msg.value) ?? (await codec.decodeNamed(msg.value));
        if (decoded.schema === MAINTENANCE_SCHEMA) {
          const valid = validMaintenance(decoded.value);
          if (typeof valid === 'string') throw new PoisonRecordError(`invalid maintenance event: ${valid}`, 'invalid_record');
          repair = valid;
          repairSource = String((decoded.value as { source?: unknown }).source ?? '');
        } else {
          const valid = validReading(decoded.value);
          if (typeof valid === 'string') throw new PoisonRecordError(`invalid reading: ${valid}`, 'invalid_record');
          reading = valid;
        }
      } catch (err) {
        if (!(err instanceof PoisonRecordError)) throw err; // registry down: retry the batch, the record is not to blame
        if (!replaying) dead.push(deadLetter(src, new PoisonRecordError(`${batch.topic}[${partition}]@${msg.offset}: decode record`, err.reason, { cause: err }), SERVICE, now()));
        continue;
      }
      if (repair) {
        // Ordered with the asset's readings (same key, same partition); replayed like them.
        if (replaying && alreadyHeld(repair.assetId, offset)) continue;
        const state = partStates.get(repair.assetId);
        if (state === undefined) {
          // Nothing learned yet about this asset: nothing to reset.
          if (!replaying) bump(counts.maintenance, 'no_state');
          continue;
        }
        const problem = maintenanceProblem(state, repair);
        if (problem) {
          if (!replaying) dead.push(deadLetter(src, new PoisonRecordError(`${batch.topic}[${partition}]@${msg.offset}: ${problem}`, 'invalid_record'), SERVICE, now()));
          continue;
        }
        const res = maintain(state, repair, opts.cfg);
        partStates.set(repair.assetId, res.state);
        markDirty(repair.assetId, offset);
        if (replaying) continue;
        bump(counts.maintenance, 'applied');
        blocks.addMaintenance(res.state.assetType, res.state.sensors, repair, repairSource);
        for (const p of res.predictions) {
          predictions.push({ key: repair.assetId, value: codec.encode(opts.topics.predictions, predictionRecord(p)) });
          bump(counts.predictions, p.kind);
        }
        continue;
      }
      if (!reading) continue; // (unreachable: a record is a reading or a repair)
      if (replaying && alreadyHeld(reading.assetId, offset)) continue;
      let state = partStates.get(reading.assetId);
      if (state === undefined) {
        try {
          state = newState(reading.assetId, reading.assetType, opts.cfg);
        } catch (err) {
          if (!(err instanceof UnknownAssetTypeError)) throw err;
          if (!replaying) dead.push(deadLetter(src, new PoisonRecordError(`${batch.topic}[${partition}]@${msg.offset}: ${err.message}`, 'unknown_asset_type', { cause: err }), SERVICE, now()));
          continue;
        }
        partStates.set(reading.assetId, state);
      }
      const step = score(state, reading, opts.cfg);
      partStates.set(reading.assetId, step.state);
      markDirty(reading.assetId, offset);
      if (replaying) {
        counts.replayed++;
        continue;
      }
      counts.readings++;
      if (step.score >= ANOMALY_SCORE) counts.anomalies++;
      const key = reading.assetId;
      blocks.addReading(reading, step, step.state.sensors);
      for (const p of step.predictions) {
        predictions.push({ key, value: codec.encode(opts.topics.predictions, predictionRecord(p)) });
        bump(counts.predictions, p.kind);
      }
      const invalid = step.findings.filter((f) => DLQ_FINDINGS.has(f.kind));
      for (const f of step.findings) bump(counts.findings, f.kind);
      if (invalid.length > 0) {
        // The valid sensors were scored; the record's bytes also go to the DLQ so ops see the device's fault.
        const why = invalid.map((f) => (f.sensor ? `${f.sensor}: ${f.detail}` : f.detail)).join('; ');
        dead.push(deadLetter(src, new PoisonRecordError(`${batch.topic}[${partition}]@${msg.offset}: ${why}`, 'invalid_value'), SERVICE, now()));
      }
    }
    const lastOffset = messages[messages.length - 1]!.offset;
    const nextOffset = BigInt(lastOffset) + 1n;
    if (replayEnd !== undefined && nextOffset >= replayEnd) {
      replayUntil.delete(partition);
      restoredOffsets.delete(partition);
    }
    m.replayed.inc({}, counts.replayed);

    if (replayEnd !== undefined && nextOffset <= replayEnd) {
      // Replay only: nothing to write, the offsets up to replayEnd are committed already.
      resolveOffset(lastOffset);
      await heartbeat();
      return;
    }

    // About one state (3.6 KB) per 8 scores (≈ 350 B each) keeps a transaction's bytes balanced.
    const due = dueForCheckpoint(dirty, now(), Number(nextOffset), Math.max(8, Math.ceil(counts.readings / 8)), checkpointMs, checkpointReadings);
    const changelog = due.length > 0 ? checkpointRecords(partition, partStates, dirty, due, nextOffset) : [];
    const scores = blocks.records().map((b) => ({ key: b.assetId, value: codec.encode(scoreBlockKey, b) }));
    const topicMessages = [
      { topic: opts.topics.scores, messages: scores },
      { topic: opts.topics.predictions, messages: predictions },
      { topic: opts.topics.state, messages: changelog },
      ...groupByTopic(dead),
    ].filter((t) => t.messages.length > 0);

    try {
      await commitInGroup({ epoch: chunkEpoch, topicMessages, offset: { partition, offset: nextOffset.toString() } });
    } catch (err) {
      // What this chunk did to the in-memory states is not committed: rebuild from the changelog.
      needRestore = true;
      throw new PipelineError(`${batch.topic}[${partition}]: transaction for offsets ${messages[0]!.offset}..${lastOffset}`, true, { cause: err });
    }
    positions.set(partition, nextOffset);
    // This partition's chunks run one at a time, so `dirty` did not change meanwhile.
    for (const id of due) dirty.delete(id);
    m.checkpointed.inc({}, due.length);
    resolveOffset(lastOffset);
    m.readings.inc({}, counts.readings);
    m.anomalies.inc({}, counts.anomalies);
    for (const [kind, n] of counts.predictions) m.predictions.inc({ kind }, n);
    for (const [kind, n] of counts.findings) m.findings.inc({ kind }, n);
    for (const [outcome, n] of counts.maintenance) m.maintenance.inc({ outcome }, n);
    for (const d of dead) m.deadLetters.inc({ service: SERVICE, reason: String(d.message.headers?.['pdm-dlq-reason']) });
    let total = 0;
    for (const s of states.values()) total += s.size;
    m.assets.set(total);
    await heartbeat();
  };

  /**
   * The changelog records for writing the states of `due` (a prefix of `dirty`), then the
   * partition's marker: the first offset of the oldest asset still dirty after them, or
   * `nextOffset` when none is.
   */
  const checkpointRecords = (partition: number, partStates: Map<string, AssetState>, dirty: DirtyAssets, due: string[], nextOffset: bigint): Message[] => {
    const out: Message[] = [];
    const sourceOffset = Number(nextOffset - 1n);
    for (const assetId of due) {
      const state = partStates.get(assetId);
      if (!state) continue;
      const bytes = encodeState(state);
      // A view, not a copy: the encoded state is fresh and owned here.
      const rec: StateRecord = { assetId, assetType: state.assetType, state: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), sourceOffset };
      // Explicit partition: the changelog is co-partitioned with the readings by construction.
      out.push({ key: assetId, partition, value: codec.encode(opts.topics.state, rec) });
    }
    let markerOffset = Number(nextOffset);
    let i = 0;
    for (const d of dirty.values()) {
      if (i++ === due.length) {
        markerOffset = d.offset;
        break;
      }
    }
    const marker: StateRecord = { assetId: CHECKPOINT_KEY, assetType: '', state: Buffer.alloc(0), sourceOffset: markerOffset };
    out.push({ key: CHECKPOINT_KEY, partition, value: codec.encode(opts.topics.state, marker) });
    return out;
  };

  await consumer.connect();
  await consumer.subscribe({ topics: [opts.topics.readings], fromBeginning: true });

  let stopping = false;
  let resolveDone!: () => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  consumer.on(consumer.events.CRASH, (e) => {
    const err = e.payload.error;
    log.error('consumer crashed', { error: describeError(err), restart: e.payload.restart });
    needRestore = true;
    if (!e.payload.restart && !stopping) {
      void shutdown().then(() => rejectDone(err));
    }
  });

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    // Partitions are scored concurrently and committed together (see commitInGroup).
    partitionsConsumedConcurrently: opts.partitionsConcurrently ?? 8,
    eachBatch: processBatch,
  });
  log.info('scoring', { topic: opts.topics.readings, groupId, transactionalId: `${groupId}-${instanceId}` });

  async function finalCheckpoint(): Promise<void> {
    if (needRestore) return; // the states are not those of the last commit
    const changelog: Message[] = [];
    for (const [partition, dirty] of trackers) {
      const position = positions.get(partition);
      const partStates = states.get(partition);
      // Mid-replay the states are behind `position`: such a partition keeps its last checkpoint.
      if (dirty.size === 0 || position === undefined || !partStates || replayUntil.has(partition)) continue;
      changelog.push(...checkpointRecords(partition, partStates, dirty, [...dirty.keys()], position));
    }
    if (changelog.length === 0) return;
    await commitInGroup({ epoch, topicMessages: [{ topic: opts.topics.state, messages: changelog }] });
    log.info('final checkpoint', { records: changelog.length });
  }

  async function shutdown(): Promise<void> {
    if (stopping) return done;
    stopping = true;
    // Stop fetching and let the running batches commit, then checkpoint what changed since
    // the last checkpoints, so that a planned restart replays nothing.
    await consumer.stop().catch(() => undefined);
    await finalCheckpoint().catch((err: unknown) => log.warn('final checkpoint failed; the next start replays from the last one', { error: describeError(err) }));
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    resolveDone();
    return done;
  }

  return { name: SERVICE, metrics, stop: shutdown, done };
}

/**
 * The oldest dirty assets whose checkpoint is due at `at` (a prefix of `dirty`, which is in
 * first-change order): changed at least `intervalMs` ago or at least `maxReadings` offsets
 * before `nextOffset`. Assets that change together (a fleet's first readings, a burst) fall
 * due together; so that one transaction does not carry hundreds of 3.6 KB states and stall
 * the stream, at most `limit` of those due are taken, except that states due for half an
 * interval more are always taken (which bounds the replay).
 */
export function dueForCheckpoint(
  dirty: ReadonlyMap<string, { at: number; offset: number }>,
  at: number,
  nextOffset: number,
  limit: number,
  intervalMs: number,
  maxReadings: number,
): string[] {
  const due: string[] = [];
  for (const [id, d] of dirty) {
    const age = at - d.at;
    const behind = nextOffset - d.offset;
    if (age < intervalMs && behind < maxReadings) break;
    const overdue = age >= intervalMs * 1.5 || behind >= maxReadings * 1.5;
    if (!overdue && due.length >= limit) break;
    due.push(id);
  }
  return due;
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Splits topic messages into requests of at most `limit` value bytes each (a single larger message goes alone). */
export function splitBySize(topicMessages: { topic: string; messages: Message[] }[], limit: number): { topic: string; messages: Message[] }[][] {
  const requests: { topic: string; messages: Message[] }[][] = [];
  let current: { topic: string; messages: Message[] }[] = [];
  let bytes = 0;
  for (const { topic, messages } of topicMessages) {
    let group: Message[] = [];
    for (const m of messages) {
      const size = (m.value ? (m.value as Buffer).length : 0) + (m.key ? Buffer.byteLength(m.key as string | Buffer) : 0);
      if (bytes + size > limit && bytes > 0) {
        if (group.length) current.push({ topic, messages: group });
        requests.push(current);
        current = [];
        group = [];
        bytes = 0;
      }
      group.push(m);
      bytes += size;
    }
    if (group.length) current.push({ topic, messages: group });
  }
  if (current.length) requests.push(current);
  return requests;
}

function groupByTopic(items: { topic: string; message: Message }[]): { topic: string; messages: Message[] }[] {
  const by = new Map<string, Message[]>();
  for (const { topic, message } of items) {
    const list = by.get(topic) ?? [];
    list.push(message);
    by.set(topic, list);
  }
  return [...by].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * Where each partition's replay starts and ends: from its checkpoint marker (or, with no
 * checkpoint yet, the readings' earliest offset: every state then starts fresh) up to the
 * group's committed offset (from = until when there is nothing to replay). Partitions with
 * nothing committed are left out.
 */
async function replayRanges(
  admin: Admin,
  groupId: string,
  topic: string,
  partitions: number[],
  markers: Map<number, bigint>,
  log: Logger,
): Promise<Map<number, { from: bigint; until: bigint }>> {
  const out = new Map<number, { from: bigint; until: bigint }>();
  if (partitions.length === 0) return out;
  const [committed, ends] = await Promise.all([admin.fetchOffsets({ groupId, topics: [topic] }), admin.fetchTopicOffsets(topic)]);
  const low = new Map(ends.map((o) => [o.partition, BigInt(o.low)]));
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  for (const partition of partitions) {
    const until = done.get(partition) ?? -1n;
    if (until < 0n) continue; // nothing committed: nothing was scored
    const earliest = low.get(partition) ?? 0n;
    let from = markers.get(partition) ?? earliest;
    if (from < earliest) {
      // Retention deleted readings the last checkpoint does not cover: their effect on the
      // states cannot be redone. Scoring goes on from what is left (and says so).
      log.warn('readings after the last checkpoint were deleted by retention; states miss them', { topic, partition, checkpoint: from.toString(), earliest: earliest.toString() });
      from = earliest;
    }
    out.set(partition, { from: from < until ? from : until, until });
  }
  return out;
}

/**
 * Reads the committed changelog of the given partitions from the beginning up to its end
 * (as of the start of the restore) into `into`. kafkajs has no manual partition assignment,
 * so a throwaway consumer group subscribes to the topic and pauses the unwanted partitions.
 * Returns the number of asset states restored, each partition's checkpoint marker and each
 * restored state's sourceOffset.
 */
async function restorePartitions(
  kafka: Kafka,
  codec: AvroCodec,
  topic: string,
  partitions: number[],
  into: Map<number, Map<string, AssetState>>,
  timeoutMs: number,
  log: Logger,
): Promise<{ count: number; markers: Map<number, bigint>; sourceOffsets: Map<number, Map<string, number>> }> {
  const markers = new Map<number, bigint>();
  const sourceOffsets = new Map<number, Map<string, number>>(partitions.map((p) => [p, new Map()]));
  if (partitions.length === 0) return { count: 0, markers, sourceOffsets };
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const wanted = new Set(partitions);
  /** partition → last offset to reach (end - 1); partitions with nothing to read are left out. */
  const remaining = new Map<number, bigint>();
  for (const o of offsets) {
    if (wanted.has(o.partition) && BigInt(o.high) > BigInt(o.low)) remaining.set(o.partition, BigInt(o.high) - 1n);
  }
  if (remaining.size === 0) return { count: 0, markers, sourceOffsets };

  const consumer: Consumer = kafka.consumer({ groupId: `pdm-scorer-restore-${randomUUID()}`, readUncommitted: false });
  let count = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const progress = (partition: number, lastOffset: string) => {
    const target = remaining.get(partition);
    if (target !== undefined && BigInt(lastOffset) >= target) remaining.delete(partition);
    if (remaining.size === 0) finish();
  };
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => progress(e.payload.partition, e.payload.lastOffset));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const states = into.get(batch.partition);
        if (!states) return;
        for (const msg of batch.messages) {
          const key = msg.key?.toString('utf8');
          if (!key) continue;
          if (msg.value === null) {
            if (states.delete(key)) count--;
            sourceOffsets.get(batch.partition)?.delete(key);
            continue;
          }
          const rec = (await codec.decode(msg.value)) as StateRecord;
          if (key === CHECKPOINT_KEY) {
            markers.set(batch.partition, BigInt(rec.sourceOffset));
            continue;
          }
          if (!states.has(key)) count++;
          states.set(key, decodeState(new Uint8Array(rec.state)));
          sourceOffsets.get(batch.partition)?.set(key, rec.sourceOffset);
        }
      },
    });
    // The throwaway group owns every partition; reading only the wanted ones keeps a restore
    // proportional to this instance's share of the changelog. (A fetch already in flight may
    // still bring records of the others: eachBatch ignores them.)
    const others = offsets.map((o) => o.partition).filter((p) => !wanted.has(p));
    if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new PipelineError(`restore of ${topic} partitions ${partitions.join(',')} did not reach the end within ${timeoutMs} ms (an open transaction of another instance?)`, true)),
        timeoutMs,
      );
    });
    await Promise.race([finished, timeout]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect().catch((err: unknown) => log.warn('restore consumer disconnect', { error: describeError(err) }));
  }
  return { count, markers, sourceOffsets };
}
