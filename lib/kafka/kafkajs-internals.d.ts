// kafkajs's own Produce request definitions (CommonJS, no types): lib/kafka/fast-produce.ts
// looks up the negotiated version's response decoder through them.
declare module 'kafkajs/src/protocol/requests/produce/index.js' {
  const definition: {
    readonly versions: readonly string[];
    readonly protocol: (options: { version: number }) => unknown;
  };
  export default definition;
}

// kafkajs's Broker class: its prototype holds the request sender lib/kafka/fast-produce.ts uses.
declare module 'kafkajs/src/broker/index.js' {
  const Broker: { readonly prototype: object };
  export default Broker;
}

// kafkajs's Encoder class: lib/kafka/request-frame.ts frames Produce requests in place through it.
declare module 'kafkajs/src/protocol/encoder.js' {
  const Encoder: { readonly prototype: object };
  export default Encoder;
}

// kafkajs's RequestQueue class: lib/kafka/request-queue.ts replaces its idle timer loop.
declare module 'kafkajs/src/network/requestQueue/index.js' {
  const RequestQueue: { readonly prototype: object };
  export default RequestQueue;
}
