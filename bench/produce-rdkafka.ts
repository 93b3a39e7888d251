/**
 * The produce bench's librdkafka candidate: the system librdkafka (the one kcat and the
 * embedded broker use) driven from Node through koffi, in a child process of its own so its
 * threads are not the bench's. kcat's lines to one topic, acks=all: each record given to
 * rd_kafka_produce (RD_KAFKA_MSG_F_COPY) with its partition, then rd_kafka_flush; every
 * delivery report is counted and a failed one fails the round, as a sink would.
 *
 * `node bin/run-ts.js bench/produce-rdkafka.ts <bootstrap> <topic> <partitions> <lines file>`
 */
import koffi from 'koffi';
import { RD_KAFKA_PRODUCER, createRdKafkaHandle, loadRdKafka } from '../lib/local/rdkafka.ts';
import { readLines, serveRounds, type Line } from './produce-child.ts';

const [bootstrap = '', topic = '', partitions = '', file = ''] = process.argv.slice(2);
const PARTITIONS = Number(partitions);
const WARM_UP_RECORDS = 6000;
const RD_KAFKA_MSG_F_COPY = 0x2;
const RD_KAFKA_RESP_ERR_QUEUE_FULL = -184;
const FLUSH_TIMEOUT_MS = 60_000;

const rd = loadRdKafka();
const lib = rd.library;
const DeliveryReport = koffi.proto(
  'void tgstream_bench_dr_msg_cb(void* rk, void* message, void* opaque)',
);
const native = {
  setDeliveryReport: lib.func(
    'void rd_kafka_conf_set_dr_msg_cb(void* conf, tgstream_bench_dr_msg_cb* cb)',
  ),
  topicNew: lib.func('void* rd_kafka_topic_new(void* rk, const char* topic, void* conf)'),
  topicDestroy: lib.func('void rd_kafka_topic_destroy(void* rkt)'),
  produce: lib.func(
    'int rd_kafka_produce(void* rkt, int32_t partition, int msgflags, void* payload, size_t len, const void* key, size_t keylen, void* opaque)',
  ),
  lastError: lib.func('int rd_kafka_last_error()'),
  poll: lib.func('int rd_kafka_poll(void* rk, int timeout_ms)'),
  flush: lib.func('int rd_kafka_flush(void* rk, int timeout_ms)'),
};

let delivered = 0;
let failed = 0;
let firstFailure = 0;
// rd_kafka_message_t begins with its error code; the callback runs inside rd_kafka_poll or
// rd_kafka_flush, on this thread.
const onDelivery = koffi.register((_rk: unknown, message: unknown) => {
  const err = koffi.decode(message, 'int') as number;
  if (err === 0) delivered++;
  else if (failed++ === 0) firstFailure = err;
}, koffi.pointer(DeliveryReport));

// Only acks differs from librdkafka's defaults, as it does for kcat.
const rk = createRdKafkaHandle(
  rd,
  RD_KAFKA_PRODUCER,
  { 'bootstrap.servers': bootstrap, acks: 'all', log_level: '3' },
  (conf) => {
    native.setDeliveryReport(conf, onDelivery);
  },
);
const rkt: unknown = native.topicNew(rk, topic, null);

/** Seconds from the first rd_kafka_produce to the last delivery report. */
function produce(lines: readonly Line[]): number {
  delivered = 0;
  const started = process.hrtime.bigint();
  for (const [i, { key, value }] of lines.entries()) {
    const partition = i % PARTITIONS;
    while (
      native.produce(
        rkt,
        partition,
        RD_KAFKA_MSG_F_COPY,
        value,
        value.length,
        key,
        key.length,
        null,
      ) !== 0
    ) {
      const err = native.lastError() as number;
      if (err !== RD_KAFKA_RESP_ERR_QUEUE_FULL)
        throw new Error(`rd_kafka_produce failed: ${String(rd.errToStr(err))}`);
      native.poll(rk, 10); // librdkafka's queue is full: serve delivery reports, as kcat does
    }
  }
  const flushed = native.flush(rk, FLUSH_TIMEOUT_MS) as number;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (flushed !== 0 || failed > 0 || delivered !== lines.length)
    throw new Error(
      `librdkafka delivered ${delivered} of ${lines.length} records (flush: ${String(rd.errToStr(flushed))}; ${failed} failed${failed > 0 ? `, first: ${String(rd.errToStr(firstFailure))}` : ''})`,
    );
  return seconds;
}

await serveRounds(() => {
  const lines = readLines(file);
  produce(lines.slice(0, WARM_UP_RECORDS));
  return Promise.resolve({
    warmUpRecords: WARM_UP_RECORDS,
    round: () => Promise.resolve(produce(lines)),
    close: () => {
      native.topicDestroy(rkt);
      rd.destroy(rk);
      koffi.unregister(onDelivery);
      return Promise.resolve();
    },
  });
});
