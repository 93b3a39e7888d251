import {
  parseConnectorFile,
  validateConnectorFile,
  type ValidationResult,
} from '../../lib/config/index.ts';

/** A valid connector file; tests replace or drop lines from it. */
export const VALID = `connector.class=org.apache.kafka.connect.mirror.MirrorSourceConnector
source.cluster.alias=hello
target.cluster.alias=world
source.cluster.bootstrap.servers=src1:9092,src2:9092
target.cluster.bootstrap.servers=tg:30002
source->target.enabled=true
topics=companies
key.converter=org.apache.kafka.connect.converters.ByteArrayConverter
header.converter=org.apache.kafka.connect.converters.ByteArrayConverter
value.converter=org.apache.kafka.connect.converters.ByteArrayConverter
sync.topic.configs.enabled=false
tigergraph.url=http://127.0.0.1:14240
tigergraph.graph=Company_Graph
tigergraph.loading.job=load_company
tigergraph.loading.filename=f1
tigergraph.loading.data.source=k1
[connector_1]
name=company-stream
tasks.max=3
`;

export const validate = (text: string, file = 'c.properties'): ValidationResult => {
  const { parsed, problems } = parseConnectorFile(text, file);
  return validateConnectorFile(parsed, problems);
};

/** VALID with `key` set to `value` (or removed when value is undefined). */
export const edit = (key: string, value: string | undefined, text = VALID): string => {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith(`${key}=`));
  if (value === undefined) lines.splice(i, 1);
  else if (i === -1)
    lines.splice(
      lines.findIndex((l) => l.startsWith('[')),
      0,
      `${key}=${value}`,
    );
  else lines[i] = `${key}=${value}`;
  return lines.join('\n');
};
