// The swanctl.conf every IKE test writes: one connection "gw" between two
// gateways, one child "net-ME", PSK or certificate auth. tunkit and
// strongSwan read the same text (that is the point of the format), so the
// unit, netns and interop suites all build it here.

/** One side's view of the connection. */
export interface GwConf {
  /** This side's and the peer's names: ids are NAME.example, the child is net-ME. */
  readonly me: string;
  readonly peer: string;
  readonly localAddrs: string;
  readonly remoteAddrs: string;
  /** IKE and ESP proposals (swanctl syntax). */
  readonly ike: string;
  readonly esp: string;
  readonly localTs: string;
  readonly remoteTs: string;
  /** `encap = yes|no`; absent: no line (strongSwan's default, no). */
  readonly encap?: boolean;
  /** Extra lines in the connection and in the child (rekey_time = 60s, dpd_delay …). */
  readonly connExtra?: string;
  readonly childExtra?: string;
  /** More children, as text, after net-ME. */
  readonly moreChildren?: string;
  /** Certificate auth (auth = pubkey, certs = ME.pem; cacerts when given); absent: PSK. */
  readonly pubkey?: { readonly cacerts?: string };
  /** The PSK (secrets { ike-gw }); ignored with pubkey. */
  readonly psk?: string;
  /** A first comment line. */
  readonly comment?: string;
}

/** The local { } and remote { } sections. */
function auth(o: GwConf): string {
  if (o.pubkey === undefined) return `local {\n      auth = psk\n      id = ${o.me}.example\n    }\n    remote {\n      auth = psk\n      id = ${o.peer}.example\n    }`;
  const cacerts = o.pubkey.cacerts !== undefined ? `\n      cacerts = ${o.pubkey.cacerts}` : '';
  return `local {\n      auth = pubkey\n      certs = ${o.me}.pem\n      id = ${o.me}.example\n    }\n    remote {\n      auth = pubkey\n      id = ${o.peer}.example${cacerts}\n    }`;
}

/** The whole file. */
export function gwConf(o: GwConf): string {
  const secrets = o.pubkey !== undefined ? '' : `secrets {
  ike-gw {
    id-1 = ${o.me}.example
    id-2 = ${o.peer}.example
    secret = "${o.psk ?? 'a test secret, documentation only'}"
  }
}
`;
  return `${o.comment !== undefined ? `# ${o.comment}\n` : ''}connections {
  gw {
    version = 2
    local_addrs = ${o.localAddrs}
    remote_addrs = ${o.remoteAddrs}
    proposals = ${o.ike}
    ${o.encap !== undefined ? `encap = ${o.encap ? 'yes' : 'no'}` : ''}
    ${o.connExtra ?? ''}
    ${auth(o)}
    children {
      net-${o.me} {
        local_ts = ${o.localTs}
        remote_ts = ${o.remoteTs}
        esp_proposals = ${o.esp}
        ${o.childExtra ?? ''}
      }
      ${o.moreChildren ?? ''}
    }
  }
}
${secrets}`;
}
