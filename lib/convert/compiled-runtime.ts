/**
 * What every generated converter (compiled.ts) runs on: the output pool they share, and the
 * helpers' JavaScript source, run once per compiled schema. Records are written one after another into a pool and returned as views
 * (no copy); a full pool is replaced, never overwritten, so earlier views stay valid. Helpers
 * that read take the position and leave the new one in P; helpers that write take the output
 * position and return the new one.
 *
 * Numbers, timestamps and base64 are written as bytes straight into the output: no string is
 * built for them (a string costs an allocation, and copying it out costs a loop). Each helper
 * writes the same bytes as the interpreted converter's format.ts (checked by the agreement
 * properties in test/unit/convert).
 */
import { ConvertError } from '../errors/index.ts';
import * as format from './format.ts';
import { truncated } from './interpreted.ts';
import { MAX_EMPTY_ITEMS, blockCountInvalid, emptyItemsTooMany } from './limits.ts';

/** What the generated code receives as H. */
export interface Helpers {
  readonly format: typeof format;
  readonly ConvertError: typeof ConvertError;
  readonly truncated: typeof truncated;
  readonly constants: readonly unknown[];
  readonly MAX_EMPTY_ITEMS: number;
  readonly blockCountInvalid: typeof blockCountInvalid;
  readonly emptyItemsTooMany: typeof emptyItemsTooMany;
  readonly pool: { buf: Buffer; pos: number; dv: DataView; ab: ArrayBuffer; off: number };
  readonly POOL_BYTES: number;
}

/**
 * The output pool all compiled converters share. A module-level buffer on purpose (house style
 * keeps singletons out of lib/): it is a cache of memory, not a collaborator, and sharing it
 * means one pool per container instead of one per compiled schema. Conversions are
 * synchronous, so one at a time writes to it; it is taken at the first conversion.
 */
const pool = {
  buf: Buffer.alloc(0),
  pos: 0,
  dv: new DataView(new ArrayBuffer(0)),
  ab: new ArrayBuffer(0),
  off: 0,
};

/**
 * Size of a new output pool (a datum larger than that gets one twice as large, and so on).
 * Small enough that a pool is usually garbage before V8 moves it to the old generation: with
 * 1 MiB pools, the 150-field record (3.7 KB a line) made V8 run about ten full mark-compact
 * collections a second for the pools' external memory, and lose a quarter of its speed;
 * with 256 KiB there were none. A datum is converted twice when it meets the end of a pool
 * (1 in 70 of the wide record's).
 */
const POOL_BYTES = 256 * 1024;

/**
 * A zig-zag varint at p (its first byte already known to be there or missing), as the body of
 * a helper: the first four bytes with 32-bit integer operations, up to seven exactly as a
 * double (49 bits), more through BigInt (`onBig`, with the varint's start in s). `done(n)` is
 * the statement for the value n; P is set to the position after the varint before it.
 */
const varint = (onBig: string, done: (n: string) => string): string =>
  `const s=p;let c=b[p++];if(c===undefined)throw T();let n=c&127;` +
  `if(c>127){c=b[p++];if(c===undefined)throw T();n|=(c&127)<<7;` +
  `if(c>127){c=b[p++];if(c===undefined)throw T();n|=(c&127)<<14;` +
  `if(c>127){c=b[p++];if(c===undefined)throw T();n|=(c&127)<<21;` +
  `if(c>127){let f=268435456;do{if(p-s===7){${onBig}}c=b[p++];if(c===undefined)throw T();n+=(c&127)*f;f*=128;}while(c>127);` +
  `P=p;${done('(n%2===0?n/2:-(n+1)/2)')}}}}}P=p;${done('((n>>>1)^-(n&1))')}`;

/**
 * The same, without the end-of-data checks when ten bytes (the longest varint) are left: the
 * common case, where a long takes one check instead of one per byte. The low 28 bits stay a
 * 32-bit integer, which also gives the zig-zag sign bit.
 */
const fastVarint = (onBig: string, done: (n: string) => string): string => {
  const small = '((l>>>1)^-(l&1))';
  const large = '((l&1)===0?n/2:-(n+1)/2)';
  let code = `if(p+10>b.length){${varint(onBig, done)}}const s=p;let c=b[p],l=c&127;if(c<128){P=p+1;${done(small)}}`;
  for (let k = 1; k < 4; k++)
    code += `c=b[p+${k}];l|=(c&127)<<${7 * k};if(c<128){P=p+${k + 1};${done(small)}}`;
  code += `c=b[p+4];let n=l+(c&127)*268435456;if(c<128){P=p+5;${done(large)}}`;
  for (let k = 5; k < 7; k++)
    code += `c=b[p+${k}];n+=(c&127)*${2 ** (7 * k)};if(c<128){P=p+${k + 1};${done(large)}}`;
  return `${code}${onBig}`;
};

/** Whether byte d is written differently in JSON (below 32, `"`, `\`) or starts a non-ASCII character. */
const special = (d: string): string => `(${d}-32)>>>0>95||${d}===34||${d}===92`;

/**
 * Code that copies the input bytes from i (a variable) up to e into the output while they are
 * printable ASCII other than `"` and `\`, which JSON writes as they are; `stop` runs at any
 * other byte (i is then at it, or at the start of the four bytes holding it). Four bytes a
 * step: a quarter of the loop's checks and jumps, a quarter faster on short strings.
 */
export const copyAscii = (i: string, e: string, stop: string): string =>
  `for(;${i}+4<=${e};${i}+=4){const d0=b[${i}],d1=b[${i}+1],d2=b[${i}+2],d3=b[${i}+3];if(${['d0', 'd1', 'd2', 'd3'].map(special).join('||')}){${stop}}o[q]=d0;o[q+1]=d1;o[q+2]=d2;o[q+3]=d3;q+=4;}` +
  `for(;${i}<${e};${i}++){const d=b[${i}];if(${special('d')}){${stop}}o[q++]=d;}`;

/** Base64's alphabet (RFC 4648 section 4, as Buffer#toString('base64') writes it). */
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Bytes values at least this long are encoded by Buffer (native); shorter ones inline. */
export const NATIVE_BASE64_MIN = 256;

/**
 * Writes epoch milliseconds ms as a DATETIME ("YYYY-MM-DD HH:MM:SS"), as format.ts does: the
 * date part of the last day written is kept (DS is that day's first millisecond, D0-D2 its
 * text), so a timestamp of the same day takes no division; other years than 0-9999 go through
 * formatTimestamp. The tail of wts and wtu, after each has read the timestamp into ms.
 */
const DATETIME = String.raw`let r=ms-DS;if(!(r>=0&&r<86400000)){if(!civil(ms))return ws(o,q,formatTimestamp(ms,false,'datetime'));const y=C[0];D0=34|(48+((y/1000)|0))<<8|(48+(((y/100)|0)%10))<<16|(48+(((y/10)|0)%10))<<24;D1=(48+y%10)|45<<8|DD16[C[1]]<<16;D2=45|DD16[C[2]]<<8|32<<24;DS=Math.floor(ms/86400000)*86400000;r=ms-DS;}r|=0;dv.setUint32(q,D0,true);dv.setUint32(q+4,D1,true);dv.setUint32(q+8,D2,true);const h=(r/3600000)|0;r-=h*3600000;const m=(r/60000)|0;r-=m*60000;dv.setUint16(q+12,DD16[h],true);o[q+14]=58;dv.setUint16(q+15,DD16[m],true);o[q+17]=58;dv.setUint16(q+18,DD16[(r/1000)|0],true);o[q+20]=34;return q+21;`;

export const RUNTIME = String.raw`
var F=H.format,E=H.ConvertError,T=H.truncated,K=H.constants,M=H.MAX_EMPTY_ITEMS,BC=H.blockCountInvalid,EM=H.emptyItemsTooMany;
var formatDate=F.formatDate,formatTime=F.formatTime,formatTimestamp=F.formatTimestamp,formatFloat=F.formatFloat,formatDouble=F.formatDouble,formatDecimal=F.formatDecimal,formatDuration=F.formatDuration,civil=F.civil,C=F.CIVIL;
var W=H.pool,POOL=H.POOL_BYTES,P=0,Q=0,FL=true,Z=M;
var DD=new Uint8Array(200);for(let i=0;i<100;i++){DD[2*i]=48+((i/10)|0);DD[2*i+1]=48+i%10;}
var DD16=new Uint16Array(100);for(let i=0;i<100;i++)DD16[i]=(48+((i/10)|0))|(48+i%10)<<8;
var B64=new Uint8Array(64);for(let i=0;i<64;i++)B64[i]=${JSON.stringify(BASE64)}.charCodeAt(i);
function ws(o,q,t){const n=t.length;for(let i=0;i<n;i++){const c=t.charCodeAt(i);if(c<128)o[q++]=c;else return q+o.write(t.slice(i),q);}return q;}
function wu(o,q,n){if(n<100){if(n<10){o[q]=48+n;return q+1;}o[q]=DD[2*n];o[q+1]=DD[2*n+1];return q+2;}const e=q+(n<1000?3:n<10000?4:n<100000?5:n<1000000?6:n<10000000?7:n<100000000?8:n<1000000000?9:10);let i=e;while(n>=100){const d=(n/100)|0,k=2*(n-100*d);o[--i]=DD[k+1];o[--i]=DD[k];n=d;}if(n<10)o[i-1]=48+n;else{o[i-1]=DD[2*n+1];o[i-2]=DD[2*n];}return e;}
function wn(o,q,n){if(n<0){o[q++]=45;n=-n;}if(n<2147483648)return wu(o,q,n|0);return wbig(o,q,n);}
function wbig(o,q,n){if(n>=9007199254740992)return ws(o,q,String(n));let h=Math.floor(n/1e8),l=n-h*1e8;if(l<0){h--;l+=1e8;}else if(l>=1e8){h++;l-=1e8;}q=wu(o,q,h|0);l|=0;const a=(l/10000)|0,z=l-a*10000;let d=(a/100)|0;o[q]=DD[2*d];o[q+1]=DD[2*d+1];d=a-100*d;o[q+2]=DD[2*d];o[q+3]=DD[2*d+1];d=(z/100)|0;o[q+4]=DD[2*d];o[q+5]=DD[2*d+1];d=z-100*d;o[q+6]=DD[2*d];o[q+7]=DD[2*d+1];return q+8;}
function big(b,p){let x=0n,h=0n,c,k=0;do{c=b[p++];if(c===undefined)throw T();if(++k>10)throw new E('CONVERT_AVRO_INVALID','An Avro long is longer than 10 bytes');x|=BigInt(c&127)<<h;h+=7n;}while(c&128);P=p;return (x>>1n)^-(x&1n);}
function rv(b,p){${fastVarint('return Number(big(b,s));', (n) => `return ${n};`)}}
function wl(o,q,b,p){${fastVarint('return ws(o,q,String(big(b,s)));', (n) => `return wn(o,q,${n});`)}}
function wi(o,q,b,p){${fastVarint('return ws(o,q,String(Number(big(b,s))));', (n) => `return wn(o,q,${n});`)}}
var P10=[1,10,100,1e3,1e4,1e5,1e6,1e7,1e8,1e9];
function dk(a,lim){for(let k=1;k<10;k++){const y=a*P10[k];if(y>=lim)return 0;if(y===Math.floor(y))return y/P10[k]===a?k:0;}return 0;}
function wdec(o,q,neg,y,k){while(y%10===0){y/=10;k--;}if(neg)o[q++]=45;const h=Math.floor(y/P10[k]);let l=y-h*P10[k];q=wn(o,q,h);o[q]=46;for(let i=k;i>0;i--){const d=(l/10)|0;o[q+i]=48+l-10*d;l=d;}return q+k+1;}
function wd(o,q,x){const a=x<0?-x:x;if(a<9007199254740992&&a===Math.floor(a)){if(x!==0||1/x>0)return wn(o,q,x);}else if(a>=1e-6&&a<1e9){const k=dk(a,1e15);if(k>0)return wdec(o,q,x<0,a*P10[k],k);}return ws(o,q,formatDouble(x));}
function wf(o,q,x){const a=x<0?-x:x;if(a<16777216&&a===Math.floor(a)){if(x!==0||1/x>0)return wn(o,q,x);}else if(a>=1e-6&&a<1e9){const k=dk(a,1e6);if(k>0)return wdec(o,q,x<0,a*P10[k],k);}return ws(o,q,formatFloat(x));}
function w64(o,q,b,p,n){if(n>=${NATIVE_BASE64_MIN}){o[q]=34;q=ws(o,q+1,b.toString('base64',p,p+n));o[q]=34;return q+1;}o[q++]=34;const e=p+n,f=e-2;let i=p;for(;i<f;i+=3){const v=(b[i]<<16)|(b[i+1]<<8)|b[i+2];o[q]=B64[v>>>18];o[q+1]=B64[(v>>>12)&63];o[q+2]=B64[(v>>>6)&63];o[q+3]=B64[v&63];q+=4;}if(e-i===1){const v=b[i];o[q]=B64[v>>>2];o[q+1]=B64[(v&3)<<4];o[q+2]=61;o[q+3]=61;q+=4;}else if(e-i===2){const v=(b[i]<<8)|b[i+1];o[q]=B64[v>>>10];o[q+1]=B64[(v>>>4)&63];o[q+2]=B64[(v&15)<<2];o[q+3]=61;q+=4;}o[q]=34;return q+1;}
function wstr(o,q,b,s,e){const a=q;o[q++]=34;let i=s;${copyAscii('i', 'e', 'return wslow(o,a,b,s,e);')}o[q]=34;return q+1;}
function wslow(o,q,b,s,e){const t=JSON.stringify(b.toString('utf8',s,e));if(q+t.length*3>o.length)return -1;return ws(o,q,t);}
var DS=NaN,D0=0,D1=0,D2=0;
function wts(o,dv,q,b,p){let ms=0;L:{${fastVarint('ms=Number(big(b,s));break L;', (n) => `ms=${n};break L;`)}}${DATETIME}}
function wtu(o,dv,q,b,p){let ms=0;L:{${fastVarint('ms=Math.floor(Number(big(b,s))/1000);break L;', (n) => `ms=Math.floor(${n}/1000);break L;`)}}${DATETIME}}
`;

/**
 * The converter the generated code returns, around its run(b, start). A full pool is replaced
 * (twice as large when one datum does not fit in a whole one), and the datum read again with
 * the budget of empty items it started with. The value is a view of the pool made by
 * Buffer.from(arrayBuffer), cheaper than Buffer#subarray, which checks its arguments and
 * reads the pool's ArrayBuffer first.
 */
export const CONVERT = String.raw`return function convert(b,start,z){const z0=z===undefined?M:z.left;Z=z0;let q=run(b,start);while(q<0){W.buf=Buffer.allocUnsafe(W.pos===0&&W.buf.length>=POOL?W.buf.length*2:POOL);W.ab=W.buf.buffer;W.off=W.buf.byteOffset;W.dv=new DataView(W.ab,W.off,W.buf.length);W.pos=0;Z=z0;q=run(b,start);}if(z!==undefined)z.left=Z;const s=W.pos;W.pos=q;return {value:q===s?undefined:Buffer.from(W.ab,W.off+s,q-s),end:P};};`;

/** The helpers object one compiled converter gets, with its constants. */
export const runtimeHelpers = (constants: readonly unknown[]): Helpers => ({
  format,
  ConvertError,
  truncated,
  constants,
  MAX_EMPTY_ITEMS,
  blockCountInvalid,
  emptyItemsTooMany,
  pool,
  POOL_BYTES,
});
