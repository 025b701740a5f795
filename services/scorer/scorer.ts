/**
 * The scorer: consumes telemetry.readings, runs the pure core on each reading, and writes
 * anomaly scores, failure predictions, dead letters and the per-asset state changelog in
 * ONE Kafka transaction together with the consumed offsets (exactly-once). Its memory
 * holds nothing that cannot be rebuilt: on every partition assignment it drops what it
 * had and restores the assigned partitions' states from the compacted changelog (read
 * committed) before scoring, so a restart, a kill -9 or a rebalance continues exactly
 * where the last committed transaction left off.
 *
 * The parts, each in its own file:
 * - scoring.ts: the CPU work per chunk (decode, step, checkpoints, encoding) over the
 *   partitions' states, on this thread or in worker threads (scoring-threads.ts);
 * - decode.ts: a chunk of records → the step's inputs (readings, repairs, poison);
 * - step.ts: the pure per-record step over one partition's states (partition-state.ts);
 * - score-blocks.ts: the columnar score records;
 * - checkpoints.ts: rolling checkpoints of changed states and the partition's marker;
 * - partition-transactions.ts: one transactional producer per assigned partition (so that an
 *   instance that lost its partitions can never commit: it is fenced), and the epoch that
 *   keeps work scored on states being rebuilt from ever being committed;
 * - restore.ts: the changelog read-back and the replay range after an assignment.
 *
 * Concurrency: kafkajs runs eachBatch for several partitions at once, but one partition's
 * batches one at a time; each partition has its own PartitionState, so a state is only
 * touched by one batch at a time (in one thread: a partition always goes to the same one).
 * The restore is shared (one promise) and advances the epoch. A batch returns once its
 * chunk's transaction is queued (partition-transactions.ts, enqueue), so a partition's next
 * batch may be scored while the last one commits; its transactions still commit in order.
 */
import type { ConsumerRunConfig, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { createKafka, dependencyOf } from '../kafka/client.ts';
import { ConsumerRestarts } from '../kafka/consumer-restart.ts';
import { AvroCodec, loadSchemaText, recordWriterKey } from '../kafka/codec.ts';
import { deadLetter } from '../kafka/dlq.ts';
import { heartbeatIntervalMs } from '../kafka/env.ts';
import { ensureTopics } from '../kafka/topics.ts';
import { describeError } from '../runtime/errors.ts';
import { createLogger } from '../runtime/log.ts';
import { Health } from '../runtime/health.ts';
import { BUCKETS, MetricsRegistry } from '../runtime/metrics.ts';
import type { RunningService } from '../runtime/service.ts';
import { PartitionTransactions, StaleChunkError } from './partition-transactions.ts';
import { compileScorerOptions, SERVICE, type ScorerOptions } from './options.ts';
import { replayRanges, restorePartitions } from './restore.ts';
import { LocalScoring, type LoadedPartition, type Scoring } from './scoring.ts';
import { ThreadedScoring } from './scoring-threads.ts';
import { ANOMALY_SCORE } from './step.ts';

export { CHECKPOINT_KEY, dueForCheckpoint } from './checkpoints.ts';
export { splitBySize, transactionalIdOf } from './partition-transactions.ts';
export { DEFAULT_SCORER, type ScorerOptions } from './options.ts';
export { ANOMALY_SCORE } from './step.ts';

/**
 * Fetch sizes of the scorer's consumer. A backlog is scored in cycles of fetch, score, one
 * transaction; each cycle costs several round trips whatever its size, so large fetches
 * (kafkajs's defaults are 1 MiB per partition, 10 MiB in all) make fewer, larger
 * transactions. With no backlog a fetch returns what has arrived, so latency is unaffected.
 */
export const SCORER_FETCH = { maxBytesPerPartition: 4 * 1024 * 1024, maxBytes: 32 * 1024 * 1024 } as const;

/**
 * Readings waiting behind a chunk (the rest of its batch and the partition's lag) from which
 * its transaction is queued and the next batch scored meanwhile; with fewer, the scorer is
 * caught up and awaits the commit, as it always did. Queuing every chunk (session 11) made
 * kafkajs fetch and the scorer commit a few readings at a time at 5,000 readings/s: p50 42-53
 * against 32-36 ms, p99 164-204 against 78-107 ms; a fetch held for 20 ms or 64 KiB brought
 * p50 back to 34-35 ms but left p99 higher in the next pair of runs (217-346 against 148-220).
 */
export const QUEUE_BACKLOG = 1_000;

export async function startScorer(opts: ScorerOptions): Promise<RunningService> {
  const cfg = compileScorerOptions(opts);
  const { topics, groupId, instanceId } = cfg;
  const log = opts.logger ?? createLogger(`${SERVICE}.${instanceId}`);
  const metrics = opts.metrics ?? new MetricsRegistry();
  const now = opts.now ?? Date.now;
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
    expired: metrics.counter('pdm_scorer_expired_states_total', 'Asset states removed after the asset sent nothing for the state TTL'),
    restoreSeconds: metrics.gauge('pdm_scorer_restore_seconds', 'Duration of the last restore (changelog read and replay range), seconds'),
    restoreRecords: metrics.gauge('pdm_scorer_restore_changelog_records', 'Changelog records the last restore read'),
    assets: metrics.gauge('pdm_scorer_assets', 'Asset states held in memory'),
    lag: metrics.gauge('pdm_consumer_lag', 'Records behind the high watermark after the last batch, by service, topic and partition'),
    chunkSeconds: metrics.histogram('pdm_scorer_chunk_duration_seconds', 'Time to decode, score and encode one chunk of a partition, seconds (the transaction not included)', BUCKETS.seconds),
    commitSeconds: metrics.histogram('pdm_scorer_commit_duration_seconds', 'Time from a chunk\'s queuing to the commit of the transaction that carries it (the wait behind the one in flight included), seconds', BUCKETS.seconds),
    chunkReadings: metrics.histogram('pdm_scorer_chunk_readings', 'Records per scored chunk (one transaction each)', BUCKETS.size),
  };
  /** Ready once the assigned partitions' states are restored; Kafka and the registry reported down while calls to them fail. */
  const health = opts.health ?? new Health();

  // Transaction requests right after a commit often meet CONCURRENT_TRANSACTIONS while the
  // broker writes the markers; they are retried through the client's retrier, whose default
  // 200 ms first backoff would stall the pipeline for far longer than the markers take.
  const kafka = createKafka({ brokers: cfg.brokers, clientId: `pdm-${SERVICE}-${instanceId}`, initialRetryTimeMs: 10 });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topics, { partitions: cfg.partitions });
  } catch (err) {
    await admin.disconnect();
    throw err;
  }

  const codec = new AvroCodec(cfg.registryUrl);
  await codec.registerValueSchema(topics.scores, loadSchemaText('score'));
  // Scores go out as one columnar block record per asset per chunk (score-blocks.ts).
  const scoreBlockKey = recordWriterKey(topics.scores, await codec.registerRecordSchema(topics.scores, loadSchemaText('scoreBlock')));
  await codec.registerValueSchema(topics.predictions, loadSchemaText('prediction'));
  await codec.registerValueSchema(topics.state, loadSchemaText('state'));
  await codec.registerRecordSchema(topics.readings, loadSchemaText('maintenance'));
  const settings = { stateTtlMs: cfg.stateTtlMs, checkpointIntervalMs: cfg.checkpointIntervalMs, checkpointMaxReadings: cfg.checkpointMaxReadings };
  /** Restores wanted: set on an assignment, a failed transaction, a lost scoring thread. */
  let needRestore = true;
  let scoring: Scoring;
  try {
    scoring =
      cfg.scoringThreads === 0
        ? new LocalScoring({ codec, topics, scoreBlockKey, cfg: cfg.cfg, ...settings })
        : await ThreadedScoring.start({ registryUrl: cfg.registryUrl, topics, cfg: cfg.cfg, settings }, cfg.scoringThreads, (err) => {
            log.error('a scoring thread stopped; its partitions are restored', { error: describeError(err), err });
            needRestore = true;
          });
  } catch (err) {
    await admin.disconnect();
    throw err;
  }

  // A failed transaction advances the epoch and, in the same step, asks for a restore: no
  // chunk scored after it on the states it leaves behind can be queued in the new epoch.
  const txns = new PartitionTransactions(
    kafka,
    groupId,
    topics.readings,
    log,
    {
      committed: () => m.transactions.inc(),
      aborted: () => {
        m.aborts.inc();
        needRestore = true;
      },
    },
    cfg.maxReadingsPerTransaction,
  );

  const consumer = kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: cfg.sessionTimeoutMs, heartbeatInterval: heartbeatIntervalMs(cfg.sessionTimeoutMs), ...SCORER_FETCH });
  /** The partitions assigned in the current generation. */
  let assigned: number[] = [];
  /** Asset states held per partition (the metric). */
  const assets = new Map<number, number>();
  let restoring: Promise<void> | undefined;
  /** Assignments received; a restore that began before the latest one must be redone. */
  let joins = 0;

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    assigned = [...(e.payload.memberAssignment[topics.readings] ?? [])].sort((a, b) => a - b);
    joins++;
    needRestore = true;
    log.info('partitions assigned', { partitions: assigned });
  });

  const restore = async (): Promise<void> => {
    const t0 = Date.now();
    const join = joins;
    health.notReady('restoring the assigned partitions\' states');
    // First the producers: each fences the partition's previous owner and aborts its open
    // transaction, so the changelog read below ends at the last committed state.
    await txns.assign(assigned);
    const states = new Map(assigned.map((p) => [p, new Map<string, Buffer>()]));
    const { count, markers, sourceOffsets, lastSeen, records } = await restorePartitions(kafka, codec, topics.state, assigned, states, cfg.restoreTimeoutMs, log);
    // Readings between each partition's checkpoint and the group's committed offset were
    // scored and their outputs committed, but their states were not checkpointed: replay them.
    const replay = await replayRanges(admin, groupId, topics.readings, assigned, markers, log);
    const loaded = new Map<number, LoadedPartition<Buffer>>(assigned.map((p) => [p, { partition: p, states: states.get(p)!, lastSeen: lastSeen.get(p) ?? new Map() }]));
    for (const [partition, { from, until }] of replay) {
      const part = loaded.get(partition)!;
      if (from < until) {
        part.replayUntil = until;
        part.restoredOffsets = sourceOffsets.get(partition);
      }
      part.position = until;
    }
    // Counted before the load, which takes the bytes out of these maps.
    const held = new Map([...states].map(([p, st]) => [p, st.size]));
    await scoring.load([...loaded.values()]);
    // Every partition restarts at its replay start (= the committed offset when there is
    // nothing to replay, the earliest reading when nothing was committed): kafkajs's own
    // positions may be past what was committed, after a failed transaction or when queued
    // transactions were refused as stale by this restore's new epoch.
    for (const [partition, { from }] of replay) consumer.seek({ topic: topics.readings, partition, offset: from.toString() });
    assets.clear();
    for (const [p, n] of held) assets.set(p, n);
    // An assignment that arrived meanwhile (another rebalance) needs its own restore.
    needRestore = joins !== join;
    health.up('kafka');
    health.ready();
    m.restores.inc({}, count);
    m.assets.set(count);
    m.restoreSeconds.set((Date.now() - t0) / 1000);
    m.restoreRecords.set(records);
    const toReplay = [...replay].reduce((sum, [, r]) => sum + Number(r.until - r.from), 0);
    log.info('state restored', { partitions: assigned, assets: count, changelogRecords: records, replayOffsets: toReplay, ms: Date.now() - t0 });
  };

  /** The restore in progress, or a new one: one at a time, shared by every partition's batch. */
  const restoreOnce = (): Promise<void> => (restoring ??= restore().finally(() => (restoring = undefined)));

  const processBatch = async (payload: EachBatchPayload): Promise<void> => {
    if (needRestore) await restoreOnce();
    const { batch, isRunning, isStale } = payload;
    // A restore that seeks this partition back for a replay makes this batch stale.
    if (isStale()) return;
    // At most maxReadingsPerTransaction readings per commit bounds the work redone after a
    // crash; request sizes are bounded separately (partition-transactions.ts, splitBySize).
    for (let i = 0; i < batch.messages.length; i += cfg.maxReadingsPerTransaction) {
      if (!isRunning() || isStale() || needRestore) return;
      await processChunk(payload, batch.messages.slice(i, i + cfg.maxReadingsPerTransaction), Math.max(0, batch.messages.length - i - cfg.maxReadingsPerTransaction));
    }
  };

  /** `remaining`: readings of the batch after this chunk. */
  const processChunk = async ({ batch, resolveOffset, heartbeat }: EachBatchPayload, messages: KafkaMessage[], remaining: number): Promise<void> => {
    if (messages.length === 0) return;
    const epoch = txns.epoch;
    const partition = batch.partition;
    const tChunk = performance.now();
    const out = await scoring.score(partition, batch.topic, messages, now());
    const lastOffset = messages[messages.length - 1]!.offset;
    const nextOffset = BigInt(lastOffset) + 1n;
    const { counts } = out;
    m.replayed.inc({}, counts.replayed);
    if (out.replayOnly) {
      // Replay only: nothing to write, the offsets up to the replay's end are committed already.
      resolveOffset(lastOffset);
      await heartbeat();
      return;
    }
    const labels = { service: SERVICE };
    m.chunkSeconds.observe((performance.now() - tChunk) / 1000, labels);
    m.chunkReadings.observe(messages.length, labels);
    const tCommit = performance.now();
    // Queued: with a backlog (below) kafkajs fetches and this scorer scores the next batch
    // while the broker commits this one, and the chunks that arrive meanwhile share the next
    // transaction. The outputs and offsets still commit in order, one transaction at a time
    // per partition; kafkajs's position moves on now, and a failure rewinds it (the restore).
    const queued = txns.enqueue(partition, { epoch, topicMessages: out.topicMessages, offset: nextOffset.toString() }, messages.length);
    queued.committed.then(
      () => {
        m.commitSeconds.observe((performance.now() - tCommit) / 1000, labels);
        health.up('kafka');
        scoring.committed(partition, nextOffset);
        m.checkpointed.inc({}, out.checkpointed);
        m.expired.inc({}, out.expired);
        m.readings.inc({}, counts.readings);
        m.anomalies.inc({}, counts.anomalies);
        for (const [kind, n] of counts.predictions) m.predictions.inc({ kind }, n);
        for (const [kind, n] of counts.findings) m.findings.inc({ kind }, n);
        for (const [outcome, n] of counts.maintenance) m.maintenance.inc({ outcome }, n);
        for (const reason of out.deadReasons) m.deadLetters.inc({ service: SERVICE, reason });
      },
      (err: unknown) => {
        // Refused as stale, the chunk was scored before whatever advanced the epoch: a failed
        // transaction (which asked for a restore, `aborted` above) or a restore, which rewinds
        // every partition to its committed offset once this fetch cycle ends.
        if (err instanceof StaleChunkError) return;
        // What this chunk did to the in-memory states is not committed: the restore at the next
        // batch rebuilds them from the changelog and rewinds every partition likewise
        // (kafkajs's position is past this chunk).
        needRestore = true;
        health.down('kafka', describeError(err));
        log.warn('transaction failed; restoring the states and rewinding to the committed offsets', { topic: batch.topic, partition, offsets: `${messages[0]!.offset}..${lastOffset}`, error: describeError(err) });
      },
    );
    resolveOffset(lastOffset);
    assets.set(partition, out.assets);
    let total = 0;
    for (const n of assets.values()) total += n;
    m.assets.set(total);
    const lag = Number(batch.offsetLag());
    m.lag.set(lag, { service: SERVICE, topic: batch.topic, partition: String(partition) });
    // Caught up, the commit is awaited after all (QUEUE_BACKLOG): queuing pays off with a
    // backlog to score meanwhile; without one, its extra, smaller fetches and transactions
    // cost the broker and this process CPU and raised the latency.
    if (lag + remaining < QUEUE_BACKLOG) await queued.committed.catch(() => undefined);
    else await queued.accepted;
    await heartbeat();
  };

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.readings], fromBeginning: true });
  } catch (err) {
    await Promise.allSettled([consumer.disconnect(), txns.close(), scoring.close(), admin.disconnect()]);
    throw err;
  }

  let stopping = false;
  let resolveDone!: () => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  const run: ConsumerRunConfig = {
    autoCommit: false,
    eachBatchAutoResolve: false,
    // Partitions are scored concurrently, each committed by its own producer.
    partitionsConsumedConcurrently: cfg.partitionsConcurrently,
    eachBatch: processBatch,
  };
  const restarts = new ConsumerRestarts(consumer, run, log);
  consumer.on(consumer.events.CRASH, (e) => {
    const err = e.payload.error;
    log.error('consumer crashed', { error: describeError(err), err, restart: e.payload.restart });
    health.down(dependencyOf(err), describeError(err));
    health.notReady('the consumer is restarting after an error');
    needRestore = true;
    if (!e.payload.restart && !stopping && !restarts.takeOver(err)) {
      void shutdown().then(() => rejectDone(err));
    }
  });

  // Restore as soon as partitions are assigned, not at their first batch: an instance whose
  // partitions are quiet is ready too (readiness waits for the restore), and the first
  // readings do not wait for it. A failure here is retried at the next batch.
  consumer.on(consumer.events.GROUP_JOIN, () => {
    restoreOnce().catch((err: unknown) => log.warn('restore after the assignment failed; retried at the next batch', { error: describeError(err) }));
  });

  await consumer.run(run);
  log.info('scoring', { topic: topics.readings, groupId, instanceId });

  /** Writes every state changed since its last checkpoint, so that a planned restart replays nothing. */
  async function finalCheckpoint(): Promise<void> {
    await txns.drain();
    if (needRestore) return; // the states are not those of the last commit
    let records = 0;
    for (const { partition, messages } of await scoring.finalCheckpoint()) {
      await txns.commit(partition, { epoch: txns.epoch, topicMessages: [{ topic: topics.state, messages }] });
      records += messages.length;
    }
    if (records > 0) log.info('final checkpoint', { records });
  }

  async function shutdown(): Promise<void> {
    if (stopping) return done;
    stopping = true;
    restarts.stop();
    // Stop fetching and let the running batches commit, then checkpoint what changed since
    // the last checkpoints.
    await consumer.stop().catch(() => undefined);
    await finalCheckpoint().catch((err: unknown) => log.warn('final checkpoint failed; the next start replays from the last one', { error: describeError(err) }));
    await consumer.disconnect().catch(() => undefined);
    await txns.close().catch(() => undefined);
    await scoring.close().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    resolveDone();
    return done;
  }

  return { name: SERVICE, metrics, health, stop: shutdown, done };
}
