/**
 * The compiled converter: per schema, generated JavaScript that reads Avro binary and writes
 * TigerGraph JSON bytes directly into a reused buffer (no intermediate objects; ASCII strings
 * are copied byte for byte), as avsc generates its decoders.
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
  /** Code writing a constant string: unrolled byte stores when ASCII. */
  const lit = (text: string): string => {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.some((c) => c > 127) || bytes.length > 64) return `ws(${JSON.stringify(text)});`;
    return `if(q+${bytes.length}>out.length)need(${bytes.length});${Array.from(bytes, (c, i) => `out[q${i === 0 ? '' : `+${i}`}]=${c};`).join('')}q+=${bytes.length};`;
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
    const emit = (expr: string): string => `${before}ws(${expr});`;
    switch (node.kind) {
      case 'null':
        return nullText === undefined ? '' : `${before}${lit(nullText)}`;
      case 'boolean':
        return `if(p>=b.length)throw T();${before}if(b[p++]===0){${lit('false')}}else{${lit('true')}}`;
      case 'int':
        if (node.logical === 'date') return emit('F.formatDate(rn())');
        if (node.logical === 'time-millis') return emit('F.formatTime(rn(),false)');
        return `${before}wn(rn());`;
      case 'long':
        switch (node.logical) {
          case 'time-micros':
            return emit('F.formatTime(rn(),true)');
          case 'timestamp-millis':
          case 'local-timestamp-millis':
            if (ts === 'datetime') return `${before}wdt(rn());`;
            return emit(
              ts === 'epoch' ? 'rls()' : `F.formatTimestamp(rn(),false,${JSON.stringify(ts)})`,
            );
          case 'timestamp-micros':
          case 'local-timestamp-micros':
            if (ts === 'datetime') return `${before}wdt(Math.floor(rn()/1000));`;
            return emit(
              ts === 'epoch' ? 'rls()' : `F.formatTimestamp(rn(),true,${JSON.stringify(ts)})`,
            );
          default:
            return `${before}wl();`;
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
        return `{const ${n}=rn();if(${n}<0||p+${n}>b.length)throw T();${before}wstr(${n});p+=${n};}`;
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
        const item = gen(node.items, `if(${first})${first}=false;else{${lit(',')}}`, 'null');
        return `${before}${lit('[')}{let ${first}=true;for(let ${n}=rn();${n}!==0;${n}=rn()){if(${n}<0){${n}=-${n};rn();}if(${n}>${empty ? 'M' : 'b.length-p'})throw new E('CONVERT_AVRO_INVALID','An Avro block claims '+${n}+' items, more than the data can hold');for(let i=0;i<${n};i++){${item}}}}${lit(']')}`;
      }
      case 'map': {
        const n = v();
        const first = v();
        const key = v();
        const value = gen(
          node.values,
          `if(${first})${first}=false;else{${lit(',')}}ws(${key});${lit(':')}`,
          undefined,
        );
        return `${before}${lit('{')}{let ${first}=true;for(let ${n}=rn();${n}!==0;${n}=rn()){if(${n}<0){${n}=-${n};rn();}if(${n}>b.length-p)throw new E('CONVERT_AVRO_INVALID','An Avro block claims '+${n}+' entries, more than the data can hold');for(let i=0;i<${n};i++){const kl=rn();if(kl<0||p+kl>b.length)throw T();const ${key}=JSON.stringify(b.toString('utf8',p,p+kl));p+=kl;${value}}}}${lit('}')}`;
      }
    }
  };

  const canBeNull = (node: Node): boolean =>
    node.kind === 'null' || (node.kind === 'union' && node.branches.some(canBeNull));

  function genRecord(node: RecordNode, name: string): string {
    // Whether a field is the first one written is known at generation time until a field
    // that may be null (omitted) comes; from there a runtime flag decides.
    let state: 'first' | 'later' | 'runtime' = 'first';
    let body = lit('{');
    for (const f of node.fields) {
      const key = JSON.stringify(f.name);
      const before =
        state === 'first'
          ? lit(`${key}:`)
          : state === 'later'
            ? lit(`,${key}:`)
            : `if(f){f=false;${lit(`${key}:`)}}else{${lit(`,${key}:`)}}`;
      const nullable = canBeNull(f.type);
      body += gen(f.type, nullable && state !== 'later' ? `${before}f=false;` : before, undefined);
      if (nullable) state = state === 'later' ? 'later' : 'runtime';
      else state = 'later';
    }
    return `function ${name}(){let f=true;${body}${lit('}')}}`;
  }

  const top = gen(root, '', undefined);
  const source = `
const F=H.format,E=H.ConvertError,T=H.truncated,K=H.constants,M=H.MAX_EMPTY_ITEMS;
// Output: records are written one after another into a pool and returned as views (no
// copy); a full pool is replaced, never overwritten, so earlier views stay valid.
let b,p,out=Buffer.allocUnsafe(1048576),q=0,st=0;
function need(n){if(q+n>out.length){const len=q-st;const nb=Buffer.allocUnsafe(Math.max(1048576,(len+n)*2));out.copy(nb,0,st,q);out=nb;q=len;st=0;}}
function ws(s){const n=s.length;need(n*3);for(let i=0;i<n;i++){const c=s.charCodeAt(i);if(c<128)out[q++]=c;else{q+=out.write(s.slice(i),q,'utf8');return;}}}
function wu(n){let len=1;for(let t=n;t>=10;t=(t/10)|0)len++;let i=q+len-1;q+=len;do{const d=(n/10)|0;out[i--]=48+(n-d*10);n=d;}while(n>0);}
function wn(n){need(24);if(n<0){out[q++]=45;n=-n;}if(n<2147483648){wu(n);return;}if(n>=1e21){ws(String(n));return;}const hi=Math.floor(n/1e9);let lo=n-hi*1e9;if(hi<2147483648)wu(hi);else wn(hi);for(let k=100000000;k>=1;k=(k/10)|0){const d=(lo/k)|0;out[q++]=48+d;lo-=d*k;}}
function wl(){const s=p;let c=b[p];if(c!==undefined&&c<128){p++;wn((c>>>1)^-(c&1));return;}let n=0,f=1,k=0;do{c=b[p++];if(c===undefined)throw T();n+=(c&127)*f;f*=128;k++;}while(c&128);if(k<=7){wn(n%2===0?n/2:-(n+1)/2);return;}p=s;ws(rls());}
const C=F.CIVIL;
function d2(v){out[q++]=48+((v/10)|0);out[q++]=48+v%10;}
function wdt(ms){if(!F.civil(ms)){ws(F.formatTimestamp(ms,false,'datetime'));return;}need(21);const y=C[0];out[q++]=34;out[q++]=48+((y/1000)|0);out[q++]=48+(((y/100)|0)%10);out[q++]=48+(((y/10)|0)%10);out[q++]=48+y%10;out[q++]=45;d2(C[1]);out[q++]=45;d2(C[2]);out[q++]=32;d2(C[3]);out[q++]=58;d2(C[4]);out[q++]=58;d2(C[5]);out[q++]=34;}
function wstr(n){if(q+n+2>out.length)need(n+2);const s=q,e=p+n;out[q++]=34;for(let i=p;i<e;i++){const c=b[i];if(c<32||c===34||c===92||c>127){q=s;ws(JSON.stringify(b.toString('utf8',p,e)));return;}out[q++]=c;}out[q++]=34;}
function rn(){let c=b[p++];if(c===undefined)throw T();if(c<128)return (c>>>1)^-(c&1);let n=c&127,f=128;do{c=b[p++];if(c===undefined)throw T();n+=(c&127)*f;f*=128;}while(c&128);return n%2===0?n/2:-(n+1)/2;}
function rls(){const s=p;let n=0,f=1,c,k=0;do{c=b[p++];if(c===undefined)throw T();n+=(c&127)*f;f*=128;k++;}while(c&128);
if(k<=7)return String(n%2===0?n/2:-(n+1)/2);
if(k>10)throw new E('CONVERT_AVRO_INVALID','An Avro long is longer than 10 bytes');
p=s;let x=0n,h=0n;do{c=b[p++];x|=BigInt(c&127)<<h;h+=7n;}while(c&128);return String((x>>1n)^-(x&1n));}
${functions.join('\n')}
return function convert(buf,start){b=buf;p=start;st=q;try{${top}}catch(error){q=st;throw error;}finally{b=undefined;}if(q===st)return {value:undefined,end:p};return {value:out.subarray(st,q),end:p};};`;
  return { source, constants };
}

/**
 * Compiles a converter for a schema.
 *
 * @example
 * const convert = createCompiledConverter(parseSchema(schemaJson), 'datetime');
 * const { value } = convert(avroBytes, 0); // UTF-8 JSON bytes
 */
export function createCompiledConverter(node: Node, ts: TimestampFormat): DatumConverter {
  const { source, constants } = generateSource(node, ts);
  const helpers: Helpers = { format, ConvertError, truncated, constants, MAX_EMPTY_ITEMS };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from a parsed schema, never from data; this is the compile step
  const factory = new Function('H', source) as (h: Helpers) => DatumConverter;
  return factory(helpers);
}
