// node-forge's RC2 and buffer utilities (CommonJS, typed here from @types/node-forge):
// lib/config/keystore-pbe.ts imports these two modules alone, so the Lambda bundle carries
// about 85 kB of node-forge instead of all of it (374 kB, parsed at every cold start; issue 12).
declare module 'node-forge/lib/rc2.js' {
  import type forge from 'node-forge';
  const rc2: typeof forge.rc2;
  export default rc2;
}
declare module 'node-forge/lib/util.js' {
  import type forge from 'node-forge';
  const util: typeof forge.util;
  export default util;
}
