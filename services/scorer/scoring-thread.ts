/**
 * A scoring thread (started by scoring-threads.ts): hosts a LocalScoring for the partitions
 * routed to it and answers the consuming thread's calls. Chunks and outputs arrive and leave
 * packed in transferred buffers (thread-packing.ts); every call is answered in the order it
 * came, which keeps each partition's calls in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { reviveConfig } from '../core/index.ts';
import { AvroCodec, loadSchemaText, recordWriterKey } from '../kafka/codec.ts';
import { LocalScoring } from './scoring.ts';
import type { ThreadCall, ThreadInit, ThreadReply } from './scoring-threads.ts';
import { packMessages, unpackChunk, unpackMessages, type PackedMessages } from './thread-packing.ts';

const init = workerData as ThreadInit;
const port = parentPort!;

async function start(): Promise<LocalScoring> {
  const codec = new AvroCodec(init.registryUrl);
  const { topics } = init;
  await codec.registerValueSchema(topics.scores, loadSchemaText('score'));
  const scoreBlockKey = recordWriterKey(topics.scores, await codec.registerRecordSchema(topics.scores, loadSchemaText('scoreBlock')));
  await codec.registerValueSchema(topics.predictions, loadSchemaText('prediction'));
  await codec.registerValueSchema(topics.state, loadSchemaText('state'));
  await codec.registerRecordSchema(topics.readings, loadSchemaText('maintenance'));
  return new LocalScoring({ ...init.settings, codec, topics, scoreBlockKey, cfg: reviveConfig(init.cfg) });
}

const transfers = (packed: PackedMessages[]): ArrayBuffer[] => packed.map((p) => p.buf);

async function answer(scoring: LocalScoring, call: ThreadCall): Promise<ThreadReply | undefined> {
  switch (call.op) {
    case 'load': {
      const partitions = call.partitions.map((p) => ({ ...p, states: new Map(unpackMessages(p.states).map((m) => [(m.key as Buffer).toString('utf8'), m.value as Buffer])) }));
      if (call.replace) await scoring.load(partitions);
      else scoring.add(partitions);
      return { id: call.id };
    }
    case 'score': {
      const o = await scoring.score(call.partition, call.topic, unpackChunk(call.chunk), call.now);
      const { topicMessages, ...rest } = o;
      return { id: call.id, outcome: { ...rest, topics: topicMessages.map((t) => ({ topic: t.topic, packed: packMessages(t.messages) })) } };
    }
    case 'committed':
      scoring.committed(call.partition, call.nextOffset);
      return undefined;
    case 'final':
      return { id: call.id, final: (await scoring.finalCheckpoint()).map((f) => ({ partition: f.partition, packed: packMessages(f.messages) })) };
  }
}

start().then(
  (scoring) => {
    // One call at a time, in arrival order: a partition's chunk never overtakes its predecessor.
    let tail = Promise.resolve();
    port.on('message', (call: ThreadCall) => {
      tail = tail.then(async () => {
        try {
          const reply = await answer(scoring, call);
          if (!reply) return;
          const packed = reply.outcome ? reply.outcome.topics.map((t) => t.packed) : (reply.final ?? []).map((f) => f.packed);
          port.postMessage(reply, transfers(packed));
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          const causes: string[] = [];
          for (let c: unknown = e.cause, i = 0; c instanceof Error && i < 5; c = c.cause, i++) causes.push(c.message);
          if ('id' in call) port.postMessage({ id: call.id, error: { message: e.message, causes, retriable: (e as { retriable?: boolean }).retriable } } satisfies ThreadReply);
        }
      });
    });
    port.postMessage({ ready: true });
  },
  (err: unknown) => port.postMessage({ initError: err instanceof Error ? err.message : String(err) }),
);
