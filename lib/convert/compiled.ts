/**
 * The compiled converter: per schema, generated JavaScript that reads Avro binary and writes
 * TigerGraph JSON text directly (no intermediate objects), as avsc generates its decoders.
 * Its output must equal the interpreted converter's byte for byte (checked by tests and by
 * `npm run bench`).
 */
import { ConvertError } from '../errors/index.ts';
import * as format from './format.ts';
import type { TimestampFormat } from './format.ts';
import { MAX_EMPTY_ITEMS, truncated, zeroWidth, type DatumConverter } from './interpreted.ts';
import type { Node, RecordNode } from './schema.ts';

interface Helpers {
  readonly format: typeof format;
  readonly ConvertError: typeof ConvertError;
  readonly truncated: typeof truncated;
  readonly constants: readonly unknown[];
  readonly MAX_EMPTY_ITEMS: number;
}

/** Generates the source of one converter; exported for tests and for reading. */
export function generateSource(
  root: Node,
  ts: TimestampFormat,
): { source: string; constants: unknown[] } {
  const constants: unknown[] = [];
  const constant = (value: unknown): string => {
    constants.push(value);
    return `K[${constants.length - 1}]`;
  };
  const records = new Map<RecordNode, string>();
  const functions: string[] = [];
  let vars = 0;
  const v = (): string => `v${vars++}`;

  /**
   * Code that reads one value of `node` and appends it to `o`. `before` runs first when the
   * value is not null (it writes the key or the separator); `nullText` is appended for a null
   * (undefined: write nothing at all).
   */
  const gen = (node: Node, before: string, nullText: string | undefined): string => {
    const emit = (expr: string): string => `${before}o+=${expr};`;
    switch (node.kind) {
      case 'null':
        return nullText === undefined ? '' : `${before}o+=${JSON.stringify(nullText)};`;
      case 'boolean':
        return `if(p>=b.length)throw T();${emit("b[p++]===0?'false':'true'")}`;
      case 'int':
        if (node.logical === 'date') return emit('F.formatDate(rn())');
        if (node.logical === 'time-millis') return emit('F.formatTime(rn(),false)');
        return emit('String(rn())');
      case 'long':
        switch (node.logical) {
          case 'time-micros':
            return emit('F.formatTime(rn(),true)');
          case 'timestamp-millis':
          case 'local-timestamp-millis':
            return emit(
              ts === 'epoch' ? 'rls()' : `F.formatTimestamp(rn(),false,${JSON.stringify(ts)})`,
            );
          case 'timestamp-micros':
          case 'local-timestamp-micros':
            return emit(
              ts === 'epoch' ? 'rls()' : `F.formatTimestamp(rn(),true,${JSON.stringify(ts)})`,
            );
          default:
            return emit('rls()');
        }
      case 'float':
        return `if(p+4>b.length)throw T();${emit('F.formatFloat(b.readFloatLE(p))')}p+=4;`;
      case 'double':
        return `if(p+8>b.length)throw T();${emit('F.formatDouble(b.readDoubleLE(p))')}p+=8;`;
      case 'bytes': {
        const n = v();
        const text =
          node.logical === 'decimal'
            ? `F.formatDecimal(b.subarray(p,p+${n}),${node.scale ?? 0})`
            : `F.formatBytes(b.subarray(p,p+${n}))`;
        return `{const ${n}=rn();if(${n}<0||p+${n}>b.length)throw T();${emit(text)}p+=${n};}`;
      }
      case 'string': {
        const n = v();
        return `{const ${n}=rn();if(${n}<0||p+${n}>b.length)throw T();${emit(`JSON.stringify(b.toString('utf8',p,p+${n}))`)}p+=${n};}`;
      }
      case 'fixed': {
        const fn =
          node.logical === 'decimal'
            ? `F.formatDecimal(b.subarray(p,p+${node.size}),${node.scale ?? 0})`
            : node.logical === 'duration'
              ? `F.formatDuration(b.subarray(p,p+${node.size}))`
              : `F.formatBytes(b.subarray(p,p+${node.size}))`;
        return `if(p+${node.size}>b.length)throw T();${emit(fn)}p+=${node.size};`;
      }
      case 'enum': {
        const i = v();
        const symbols = constant(node.symbols.map((s) => JSON.stringify(s)));
        return `{const ${i}=rn();const s=${symbols}[${i}];if(s===undefined)throw new E('CONVERT_AVRO_INVALID','Enum ${node.name} has no symbol number '+${i});${emit('s')}}`;
      }
      case 'union': {
        const i = v();
        const cases = node.branches
          .map((branch, k) => `case ${k}:${gen(branch, before, nullText)}break;`)
          .join('');
        return `{const ${i}=rn();switch(${i}){${cases}default:throw new E('CONVERT_AVRO_INVALID','A union has no branch number '+${i});}}`;
      }
      case 'record': {
        let name = records.get(node);
        if (name === undefined) {
          name = `r${records.size}`;
          records.set(node, name);
          functions.push(genRecord(node, name));
        }
        return `${before}${name}();`;
      }
      case 'array': {
        const n = v();
        const first = v();
        const empty = zeroWidth(node.items);
        const item = gen(node.items, `if(${first})${first}=false;else o+=',';`, 'null');
        return `${before}o+='[';{let ${first}=true;for(let ${n}=rn();${n}!==0;${n}=rn()){if(${n}<0){${n}=-${n};rn();}if(${n}>${empty ? 'M' : 'b.length-p'})throw new E('CONVERT_AVRO_INVALID','An Avro block claims '+${n}+' items, more than the data can hold');for(let i=0;i<${n};i++){${item}}}}o+=']';`;
      }
      case 'map': {
        const n = v();
        const first = v();
        const key = v();
        const value = gen(
          node.values,
          `if(${first})${first}=false;else o+=',';o+=${key}+':';`,
          undefined,
        );
        return `${before}o+='{';{let ${first}=true;for(let ${n}=rn();${n}!==0;${n}=rn()){if(${n}<0){${n}=-${n};rn();}if(${n}>b.length-p)throw new E('CONVERT_AVRO_INVALID','An Avro block claims '+${n}+' entries, more than the data can hold');for(let i=0;i<${n};i++){const kl=rn();if(kl<0||p+kl>b.length)throw T();const ${key}=JSON.stringify(b.toString('utf8',p,p+kl));p+=kl;${value}}}}o+='}';`;
      }
    }
  };

  const canBeNull = (node: Node): boolean =>
    node.kind === 'null' || (node.kind === 'union' && node.branches.some(canBeNull));

  function genRecord(node: RecordNode, name: string): string {
    // Whether a field is the first one written is known at generation time until a field
    // that may be null (omitted) comes; from there a runtime flag decides.
    let state: 'first' | 'later' | 'runtime' = 'first';
    let body = "o+='{';";
    for (const f of node.fields) {
      const key = JSON.stringify(f.name);
      const before =
        state === 'first'
          ? `o+=${JSON.stringify(`${key}:`)};`
          : state === 'later'
            ? `o+=${JSON.stringify(`,${key}:`)};`
            : `if(f){f=false;o+=${JSON.stringify(`${key}:`)};}else o+=${JSON.stringify(`,${key}:`)};`;
      const nullable = canBeNull(f.type);
      body += gen(f.type, nullable && state !== 'later' ? `${before}f=false;` : before, undefined);
      if (nullable) state = state === 'later' ? 'later' : 'runtime';
      else state = 'later';
    }
    return `function ${name}(){let f=true;${body}o+='}';}`;
  }

  const top = gen(root, '', undefined);
  const source = `
const F=H.format,E=H.ConvertError,T=H.truncated,K=H.constants,M=H.MAX_EMPTY_ITEMS;
let b,p,o;
function rn(){let n=0,f=1,c;do{c=b[p++];if(c===undefined)throw T();n+=(c&127)*f;f*=128;}while(c&128);return n%2===0?n/2:-(n+1)/2;}
function rls(){const s=p;let n=0,f=1,c,k=0;do{c=b[p++];if(c===undefined)throw T();n+=(c&127)*f;f*=128;k++;}while(c&128);
if(k<=7)return String(n%2===0?n/2:-(n+1)/2);
if(k>10)throw new E('CONVERT_AVRO_INVALID','An Avro long is longer than 10 bytes');
p=s;let x=0n,h=0n;do{c=b[p++];x|=BigInt(c&127)<<h;h+=7n;}while(c&128);return String((x>>1n)^-(x&1n));}
${functions.join('\n')}
return function convert(buf,start){b=buf;p=start;o='';${top}const text=o;o='';b=undefined;return {text:text===''?undefined:text,end:p};};`;
  return { source, constants };
}

/**
 * Compiles a converter for a schema.
 *
 * @example
 * const convert = createCompiledConverter(parseSchema(schemaJson), 'datetime');
 * const { text } = convert(avroBytes, 0);
 */
export function createCompiledConverter(node: Node, ts: TimestampFormat): DatumConverter {
  const { source, constants } = generateSource(node, ts);
  const helpers: Helpers = { format, ConvertError, truncated, constants, MAX_EMPTY_ITEMS };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from a parsed schema, never from data; this is the compile step
  const factory = new Function('H', source) as (h: Helpers) => DatumConverter;
  return factory(helpers);
}
