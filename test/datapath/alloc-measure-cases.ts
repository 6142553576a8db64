// The cases and bound of the data path allocation check (alloc.test.ts runs
// alloc-measure.ts in a child per case and holds its result to PER_BATCH).

/** oseq: the ESP SAs' starting sequence number (pump.ts). */
export interface Case { kind: 'gre' | 'esp'; offload: boolean; src: string; dst: string; oseq?: number }

/** Allowed growth per batch, bytes: a tenth of one 16-byte number box (the heap statistics call itself makes ~600 B per chunk). */
export const PER_BATCH = 1.6;

export const CASES: readonly [string, Case][] = [
  ['gre', { kind: 'gre', offload: false, src: '192.0.2.1', dst: '192.0.2.2' }],
  ['gre with TSO/GRO (a vnet-header TUN, as tunkitd opens tunnel devices)', { kind: 'gre', offload: true, src: '192.0.2.1', dst: '192.0.2.2' }],
  ['esp tunnel mode, AES-GCM (policy TUN)', { kind: 'esp', offload: false, src: '203.0.113.1', dst: '203.0.113.2' }],
  [
    'esp with sequence numbers past 2^31 (u32s that are not small integers)',
    { kind: 'esp', offload: false, src: '203.0.113.1', dst: '203.0.113.2', oseq: 0x90000000 },
  ],
];
