/** The typed connector configuration, its defaults, and the keys TigerStream knows. */
import { ConfigError } from '../errors/index.ts';

export const MIRROR_SOURCE_CONNECTOR = 'org.apache.kafka.connect.mirror.MirrorSourceConnector';
export const BYTE_ARRAY_CONVERTER = 'org.apache.kafka.connect.converters.ByteArrayConverter';
export const AVRO_REGISTRY_CONVERTER =
  'com.tigergraph.kafka.connect.converters.TigerGraphAvroConverter';
export const AVRO_NO_REGISTRY_CONVERTER =
  'com.tigergraph.kafka.connect.converters.TigerGraphAvroConverterWithoutSchemaRegistry';

export const VALUE_CONVERTERS = {
  [BYTE_ARRAY_CONVERTER]: 'bytes',
  [AVRO_REGISTRY_CONVERTER]: 'avro-registry',
  [AVRO_NO_REGISTRY_CONVERTER]: 'avro',
} as const;
export type ValueConverterKind = (typeof VALUE_CONVERTERS)[keyof typeof VALUE_CONVERTERS];

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];
export const SASL_MECHANISMS = [
  'PLAIN',
  'SCRAM-SHA-256',
  'SCRAM-SHA-512',
  'OAUTHBEARER',
  'AWS_MSK_IAM',
  'GSSAPI',
] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** How TigerStream reaches one Kafka cluster. */
export interface ClientSecurity {
  readonly protocol: SecurityProtocol;
  readonly mechanism: SaslMechanism | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** `ssl.endpoint.identification.algorithm` set to empty: no hostname check. */
  readonly skipHostnameCheck: boolean;
  readonly keystoreLocation: string | undefined;
  readonly truststoreLocation: string | undefined;
  /** PEM material (from ssl.keystore.key / .certificate.chain / ssl.truststore.certificates). */
  readonly keyPem: string | undefined;
  readonly certificateChainPem: string | undefined;
  readonly caPem: string | undefined;
  /** SASL/OAUTHBEARER: MSK IAM tokens, or OAuth client credentials from a token endpoint. */
  readonly oauth: OAuthSettings | undefined;
}

export type OAuthSettings =
  | { readonly kind: 'msk-iam' }
  | {
      readonly kind: 'client-credentials';
      readonly tokenEndpointUrl: string;
      readonly clientId: string;
      readonly clientSecret: string;
      readonly scope: string | undefined;
    };

/**
 * How a connector's records reach the graph:
 * - `mirror-only`: no `tigergraph.*` key. Records go to `<alias>.<topic>` on TigerGraph's Kafka
 *   and the user's own loading job (RUN LOADING JOB, EOF or streaming) loads them: exactly what
 *   the reference page's MirrorMaker connector did. TigerStream never calls TigerGraph.
 * - `kafka`: the same produce, then TigerStream starts the loading job over what it produced.
 * - `direct`: TigerStream posts JSON lines to RESTPP `/ddl`; nothing goes to TigerGraph's Kafka.
 */
export const DELIVERY_MODES = ['mirror-only', 'kafka', 'direct'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

/** What TigerStream needs to call TigerGraph's loader: present only when it is to call it. */
export interface TigerGraphSettings {
  readonly delivery: 'kafka' | 'direct';
  readonly url: string;
  readonly version: 3 | 4;
  readonly graph: string;
  readonly loadingJob: string;
  readonly loadingFilename: string;
  readonly dataSource: string;
  readonly eof: boolean;
  /** Wait for each EOF run to finish and read its statistics (kafka mode). */
  readonly waitForLoad: boolean;
  readonly batchMaxBytes: number;
  /** How many /ddl posts one batch keeps in flight, each for other source partitions. */
  readonly directConcurrency: number;
  readonly requestTimeoutMs: number;
  readonly auth: {
    readonly username: string | undefined;
    readonly password: string | undefined;
    readonly secret: string | undefined;
    readonly token: string | undefined;
  };
}

/** One validated connector: frozen, typed, defaults applied. */
export interface ConnectorConfig {
  readonly name: string;
  readonly tasksMax: number;
  readonly file: string;
  readonly section: string;
  readonly sourceAlias: string;
  readonly targetAlias: string;
  readonly sourceBootstrapServers: string;
  readonly targetBootstrapServers: string;
  readonly topics: readonly string[];
  readonly topicsExclude: readonly string[];
  readonly replicationPolicy: 'default' | 'identity';
  readonly replicationSeparator: string;
  readonly valueConverter: ValueConverterKind;
  readonly schemaRegistryUrl: string | undefined;
  readonly source: ClientSecurity;
  readonly target: ClientSecurity;
  /** `undefined`: a mirror-only connector (no `tigergraph.*` key); see {@link DeliveryMode}. */
  readonly tigergraph: TigerGraphSettings | undefined;
  readonly errorsTolerance: 'none' | 'all';
  readonly deadLetterTopic: string | undefined;
  readonly esm: {
    readonly batchSize: number;
    readonly batchingWindowMs: number;
    readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  };
  /** Refresh SSM parameters after this age in the Lambda (ms). */
  readonly configMaxAgeMs: number;
  /** CloudWatch alarm thresholds the IaC generates. */
  readonly alarms: {
    /** Records waiting in the source topics (Lambda's OffsetLag) that raise the alarm. */
    readonly offsetLag: number;
  };
  /** Every key as written (section keys override global ones), for MirrorMaker keys kept as-is. */
  readonly settings: Readonly<Record<string, string>>;
}

/** A connector's delivery mode: its loader's delivery, or `mirror-only` when it has none. */
export const deliveryModeOf = (config: Pick<ConnectorConfig, 'tigergraph'>): DeliveryMode =>
  config.tigergraph?.delivery ?? 'mirror-only';

/**
 * A connector's loader settings, for code that only works when TigerStream calls TigerGraph.
 *
 * @param purpose what needs them, for the message.
 * @throws ConfigError `CONFIG_TIGERGRAPH_NOT_SET` for a mirror-only connector.
 */
export function requireTigerGraph(
  config: Pick<ConnectorConfig, 'name' | 'tigergraph'>,
  purpose: string,
): TigerGraphSettings {
  if (config.tigergraph !== undefined) return config.tigergraph;
  throw new ConfigError(
    'CONFIG_TIGERGRAPH_NOT_SET',
    `Connector ${config.name} is mirror-only (it has no tigergraph.* key), but ${purpose} needs TigerStream to call TigerGraph; set tigergraph.url, tigergraph.graph, tigergraph.loading.job, tigergraph.loading.filename (and tigergraph.loading.data.source in kafka delivery)`,
  );
}

/** Defaults of every optional key, in one place. */
export const DEFAULTS = Object.freeze({
  'tasks.max': '1',
  'topics.exclude': '',
  'replication.policy.class': 'org.apache.kafka.connect.mirror.DefaultReplicationPolicy',
  'replication.policy.separator': '.',
  'sync.topic.configs.enabled': 'false',
  'tigergraph.delivery': 'kafka',
  'tigergraph.version': '3',
  'tigergraph.loading.eof': 'true',
  'tigergraph.loading.wait': 'true',
  'tigergraph.batch.max.bytes': String(4 * 1024 * 1024),
  // 4: a batch holding several source partitions (one invocation can) overlaps up to 4 /ddl
  // round trips, while one invocation adds at most 4 posts to what TigerGraph's RESTPP serves.
  'tigergraph.direct.concurrency': '4',
  'tigergraph.request.timeout.ms': '30000',
  'errors.tolerance': 'none',
  'tigerstream.esm.batch.size': '100',
  'tigerstream.esm.batching.window.ms': '500',
  'tigerstream.esm.starting.position': 'TRIM_HORIZON',
  'tigerstream.config.max.age.ms': '300000',
  'tigerstream.alarm.offset.lag': '100000',
});

/** Keys TigerStream reads (beyond the client-security prefixes). */
export const KNOWN_KEYS = new Set<string>([
  'connector.class',
  'name',
  'tasks.max',
  'topics',
  'topics.exclude',
  'topics.blacklist',
  'producer.compression.type',
  'producer.max.request.size',
  'source.cluster.alias',
  'target.cluster.alias',
  'source.cluster.bootstrap.servers',
  'target.cluster.bootstrap.servers',
  'key.converter',
  'header.converter',
  'value.converter',
  'value.converter.schema.registry.url',
  'value.converter.basic.auth.user.info',
  'value.converter.basic.auth.credentials.source',
  'value.converter.bearer.auth.token',
  'value.converter.schemas',
  'value.converter.reader.schema',
  'value.converter.timestamp.format',
  'errors.tolerance',
  'errors.deadletterqueue.topic.name',
  'errors.deadletterqueue.context.headers.enable',
  'errors.log.enable',
  'tigergraph.delivery',
  'tigergraph.url',
  'tigergraph.version',
  'tigergraph.graph',
  'tigergraph.loading.job',
  'tigergraph.loading.filename',
  'tigergraph.loading.data.source',
  'tigergraph.loading.eof',
  'tigergraph.loading.wait',
  'tigergraph.auth.secret',
  'tigergraph.auth.username',
  'tigergraph.auth.password',
  'tigergraph.auth.token',
  'tigergraph.batch.max.bytes',
  'tigergraph.direct.concurrency',
  'tigergraph.request.timeout.ms',
  'tigerstream.esm.batch.size',
  'tigerstream.esm.batching.window.ms',
  'tigerstream.esm.starting.position',
  'tigerstream.esm.secret.arn',
  'tigerstream.esm.vpc.subnet.ids',
  'tigerstream.esm.vpc.security.group.ids',
  'tigerstream.vpc.subnet.ids',
  'tigerstream.vpc.security.group.ids',
  'tigerstream.config.max.age.ms',
  // MirrorMaker 2's, and TigerStream writes the heartbeats they ask for (lib/heartbeat).
  'emit.heartbeats.enabled',
  'emit.heartbeats.interval.seconds',
  ...Object.keys(DEFAULTS),
]);

/** MirrorMaker 2 / Kafka Connect keys that are accepted and kept but do not change TigerStream. */
export const MIRRORMAKER_KEYS = new Set<string>([
  'replication.factor',
  'sync.topic.acls.enabled',
  'sync.group.offsets.enabled',
  'checkpoints.topic.replication.factor',
  'heartbeats.topic.replication.factor',
  'offset-syncs.topic.replication.factor',
  'offset.storage.replication.factor',
  'status.storage.replication.factor',
  'config.storage.replication.factor',
  'emit.checkpoints.enabled',
  'emit.checkpoints.interval.seconds',
  'refresh.topics.enabled',
  'refresh.topics.interval.seconds',
  'refresh.groups.enabled',
  'refresh.groups.interval.seconds',
  'groups',
  'groups.exclude',
  'offset.lag.max',
  'config.properties.exclude',
  'topic.filter.class',
  'group.filter.class',
  'clusters',
  'scheduled.rebalance.max.delay.ms',
  'transforms',
  'offset-syncs.topic.location',
  'replication.policy.class',
  'replication.policy.separator',
]);

/** Prefixes whose keys configure a Kafka client (MirrorMaker's admin, producer and consumer). */
export const CLIENT_PREFIXES = [
  'source.admin',
  'producer',
  'consumer',
  'source.cluster',
  'target.cluster',
  'admin',
] as const;

export const CLIENT_KEYS = new Set<string>([
  'security.protocol',
  'sasl.mechanism',
  'sasl.jaas.config',
  'sasl.kerberos.service.name',
  'sasl.client.callback.handler.class',
  'sasl.login.callback.handler.class',
  'sasl.oauthbearer.token.endpoint.url',
  'ssl.endpoint.identification.algorithm',
  'ssl.keystore.location',
  'ssl.keystore.password',
  'ssl.keystore.type',
  'ssl.key.password',
  'ssl.truststore.location',
  'ssl.truststore.password',
  'ssl.truststore.type',
  'ssl.keystore.key',
  'ssl.keystore.certificate.chain',
  'ssl.truststore.certificates',
  'ssl.protocol',
  'ssl.enabled.protocols',
  'client.id',
  'request.timeout.ms',
  'bootstrap.servers',
  'acks',
  'compression.type',
  'max.request.size',
  'linger.ms',
  'batch.size',
  'max.poll.records',
  'fetch.max.bytes',
]);
