/**
 * Bad records for the poison scenario, seeded: random byte strings (with and without the
 * Confluent header, with the readings' own schema id and with ids no registry has), and
 * schema-valid absurd records (huge maps, empty and huge ids, times far in the past and the
 * future, unknown asset types, maintenance events for nothing). Each carries a header with
 * its id so its dead letter can be found; every one must be dead-lettered exactly once.
 */
import type { Message } from 'kafkajs';
import type { AvroCodec } from '../../services/kafka/codec.ts';
import { recordWriterKey } from '../../services/kafka/codec.ts';
import { Rng } from '../../services/simulator/prng.ts';

/** Header naming a bad record (copied to its dead letter with the other headers). */
export const POISON_HEADER = 'rel-poison';

export interface Poison {
  id: string;
  kind: string;
  message: Message;
}

/** Uniform [0, 1) draws of a seeded stream (the simulator's mulberry32), so a failing run can be replayed with its seed. */
export function prng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/**
 * `count` bad records: about two thirds fuzzed bytes, one third absurd records.
 * @param schemaId the registered id of the readings schema (fuzz behind a real id)
 * @param ts a plausible sample time for the absurd records that are bad for another reason
 * @param knownAssets assets of the good traffic (a repair naming a failure mode they lack is bad)
 */
export function makePoison(codec: AvroCodec, topic: string, maintenanceName: string, schemaId: number, count: number, seed: number, ts: number, knownAssets: readonly string[]): Poison[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const out: Poison[] = [];
  const add = (kind: string, value: Buffer | null, key = `poison-${out.length}`) => {
    const id = `p${out.length}`;
    out.push({ id, kind, message: { key, value, headers: { [POISON_HEADER]: id } } });
  };
  const reading = (over: Record<string, unknown>) => codec.encode(topic, { assetId: `poison-asset-${int(50)}`, assetType: 'refrigerator', ts, values: { cabinet_temp_c: 4 }, ...over });
  const absurd: (() => void)[] = [
    () => add('huge map (20,000 sensors)', reading({ values: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`s${i}`, i])) })),
    () => add('empty asset id', reading({ assetId: '' })),
    () => add('100,000-character asset id', reading({ assetId: 'x'.repeat(100_000) })),
    () => add('timestamp in 1970', reading({ ts: 1_000 })),
    () => add('timestamp in year 3000', reading({ ts: Date.UTC(3000, 0, 1) })),
    () => add('unknown asset type', reading({ assetType: `warp_drive_${int(1000)}` })),
    () => add('asset id with a control character', reading({ assetId: `bad\u0007id-${int(100)}` })),
    () => {
      // For an asset with a state (a repair of an asset never seen has nothing to reset): its
      // own key, so it follows the asset's readings.
      const assetId = knownAssets[int(knownAssets.length)]!;
      add('maintenance event for an unknown failure mode', codec.encode(recordWriterKey(topic, maintenanceName), { assetId, ts, failureMode: 'warp_core_breach', sensors: null, source: 'rel' }), assetId);
    },
    () => add('sensor name of 10,000 characters', reading({ values: { ['n'.repeat(10_000)]: 1 } })),
  ];
  while (out.length < count) {
    const r = rnd();
    if (r < 0.2) {
      add('random bytes', bytes(int(200)));
    } else if (r < 0.4) {
      // Magic byte 0, then a schema id no registry has handed out (ids stay positive int32).
      const b = bytes(5 + int(60));
      b[0] = 0;
      b.writeUInt32BE(0x40000000 + int(0x3fffffff), 1);
      add('unknown schema id', b);
    } else if (r < 0.67) {
      // The readings' own schema id and random Avro: malformed, or decodes into nonsense.
      const b = bytes(5 + int(80));
      b[0] = 0;
      b.writeUInt32BE(schemaId, 1);
      add('random body behind the readings schema id', b);
    } else if (r < 0.7) {
      add('empty value', Buffer.alloc(0));
    } else {
      absurd[int(absurd.length)]!();
    }
  }
  return out;
}
