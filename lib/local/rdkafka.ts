/**
 * librdkafka (Debian package librdkafka1) loaded through koffi. Only the embedded broker
 * (librdkafka's mock cluster) and the TigerGraph emulator's Kafka loader use it; the
 * product's own Kafka clients are kafkajs behind lib/kafka.
 */
import { arch, endianness } from 'node:os';
import koffi, { type LibraryHandle } from 'koffi';
import { LocalError, messageOf } from '../errors/index.ts';

const CANDIDATES = [
  process.env.TGSTREAM_LIBRDKAFKA,
  'librdkafka.so.1',
  '/usr/lib/x86_64-linux-gnu/librdkafka.so.1',
  '/usr/lib/aarch64-linux-gnu/librdkafka.so.1',
  '/usr/local/lib/librdkafka.so.1',
  'librdkafka.dylib',
].filter((p): p is string => p !== undefined && p !== '');

export const RD_KAFKA_PRODUCER = 0;
export const RD_KAFKA_CONSUMER = 1;
/** librdkafka's "reached the end of the partition" event code. */
export const RD_KAFKA_RESP_ERR_PARTITION_EOF = -191;
const ERRSTR_SIZE = 512;

/** A message read from librdkafka, its key and value copied out of librdkafka's memory. */
export interface RdKafkaMessage {
  /** 0, or librdkafka's error code (for example {@link RD_KAFKA_RESP_ERR_PARTITION_EOF}). */
  readonly err: number;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

const bind = (lib: LibraryHandle) => {
  const message = koffi.struct('rd_kafka_message_t', {
    err: 'int',
    rkt: 'void*',
    partition: 'int32_t',
    payload: 'void*',
    len: 'size_t',
    key: 'void*',
    key_len: 'size_t',
    offset: 'int64_t',
    _private: 'void*',
  });
  return {
    /** The loaded library, for binding functions beyond these (bench/produce-rdkafka.ts). */
    library: lib,
    message,
    version: lib.func('const char* rd_kafka_version_str()'),
    confNew: lib.func('void* rd_kafka_conf_new()'),
    confSet: lib.func(
      'int rd_kafka_conf_set(void* conf, const char* name, const char* value, void* errstr, size_t size)',
    ),
    kafkaNew: lib.func('void* rd_kafka_new(int type, void* conf, void* errstr, size_t size)'),
    destroy: lib.func('void rd_kafka_destroy(void* rk)'),
    errToStr: lib.func('const char* rd_kafka_err2str(int err)'),
    mockClusterNew: lib.func('void* rd_kafka_mock_cluster_new(void* rk, int broker_cnt)'),
    mockClusterDestroy: lib.func('void rd_kafka_mock_cluster_destroy(void* mcluster)'),
    mockBootstraps: lib.func('const char* rd_kafka_mock_cluster_bootstraps(void* mcluster)'),
    mockTopicCreate: lib.func(
      'int rd_kafka_mock_topic_create(void* mcluster, const char* topic, int partition_cnt, int replication_factor)',
    ),
    mockBrokerDown: lib.func(
      'int rd_kafka_mock_broker_set_down(void* mcluster, int32_t broker_id)',
    ),
    mockBrokerUp: lib.func('int rd_kafka_mock_broker_set_up(void* mcluster, int32_t broker_id)'),
    mockBrokerRtt: lib.func(
      'int rd_kafka_mock_broker_set_rtt(void* mcluster, int32_t broker_id, int rtt_ms)',
    ),
    mockPartitionSetLeader: lib.func(
      'int rd_kafka_mock_partition_set_leader(void* mcluster, const char* topic, int32_t partition, int32_t broker_id)',
    ),
    mockPushErrors: lib.func(
      'void rd_kafka_mock_push_request_errors_array(void* mcluster, int16_t api_key, size_t cnt, const int* errors)',
    ),
    consumerPoll: lib.func('rd_kafka_message_t* rd_kafka_consumer_poll(void* rk, int timeout_ms)'),
    queueGetConsumer: lib.func('void* rd_kafka_queue_get_consumer(void* rk)'),
    queueDestroy: lib.func('void rd_kafka_queue_destroy(void* rkqu)'),
    /** Fills `messages` (a Buffer of pointers) with up to `size` messages; -1 on an error. */
    consumeBatchQueue: lib.func(
      'intptr_t rd_kafka_consume_batch_queue(void* rkqu, int timeout_ms, void* messages, size_t size)',
    ),
    consumerClose: lib.func('int rd_kafka_consumer_close(void* rk)'),
    messageDestroy: lib.func('void rd_kafka_message_destroy(rd_kafka_message_t* m)'),
    tplNew: lib.func('void* rd_kafka_topic_partition_list_new(int size)'),
    tplAdd: lib.func(
      'void* rd_kafka_topic_partition_list_add(void* list, const char* topic, int32_t partition)',
    ),
    tplSetOffset: lib.func(
      'int rd_kafka_topic_partition_list_set_offset(void* list, const char* topic, int32_t partition, int64_t offset)',
    ),
    tplDestroy: lib.func('void rd_kafka_topic_partition_list_destroy(void* list)'),
    assign: lib.func('int rd_kafka_assign(void* rk, void* list)'),
    queryWatermarks: lib.func(
      'int rd_kafka_query_watermark_offsets(void* rk, const char* topic, int32_t partition, _Out_ int64_t* low, _Out_ int64_t* high, int timeout_ms)',
    ),
  };
};

export type RdKafka = ReturnType<typeof bind>;
let cached: RdKafka | undefined;

/**
 * Loads librdkafka once per process.
 *
 * @throws LocalError `LOCAL_LIBRDKAFKA_MISSING` saying what to install.
 */
export function loadRdKafka(): RdKafka {
  if (cached) return cached;
  const failures: string[] = [];
  for (const path of CANDIDATES) {
    try {
      cached = bind(koffi.load(path));
      return cached;
    } catch (error) {
      failures.push(`${path}: ${messageOf(error)}`);
    }
  }
  throw new LocalError(
    'LOCAL_LIBRDKAFKA_MISSING',
    'The embedded Kafka broker needs librdkafka, which could not be loaded. Install the Debian package ' +
      "librdkafka1 (run 'bash scripts/ensure-librdkafka.sh' as root, or 'sudo apt-get install librdkafka1'), " +
      'or set TGSTREAM_LIBRDKAFKA to the library path. Tried: ' +
      failures.join('; '),
  );
}

/**
 * Creates a configured rd_kafka_t handle; `configure` gets the rd_kafka_conf_t before the
 * handle takes it over, for settings that are not strings (callbacks).
 */
export function createRdKafkaHandle(
  rd: RdKafka,
  type: number,
  settings: Record<string, string>,
  configure?: (conf: unknown) => void,
): unknown {
  const errstr = Buffer.alloc(ERRSTR_SIZE);
  const conf: unknown = rd.confNew();
  for (const [name, value] of Object.entries(settings)) {
    if (rd.confSet(conf, name, value, errstr, ERRSTR_SIZE) !== 0) {
      throw new LocalError(
        'LOCAL_LIBRDKAFKA_CONFIG',
        `librdkafka rejected ${name}: ${cString(errstr)}`,
      );
    }
  }
  configure?.(conf);
  const rk: unknown = rd.kafkaNew(type, conf, errstr, ERRSTR_SIZE);
  if (!rk)
    throw new LocalError(
      'LOCAL_LIBRDKAFKA_CREATE',
      `librdkafka could not create a client: ${cString(errstr)}`,
    );
  return rk;
}

const cString = (buffer: Buffer): string => {
  const end = buffer.indexOf(0);
  return buffer.subarray(0, end === -1 ? buffer.length : end).toString('utf8');
};

/**
 * Reads messages at native pointers (as `rd_kafka_consume_batch_queue` writes them): each
 * message's struct and then its key and value are copied into Node's memory with `memcpy`, a
 * cheap native call each, instead of decoding the struct into an object and viewing each
 * buffer through an external ArrayBuffer (several times the CPU a message; the README's
 * pipeline section has the ad-hoc figures).
 */
export function messageReader(rd: RdKafka): (pointer: bigint) => RdKafkaMessage {
  // Pointers and sizes are read as 64-bit little-endian numbers.
  if (koffi.sizeof('void*') !== 8 || koffi.sizeof('size_t') !== 8 || endianness() !== 'LE')
    throw new LocalError(
      'LOCAL_PLATFORM_UNSUPPORTED',
      `The TigerGraph emulator's Kafka reader needs a 64-bit little-endian platform (this is ${arch()}, ${endianness()})`,
    );
  const memcpy = nativeCopy();
  const at = (field: string): number => koffi.offsetof(rd.message, field);
  const o = {
    err: at('err'),
    partition: at('partition'),
    payload: at('payload'),
    len: at('len'),
    key: at('key'),
    keyLen: at('key_len'),
    offset: at('offset'),
  };
  const header = Buffer.alloc(koffi.sizeof(rd.message));
  const bytes = (pointerAt: number, lengthAt: number): Buffer | null => {
    const pointer = header.readBigUInt64LE(pointerAt);
    if (pointer === 0n) return null;
    const copy = Buffer.allocUnsafe(Number(header.readBigUInt64LE(lengthAt)));
    if (copy.length > 0) memcpy(copy, pointer, copy.length);
    return copy;
  };
  return (pointer) => {
    memcpy(header, pointer, header.length);
    return {
      err: header.readInt32LE(o.err),
      partition: header.readInt32LE(o.partition),
      offset: Number(header.readBigInt64LE(o.offset)),
      key: bytes(o.key, o.keyLen),
      value: bytes(o.payload, o.len),
    };
  };
}

type Copy = (dest: Buffer, src: bigint, n: number) => unknown;
let copyFunction: Copy | undefined;
/** The C library's `memcpy`, from the process's own symbols. */
const nativeCopy = (): Copy =>
  (copyFunction ??= koffi.load(null).func('void* memcpy(void* dest, void* src, size_t n)') as Copy);
