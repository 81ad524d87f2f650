// cluster-key-slot (the CRC16 hash-slot function ioredis itself routes by) ships no types.
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot (0–16383) of a key, honouring {hash tags}. */
  export default function calculateSlot(key: string | Buffer): number;
}
