/**
 * The compiled converter: per schema, generated JavaScript that reads Avro binary and writes
 * TigerGraph JSON bytes directly into a pooled buffer (no intermediate objects; ASCII strings
 * are copied byte for byte), as avsc generates its decoders.
 *
 * The generated code is shaped for V8: one function per schema with the input and output
 * positions in locals (records used once are inlined), varints decoded inline with the rare
 * cases in small helpers that take and return positions (compiled-runtime.ts), and constant
 * text written as unrolled stores, four bytes at a time through a DataView over the pool.
 * Its output must equal the interpreted converter's byte for byte (checked by tests and by
 * `npm run bench`).
 */
import { CONVERT, RUNTIME, copyAscii, runtimeHelpers, type Helpers } from './compiled-runtime.ts';
import type { TimestampFormat } from './format.ts';
import type { DatumConverter } from './interpreted.ts';
import { isEmptyType } from './limits.ts';
import type { Node, RecordNode } from './schema.ts';

/** Enums with at most this many symbols write them as byte stores (a switch); larger ones copy. */
const MAX_ENUM_CASES = 16;
/** Longest text of a double (`-1.2345678901234567e-308`, or 25 characters below 1e-5). */
const MAX_DOUBLE_TEXT = 32;
/** Characters of the base64 text of n bytes (n a number, or an expression's code). */
const base64Length = (n: number): number => Math.ceil(n / 3) * 4;
const base64LengthCode = (n: string): string => `((${n}+2)/3|0)*4`;

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
  const room = (n: string | number): string => (n === 0 ? '' : `if(q+${n}>o.length)return -1;`);
  /** Writes the one-byte varint in c (-64 to 63) as digits, no call. */
  const smallInt = `x=(c>>>1)^-(c&1);if(x<0){o[q++]=45;x=-x;}if(x<10)o[q++]=48+x;else{o[q]=DD[2*x];o[q+1]=DD[2*x+1];q+=2;}`;
  /** Reads a zig-zag varint into x. */
  const read = `c=b[p++];if(c<128)x=(c>>>1)^-(c&1);else{x=rv(b,p-1);p=P;}`;
  /** Writes the string in t. */
  const writeText = `${room('t.length*3')}q=ws(o,q,t);`;
  const emit = (expr: string): string => `t=${expr};${writeText}`;
  /**
   * A constant short ASCII string as unrolled stores, with no room check (the caller's covers
   * it): a 32-bit store per four bytes, fewer stores and less code than a store per byte.
   * Undefined for text that is not short ASCII.
   */
  const stores = (text: string): { code: string; bytes: number } | undefined => {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.some((c) => c > 127) || bytes.length > 64) return undefined;
    let code = '';
    let i = 0;
    if (bytes.length >= 4)
      for (; i + 4 <= bytes.length; i += 4)
        code += `dv.setUint32(q+${i},${bytes.readUInt32LE(i)},true);`;
    for (; i < bytes.length; i++) code += `o[q${i === 0 ? '' : `+${i}`}]=${bytes[i]};`;
    return { code: `${code}q+=${bytes.length};`, bytes: bytes.length };
  };
  /** Writes a constant string. */
  const lit = (text: string): string => {
    const s = stores(text);
    return s === undefined ? emit(JSON.stringify(text)) : `${room(s.bytes)}${s.code}`;
  };
  /**
   * What a value writes before itself (its key, or a separator): the code, and the most bytes
   * it writes, or -1 when that is not known in advance (its code then checks room itself).
   * A value checks room once for those bytes and its own.
   */
  interface Before {
    readonly code: string;
    readonly bytes: number;
  }
  const before0: Before = { code: '', bytes: 0 };
  /** Code writing a constant string, as what goes before a value. */
  const litBefore = (text: string): Before => {
    const s = stores(text);
    return s ?? { code: lit(text), bytes: -1 };
  };
  const bounded = (n: string): string => `if(${n}<0||p+${n}>b.length)throw T();`;
  /**
   * Writes the input bytes [s, e) as a JSON string. Printable ASCII without a quote or a
   * backslash is the same bytes in JSON, so it is copied as it is read; at any other byte the
   * copy is dropped and the text goes through JSON.stringify (UTF-8 decoding, escapes), as the
   * interpreted converter does. It runs inside `before` code, so it leaves c and x as they were.
   */
  const writeUtf8 = (s: string, e: string, checked = false): string => {
    const i = v();
    const at = v();
    return `${checked ? '' : room(`${e}-${s}+2`)}{let ${i}=${s};const ${at}=q;o[q++]=34;${copyAscii(i, e, 'break;')}if(${i}<${e}){q=${at};t=JSON.stringify(b.toString('utf8',${s},${e}));${writeText}}else o[q++]=34;}`;
  };

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
   * Code that reads one value of `node` and appends it to the output. `before` is written
   * first when the value is not null (its key or separator); `nullText` is appended for a null
   * (undefined: write nothing at all).
   */
  const gen = (node: Node, before: Before, nullText: string | undefined): string => {
    /** Checks room for `before` and n (plus `expr`) more bytes, then writes `before`. */
    const pre = (n: number, expr?: string): string => {
      const bytes = Math.max(before.bytes, 0) + n;
      const check = room(expr === undefined ? bytes : `${expr}+${bytes}`);
      return before.bytes < 0
        ? `${before.code}${room(expr === undefined ? n : `${expr}+${n}`)}`
        : `${check}${before.code}`;
    };
    switch (node.kind) {
      case 'null': {
        if (nullText === undefined) return '';
        const text = stores(nullText);
        return text === undefined ? `${pre(0)}${lit(nullText)}` : `${pre(text.bytes)}${text.code}`;
      }
      case 'boolean':
        return `if(p>=b.length)throw T();${pre(5)}if(b[p++]===0){${stores('false')?.code ?? ''}}else{${stores('true')?.code ?? ''}}`;
      case 'int':
        if (node.logical === 'date') return `${read}${pre(0)}${emit('formatDate(x)')}`;
        if (node.logical === 'time-millis') return `${read}${pre(0)}${emit('formatTime(x,false)')}`;
        return `c=b[p];${pre(24)}if(c<128){p++;${smallInt}}else{q=wi(o,q,b,p);p=P;}`;
      case 'long':
        switch (node.logical) {
          case 'time-micros':
            return `${read}${pre(0)}${emit('formatTime(x,true)')}`;
          case 'timestamp-millis':
          case 'local-timestamp-millis':
          case 'timestamp-micros':
          case 'local-timestamp-micros': {
            const micros = node.logical.endsWith('micros');
            if (ts === 'epoch') return `${pre(24)}q=wl(o,q,b,p);p=P;`;
            if (ts === 'datetime') return `${pre(32)}q=${micros ? 'wtu' : 'wts'}(o,dv,q,b,p);p=P;`;
            return `${read}${pre(0)}${emit(`formatTimestamp(x,${micros},'iso8601')`)}`;
          }
          default:
            return `c=b[p];${pre(24)}if(c<128){p++;${smallInt}}else{q=wl(o,q,b,p);p=P;}`;
        }
      case 'float':
        return `if(p+4>b.length)throw T();${pre(MAX_DOUBLE_TEXT)}q=wf(o,q,b.readFloatLE(p));p+=4;`;
      case 'double':
        return `if(p+8>b.length)throw T();${pre(MAX_DOUBLE_TEXT)}q=wd(o,q,b.readDoubleLE(p));p+=8;`;
      case 'bytes': {
        if (node.logical === 'decimal')
          return `${read}${bounded('x')}${pre(0)}${emit(`formatDecimal(b.subarray(p,p+x),${node.scale ?? 0})`)}p+=x;`;
        return `${read}${bounded('x')}${pre(2, base64LengthCode('x'))}q=w64(o,q,b,p,x);p+=x;`;
      }
      case 'string': {
        // In a record split into functions, a helper call keeps the code small (see compact).
        if (compact)
          return `${read}${bounded('x')}${pre(2, 'x')}q=wstr(o,q,b,p,p+x);p+=x;if(q<0)return -1;`;
        const start = v();
        return `${read}${bounded('x')}${pre(2, 'x')}{const ${start}=p;p+=x;${writeUtf8(start, 'p', true)}}`;
      }
      case 'fixed': {
        const size = node.size;
        const check = `if(p+${size}>b.length)throw T();`;
        if (node.logical === 'decimal' || node.logical === 'duration') {
          const at = `b.subarray(p,p+${size})`;
          const text =
            node.logical === 'decimal'
              ? `formatDecimal(${at},${node.scale ?? 0})`
              : `formatDuration(${at})`;
          return `${check}${pre(0)}${emit(text)}p+=${size};`;
        }
        return `${check}${pre(base64Length(size) + 2)}q=w64(o,q,b,p,${size});p+=${size};`;
      }
      case 'enum': {
        // Symbols are Avro names (ASCII letters, digits, _): a few are written as byte stores.
        const invalid = `throw new E('CONVERT_AVRO_INVALID','Enum ${node.name} has no symbol number '+x);`;
        const texts = node.symbols.map((s) => stores(JSON.stringify(s)));
        if (node.symbols.length <= MAX_ENUM_CASES && texts.every((t) => t !== undefined)) {
          const longest = Math.max(...texts.map((t) => t.bytes));
          const cases = texts.map((t, k) => `case ${k}:${t.code}break;`).join('');
          return `${read}${pre(longest)}switch(x){${cases}default:${invalid}}`;
        }
        const symbols = constant(node.symbols.map((s) => JSON.stringify(s)));
        return `${read}${pre(0)}t=${symbols}[x];if(t===undefined)${invalid}${writeText}`;
      }
      case 'union': {
        const cases = node.branches
          .map((branch, k) => `case ${k}:${gen(branch, before, nullText)}break;`)
          .join('');
        return `${read}switch(x){${cases}default:throw new E('CONVERT_AVRO_INVALID','A union has no branch number '+x);}`;
      }
      case 'record': {
        if (uses.get(node) === 1) return `${pre(0)}${recordBody(node)}`;
        let name = names.get(node);
        if (name === undefined) {
          name = `r${names.size}`;
          names.set(node, name);
          functions.push(
            `function ${name}(b){let p=P,q=Q;const o=W.buf,dv=W.dv;${LOCALS}${recordBody(node)}P=p;return q;}`,
          );
        }
        return `${pre(0)}P=p;Q=q;q=${name}(b);if(q<0)return -1;p=P;`;
      }
      case 'array':
      case 'map': {
        const array = node.kind === 'array';
        const n = v();
        const i = v();
        const first = v();
        const comma = stores(',')?.code ?? '';
        const separator: Before = { code: `if(${first})${first}=false;else{${comma}}`, bytes: 1 };
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
          // The key is written only once the value is known not to be null (else the entry is
          // left out), so its bytes are remembered and copied then.
          const key = v();
          const keyEnd = v();
          const entry: Before = {
            code: `${room(1)}${separator.code}${writeUtf8(key, keyEnd)}${lit(':')}`,
            bytes: -1,
          };
          item = `${read}${bounded('x')}const ${key}=p,${keyEnd}=p+x;p+=x;${gen(node.values, entry, undefined)}`;
        }
        const open = stores(array ? '[' : '{')?.code ?? '';
        return `${pre(1)}${open}{let ${first}=true,${n}=0;for(;;){${read}${n}=x;if(${n}===0)break;if(${n}<0){${n}=-${n};${read}}${check}for(let ${i}=0;${i}<${n};${i}++){${item}}}}${lit(array ? ']' : '}')}`;
      }
    }
  };

  /**
   * Set while the fields of a record too long for one function are generated: strings are
   * then written by a helper call instead of inline code. The code is shorter, so V8 takes
   * less time to optimize the functions (seconds for a 150-field record otherwise, on a
   * loaded machine) and the record is split into fewer of them.
   */
  let compact = false;
  const length = (fields: readonly string[]): number => fields.reduce((n, f) => n + f.length, 0);

  const canBeNull = (node: Node): boolean =>
    node.kind === 'null' || (node.kind === 'union' && node.branches.some(canBeNull));

  function recordBody(node: RecordNode): string {
    const flag = v();
    let fields = fieldCode(node, flag);
    if (!compact && length(fields) > maxSource) {
      compact = true;
      fields = fieldCode(node, flag);
      compact = false;
    }
    // The opening brace goes with the first field's key when that field is always written.
    const opened = node.fields[0] !== undefined && !canBeNull(node.fields[0].type);
    return `{let ${flag}=true;${opened ? '' : lit('{')}${split(fields, flag)}${lit('}')}}`;
  }

  /** The code of each field of a record, `flag` its "no field written yet" variable. */
  function fieldCode(node: RecordNode, flag: string): string[] {
    // Whether a field is the first one written is known at generation time until a field
    // that may be null (omitted) comes; from there a runtime flag decides.
    let state: 'first' | 'later' | 'runtime' = 'first';
    const fields: string[] = [];
    for (const f of node.fields) {
      const key = JSON.stringify(f.name);
      let before: Before;
      const nullable = canBeNull(f.type);
      if (state === 'first') before = litBefore(nullable ? `${key}:` : `{${key}:`);
      else if (state === 'later') before = litBefore(`,${key}:`);
      else {
        const [alone, after] = [litBefore(`${key}:`), litBefore(`,${key}:`)];
        before = {
          code: `if(${flag}){${flag}=false;${alone.code}}else{${after.code}}`,
          bytes: alone.bytes < 0 || after.bytes < 0 ? -1 : Math.max(alone.bytes, after.bytes),
        };
      }
      if (nullable && state !== 'later')
        before = { code: `${before.code}${flag}=false;`, bytes: before.bytes };
      fields.push(gen(f.type, before, undefined));
      if (nullable) state = state === 'later' ? 'later' : 'runtime';
      else state = 'later';
    }
    return fields;
  }

  /**
   * Joins field code; when it is long, moves runs of fields into functions of their own
   * (state through P, Q and FL), because V8 does not optimize a function with too much
   * bytecode, and an unoptimized converter runs slower than the baseline.
   */
  function split(fields: readonly string[], flag: string): string {
    if (length(fields) <= maxSource) return fields.join('');
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
          `function ${name}(b){let p=P,q=Q,${flag}=FL;const o=W.buf,dv=W.dv;${LOCALS}${code}P=p;FL=${flag};return q;}`,
        );
        return `P=p;Q=q;FL=${flag};q=${name}(b);if(q<0)return -1;p=P;${flag}=FL;`;
      })
      .join('');
  }

  const top = gen(root, before0, undefined);
  const source = `${RUNTIME}
${functions.join('\n')}
function run(b,start){let p=start,q=W.pos;const o=W.buf,dv=W.dv;${LOCALS}${top}P=p;return q;}
${CONVERT}`;
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
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from a parsed schema, never from data; this is the compile step
  const factory = new Function('H', source) as (h: Helpers) => DatumConverter;
  return factory(runtimeHelpers(constants));
}
