/**
 * The compiled converter: per schema, generated JavaScript that reads Avro binary and writes
 * TigerGraph JSON bytes directly into a pooled buffer (no intermediate objects; ASCII strings
 * are copied byte for byte), as avsc generates its decoders.
 *
 * The generated code is shaped for V8: one function per schema with the input and output
 * positions in locals (records used once are inlined), varints decoded inline with the rare
 * cases in small helpers that take and return positions, and constant text written as
 * unrolled byte stores.
 * Its output must equal the interpreted converter's byte for byte (checked by tests and by
 * `npm run bench`).
 */
import { ConvertError } from '../errors/index.ts';
import * as format from './format.ts';
import type { TimestampFormat } from './format.ts';
import { truncated, type DatumConverter } from './interpreted.ts';
import { MAX_EMPTY_ITEMS, blockCountInvalid, emptyItemsTooMany, isEmptyType } from './limits.ts';
import type { Node, RecordNode } from './schema.ts';

interface Helpers {
  readonly format: typeof format;
  readonly ConvertError: typeof ConvertError;
  readonly truncated: typeof truncated;
  readonly constants: readonly unknown[];
  readonly MAX_EMPTY_ITEMS: number;
  readonly blockCountInvalid: typeof blockCountInvalid;
  readonly emptyItemsTooMany: typeof emptyItemsTooMany;
  readonly pool: { buf: Buffer; pos: number };
}

/**
 * The output pool all compiled converters share. A module-level buffer on purpose (house style
 * keeps singletons out of lib/): it is a cache of memory, not a collaborator, and sharing it
 * means one pool per container instead of 1 MiB per compiled schema. Conversions are
 * synchronous, so one at a time writes to it; it is taken at the first conversion.
 */
const pool = { buf: Buffer.alloc(0), pos: 0 };

/**
 * The helpers every generated converter shares. Records are written one after another into a
 * pool and returned as views (no copy); a full pool is replaced, never overwritten, so earlier
 * views stay valid. Helpers that read take the position and leave the new one in P.
 */
const RUNTIME = String.raw`
var F=H.format,E=H.ConvertError,T=H.truncated,K=H.constants,M=H.MAX_EMPTY_ITEMS,BC=H.blockCountInvalid,EM=H.emptyItemsTooMany;
var formatDate=F.formatDate,formatTime=F.formatTime,formatTimestamp=F.formatTimestamp,formatFloat=F.formatFloat,formatDouble=F.formatDouble,formatDecimal=F.formatDecimal,formatDuration=F.formatDuration,formatBytes=F.formatBytes,civil=F.civil,C=F.CIVIL;
var W=H.pool,POOL=1048576,P=0,Q=0,FL=true,Z=M;
function ws(o,q,t){const n=t.length;for(let i=0;i<n;i++){const c=t.charCodeAt(i);if(c<128)o[q++]=c;else return q+o.write(t.slice(i),q);}return q;}
function wu(o,q,n){const len=n<10?1:n<100?2:n<1000?3:n<10000?4:n<100000?5:n<1000000?6:n<10000000?7:n<100000000?8:n<1000000000?9:10;let i=q+len-1;do{const d=(n/10)|0;o[i--]=48+(n-d*10);n=d;}while(n>0);return q+len;}
function wn(o,q,n){if(n<0){o[q++]=45;n=-n;}if(n<2147483648)return wu(o,q,n);return wbig(o,q,n);}
function wbig(o,q,n){if(n>=9007199254740992)return ws(o,q,String(n));const hi=Math.floor(n/1e9);let lo=n-hi*1e9;q=hi<2147483648?wu(o,q,hi):wbig(o,q,hi);for(let k=100000000;k>=1;k=(k/10)|0){const d=(lo/k)|0;o[q++]=48+d;lo-=d*k;}return q;}
function big(b,p){let x=0n,h=0n,c,k=0;do{c=b[p++];if(c===undefined)throw T();if(++k>10)throw new E('CONVERT_AVRO_INVALID','An Avro long is longer than 10 bytes');x|=BigInt(c&127)<<h;h+=7n;}while(c&128);P=p;return (x>>1n)^-(x&1n);}
function rv(b,p){const s=p;let n=0,f=1,c,k=0;do{if(k===7)return Number(big(b,s));c=b[p++];if(c===undefined)throw T();n+=(c&127)*f;f*=128;k++;}while(c&128);P=p;return n%2===0?n/2:-(n+1)/2;}
function wl(o,q,b,p){const s=p;let n=0,f=1,c,k=0;do{if(k===7)return ws(o,q,String(big(b,s)));c=b[p++];if(c===undefined)throw T();n+=(c&127)*f;f*=128;k++;}while(c&128);P=p;return wn(o,q,n%2===0?n/2:-(n+1)/2);}
function d2(o,q,v){const d=(v/10)|0;o[q]=48+d;o[q+1]=48+v-d*10;}
function wdt(o,q,ms){if(!civil(ms))return ws(o,q,formatTimestamp(ms,false,'datetime'));const y=C[0];o[q]=34;o[q+1]=48+((y/1000)|0);o[q+2]=48+(((y/100)|0)%10);o[q+3]=48+(((y/10)|0)%10);o[q+4]=48+y%10;o[q+5]=45;d2(o,q+6,C[1]);o[q+8]=45;d2(o,q+9,C[2]);o[q+11]=32;d2(o,q+12,C[3]);o[q+14]=58;d2(o,q+15,C[4]);o[q+17]=58;d2(o,q+18,C[5]);o[q+20]=34;return q+21;}
`;

/** Longest generated code of one record's fields kept in one function (V8 optimizes it). */
const MAX_FUNCTION_SOURCE = 12_000;

export interface CompileOptions {
  /** Record field code longer than this moves into functions of its own (tests set it low). */
  readonly maxFunctionSource?: number;
}

/** Generates the source of one converter; exported for tests and for reading. */
export function generateSource(
  root: Node,
  ts: TimestampFormat,
  options: CompileOptions = {},
): { source: string; constants: unknown[] } {
  const constants: unknown[] = [];
  const constant = (value: unknown): string => {
    constants.push(value);
    return `K[${constants.length - 1}]`;
  };
  let vars = 0;
  const v = (): string => `v${vars++}`;
  const maxSource = options.maxFunctionSource ?? MAX_FUNCTION_SOURCE;

  // Code fragments. The generated functions keep the input (b, p) and the output (o, q) in
  // locals; x, c and t are scratch.
  /**
   * Gives up when the pool has no room for n more bytes: convert() then takes a new pool and
   * starts the datum again. (No call on this path: a call V8 has never seen run would make the
   * optimized code deoptimize there, once per site.)
   */
  const room = (n: string | number): string => `if(q+${n}>o.length)return -1;`;
  /** Reads a zig-zag varint into x. */
  const read = `c=b[p++];if(c<128)x=(c>>>1)^-(c&1);else{x=rv(b,p-1);p=P;}`;
  /** Writes the string in t. */
  const writeText = `${room('t.length*3')}q=ws(o,q,t);`;
  const emit = (expr: string): string => `t=${expr};${writeText}`;
  /** Writes a constant string: unrolled byte stores when it is short ASCII. */
  const lit = (text: string): string => {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.some((c) => c > 127) || bytes.length > 64) return emit(JSON.stringify(text));
    const stores = Array.from(bytes, (c, i) => `o[q${i === 0 ? '' : `+${i}`}]=${c};`).join('');
    return `${room(bytes.length)}${stores}q+=${bytes.length};`;
  };
  const bounded = (n: string): string => `if(${n}<0||p+${n}>b.length)throw T();`;

  // A record referenced once (and not from inside itself) is inlined where it is used; any
  // other gets a function, called with the positions passed through P and Q.
  const uses = new Map<RecordNode, number>();
  const count = (node: Node): void => {
    switch (node.kind) {
      case 'record': {
        const n = (uses.get(node) ?? 0) + 1;
        uses.set(node, n);
        if (n === 1) for (const f of node.fields) count(f.type);
        return;
      }
      case 'union':
        node.branches.forEach(count);
        return;
      case 'array':
        count(node.items);
        return;
      case 'map':
        count(node.values);
        return;
      default:
        return;
    }
  };
  count(root);
  const names = new Map<RecordNode, string>();
  const functions: string[] = [];
  const LOCALS = "let c=0,x=0,t='';";

  /**
   * Code that reads one value of `node` and appends it to the output. `before` runs first when
   * the value is not null (it writes the key or the separator); `nullText` is appended for a
   * null (undefined: write nothing at all).
   */
  const gen = (node: Node, before: string, nullText: string | undefined): string => {
    switch (node.kind) {
      case 'null':
        return nullText === undefined ? '' : `${before}${lit(nullText)}`;
      case 'boolean':
        return `if(p>=b.length)throw T();${before}if(b[p++]===0){${lit('false')}}else{${lit('true')}}`;
      case 'int':
        if (node.logical === 'date') return `${read}${before}${emit('formatDate(x)')}`;
        if (node.logical === 'time-millis') return `${read}${before}${emit('formatTime(x,false)')}`;
        return `${read}${before}${room(24)}q=wn(o,q,x);`;
      case 'long':
        switch (node.logical) {
          case 'time-micros':
            return `${read}${before}${emit('formatTime(x,true)')}`;
          case 'timestamp-millis':
          case 'local-timestamp-millis':
          case 'timestamp-micros':
          case 'local-timestamp-micros': {
            const micros = node.logical.endsWith('micros');
            if (ts === 'epoch') return `${before}${room(24)}q=wl(o,q,b,p);p=P;`;
            if (ts === 'datetime')
              return `${read}${before}${room(32)}q=wdt(o,q,${micros ? 'Math.floor(x/1000)' : 'x'});`;
            return `${read}${before}${emit(`formatTimestamp(x,${micros},'iso8601')`)}`;
          }
          default:
            return `c=b[p];${before}${room(24)}if(c<128){p++;q=wn(o,q,(c>>>1)^-(c&1));}else{q=wl(o,q,b,p);p=P;}`;
        }
      case 'float':
        return `if(p+4>b.length)throw T();${before}${emit('formatFloat(b.readFloatLE(p))')}p+=4;`;
      case 'double':
        return `if(p+8>b.length)throw T();${before}${emit('formatDouble(b.readDoubleLE(p))')}p+=8;`;
      case 'bytes': {
        const text =
          node.logical === 'decimal'
            ? `formatDecimal(b.subarray(p,p+x),${node.scale ?? 0})`
            : 'formatBytes(b.subarray(p,p+x))';
        return `${read}${bounded('x')}${before}${emit(text)}p+=x;`;
      }
      case 'string': {
        // ASCII without characters JSON escapes is copied byte for byte; anything else goes
        // through JSON.stringify.
        const start = v();
        const end = v();
        const at = v();
        return `${read}${bounded('x')}${before}${room('x+2')}{const ${start}=p,${end}=p+x,${at}=q;o[q++]=34;for(;p<${end};p++){c=b[p];if(c<32||c===34||c===92||c>127)break;o[q++]=c;}if(p<${end}){q=${at};t=JSON.stringify(b.toString('utf8',${start},${end}));${writeText}p=${end};}else o[q++]=34;}`;
      }
      case 'fixed': {
        const at = `b.subarray(p,p+${node.size})`;
        const text =
          node.logical === 'decimal'
            ? `formatDecimal(${at},${node.scale ?? 0})`
            : node.logical === 'duration'
              ? `formatDuration(${at})`
              : `formatBytes(${at})`;
        return `if(p+${node.size}>b.length)throw T();${before}${emit(text)}p+=${node.size};`;
      }
      case 'enum': {
        const symbols = constant(node.symbols.map((s) => JSON.stringify(s)));
        return `${read}${before}t=${symbols}[x];if(t===undefined)throw new E('CONVERT_AVRO_INVALID','Enum ${node.name} has no symbol number '+x);${writeText}`;
      }
      case 'union': {
        const cases = node.branches
          .map((branch, k) => `case ${k}:${gen(branch, before, nullText)}break;`)
          .join('');
        return `${read}switch(x){${cases}default:throw new E('CONVERT_AVRO_INVALID','A union has no branch number '+x);}`;
      }
      case 'record': {
        if (uses.get(node) === 1) return `${before}${recordBody(node)}`;
        let name = names.get(node);
        if (name === undefined) {
          name = `r${names.size}`;
          names.set(node, name);
          functions.push(
            `function ${name}(b){let p=P,q=Q;const o=W.buf;${LOCALS}${recordBody(node)}P=p;return q;}`,
          );
        }
        return `${before}P=p;Q=q;q=${name}(b);if(q<0)return -1;p=P;`;
      }
      case 'array':
      case 'map': {
        const array = node.kind === 'array';
        const n = v();
        const i = v();
        const first = v();
        const separator = `if(${first})${first}=false;else{${lit(',')}}`;
        const what = array ? 'items' : 'entries';
        // The rule of limits.ts: empty items spend the value's budget Z; any other item (a map
        // entry always: its key's length) takes a byte, so the count is at most the bytes left.
        const check =
          array && isEmptyType(node.items)
            ? `if(${n}>Z)throw EM(${n},'${what}',Z);Z-=${n};`
            : `if(${n}>b.length-p)throw BC(${n},'${what}',b.length-p);`;
        let item: string;
        if (array) item = gen(node.items, separator, 'null');
        else {
          const key = v();
          item = `${read}${bounded('x')}const ${key}=JSON.stringify(b.toString('utf8',p,p+x));p+=x;${gen(node.values, `${separator}t=${key};${writeText}${lit(':')}`, undefined)}`;
        }
        return `${before}${lit(array ? '[' : '{')}{let ${first}=true,${n}=0;for(;;){${read}${n}=x;if(${n}===0)break;if(${n}<0){${n}=-${n};${read}}${check}for(let ${i}=0;${i}<${n};${i}++){${item}}}}${lit(array ? ']' : '}')}`;
      }
    }
  };

  const canBeNull = (node: Node): boolean =>
    node.kind === 'null' || (node.kind === 'union' && node.branches.some(canBeNull));

  function recordBody(node: RecordNode): string {
    // Whether a field is the first one written is known at generation time until a field
    // that may be null (omitted) comes; from there a runtime flag decides.
    const flag = v();
    let state: 'first' | 'later' | 'runtime' = 'first';
    const fields: string[] = [];
    for (const f of node.fields) {
      const key = JSON.stringify(f.name);
      const before =
        state === 'first'
          ? lit(`${key}:`)
          : state === 'later'
            ? lit(`,${key}:`)
            : `if(${flag}){${flag}=false;${lit(`${key}:`)}}else{${lit(`,${key}:`)}}`;
      const nullable = canBeNull(f.type);
      fields.push(
        gen(f.type, nullable && state !== 'later' ? `${before}${flag}=false;` : before, undefined),
      );
      if (nullable) state = state === 'later' ? 'later' : 'runtime';
      else state = 'later';
    }
    return `{let ${flag}=true;${lit('{')}${split(fields, flag)}${lit('}')}}`;
  }

  /**
   * Joins field code; when it is long, moves runs of fields into functions of their own
   * (state through P, Q and FL), because V8 does not optimize a function with too much
   * bytecode, and an unoptimized converter runs slower than the baseline.
   */
  function split(fields: readonly string[], flag: string): string {
    if (fields.reduce((n, f) => n + f.length, 0) <= maxSource) return fields.join('');
    const groups: string[] = [];
    let group = '';
    for (const f of fields) {
      if (group !== '' && group.length + f.length > maxSource) {
        groups.push(group);
        group = '';
      }
      group += f;
    }
    groups.push(group);
    return groups
      .map((code) => {
        const name = `g${functions.length}`;
        functions.push(
          `function ${name}(b){let p=P,q=Q,${flag}=FL;const o=W.buf;${LOCALS}${code}P=p;FL=${flag};return q;}`,
        );
        return `P=p;Q=q;FL=${flag};q=${name}(b);if(q<0)return -1;p=P;${flag}=FL;`;
      })
      .join('');
  }

  const top = gen(root, '', undefined);
  const source = `${RUNTIME}
${functions.join('\n')}
function run(b,start){let p=start,q=W.pos;const o=W.buf;${LOCALS}${top}P=p;return q;}
// A full pool is replaced (twice as large when one datum does not fit in a whole one), and the
// datum read again with the budget of empty items it started with.
return function convert(b,start,z){const z0=z===undefined?M:z.left;Z=z0;let q=run(b,start);while(q<0){W.buf=Buffer.allocUnsafe(W.pos===0&&W.buf.length>=POOL?W.buf.length*2:POOL);W.pos=0;Z=z0;q=run(b,start);}if(z!==undefined)z.left=Z;const s=W.pos;W.pos=q;return {value:q===s?undefined:W.buf.subarray(s,q),end:P};};`;
  return { source, constants };
}

/**
 * Compiles a converter for a schema.
 *
 * @example
 * const convert = createCompiledConverter(parseSchema(schemaJson), 'datetime');
 * const { value } = convert(avroBytes, 0); // UTF-8 JSON bytes
 */
export function createCompiledConverter(
  node: Node,
  ts: TimestampFormat,
  options: CompileOptions = {},
): DatumConverter {
  const { source, constants } = generateSource(node, ts, options);
  const helpers: Helpers = {
    format,
    ConvertError,
    truncated,
    constants,
    MAX_EMPTY_ITEMS,
    blockCountInvalid,
    emptyItemsTooMany,
    pool,
  };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from a parsed schema, never from data; this is the compile step
  const factory = new Function('H', source) as (h: Helpers) => DatumConverter;
  return factory(helpers);
}
