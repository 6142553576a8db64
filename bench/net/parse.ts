// bench/net/parse.ts — readers for the raw files run.sh leaves: iperf3 -J
// output and ping's summary. Each returns nulls for what it cannot find, so a
// failed run shows as "—" in the table rather than stopping the report.

export interface IperfResult {
  /** Receiver-side goodput over the run, Gbit/s (iperf3 end.sum_received). */
  readonly gbps: number | null;
  readonly retransmits: number | null;
  /** TCP MSS the sender used (start.tcp_mss_default): the same on every system when inner MTUs match. */
  readonly mss: number | null;
  readonly error: string | null;
}

export interface PingResult {
  readonly sent: number;
  readonly received: number;
  readonly minMs: number | null;
  readonly avgMs: number | null;
  readonly maxMs: number | null;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function parseIperf(text: string): IperfResult {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return { gbps: null, retransmits: null, mss: null, error: text.trim() === '' ? 'no iperf3 output' : 'iperf3 output is not JSON' };
  }
  if (!isObj(j)) return { gbps: null, retransmits: null, mss: null, error: 'iperf3 output is not an object' };
  const start = isObj(j['start']) ? j['start'] : {};
  const end = isObj(j['end']) ? j['end'] : {};
  const recv = isObj(end['sum_received']) ? end['sum_received'] : {};
  const sent = isObj(end['sum_sent']) ? end['sum_sent'] : {};
  const bps = num(recv['bits_per_second']);
  const error = typeof j['error'] === 'string' ? j['error'] : null;
  return { gbps: bps === null || error !== null ? null : bps / 1e9, retransmits: num(sent['retransmits']), mss: num(start['tcp_mss_default']), error };
}

/** iputils ping: "N packets transmitted, M received" and "rtt min/avg/max/mdev = a/b/c/d ms". */
export function parsePing(text: string): PingResult | null {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
  if (counts === null) return null;
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/[\d.]+ ms/.exec(text);
  return {
    sent: Number(counts[1]),
    received: Number(counts[2]),
    minMs: rtt === null ? null : Number(rtt[1]),
    avgMs: rtt === null ? null : Number(rtt[2]),
    maxMs: rtt === null ? null : Number(rtt[3]),
  };
}
