/**
 * Example for device makers: a refrigerator gateway publishing its fridges' last hour of
 * one-minute samples, then a repair, through the product's producer helper. Run it against
 * the local stack (npm run stack:up) with
 *
 *   npx tsx services/producer/example.ts
 *
 * or point it elsewhere with PDM_KAFKA_BROKERS, PDM_REGISTRY_URL and PDM_TOPIC_PREFIX. It
 * prints what it sent as one JSON line on stdout. services/producer/example.int.test.ts runs
 * it and reads the records back from the topic.
 */
import { InvalidRecordError, TelemetryProducer } from './producer.ts';

const brokers = (process.env.PDM_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const registryUrl = process.env.PDM_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
const topic = `${process.env.PDM_TOPIC_PREFIX ?? ''}telemetry.readings`;
/** Fridges behind this gateway: the asset id is the product's serial number. */
const fridges = (process.env.EXAMPLE_ASSETS ?? 'FRIDGE-0001,FRIDGE-0002,FRIDGE-0003').split(',');
const MINUTE = 60_000;

const producer = await TelemetryProducer.connect({
  kafka: { clientId: 'fridge-gateway-example', brokers },
  registryUrl,
  topic,
  // Defaults shown for the reader: 500 records per request, sent at the latest 200 ms after
  // the first of them was buffered, gzip-compressed.
  batchSize: 500,
  lingerMs: 200,
  compression: 'gzip',
});
let refused = 0;
try {
  // Whole minutes, so every fridge's samples line up; ts is epoch milliseconds UTC.
  const end = Math.floor(Date.now() / MINUTE) * MINUTE;
  for (let ts = end - 59 * MINUTE; ts <= end; ts += MINUTE) {
    for (const [i, assetId] of fridges.entries()) {
      await producer.send({
        assetId,
        assetType: 'refrigerator',
        ts,
        // Sensor names end with their unit: _c degrees Celsius, _a amperes.
        values: {
          cabinet_temp_c: 3.5 + 0.2 * i + 0.3 * Math.sin(ts / (17 * MINUTE)),
          evaporator_temp_c: -18 + Math.cos(ts / (11 * MINUTE)),
          compressor_current_a: (ts / MINUTE) % 20 < 12 ? 1.8 + 0.1 * i : 0,
          ambient_temp_c: 21,
        },
      });
    }
  }
  // A mistake is refused before anything is sent, with every problem named: here a device
  // clock reporting epoch seconds instead of milliseconds.
  try {
    await producer.send({ assetId: fridges[0]!, assetType: 'refrigerator', ts: Math.floor(end / 1000), values: { cabinet_temp_c: 4 } });
  } catch (err) {
    if (!(err instanceof InvalidRecordError)) throw err;
    refused += 1;
    process.stderr.write(`refused: ${err.message}\n`);
  }
  // A technician replaced the first fridge's door seal: its cooling-loss episode ends and
  // the cabinet temperature re-learns its baseline.
  await producer.sendMaintenance({ assetId: fridges[0]!, ts: end + 1, failureMode: 'cooling_loss', source: 'field-service' });
} finally {
  await producer.close();
}
process.stdout.write(`${JSON.stringify({ topic, ...producer.stats, refused })}\n`);
