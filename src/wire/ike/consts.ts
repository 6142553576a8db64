// IKEv2 protocol numbers (RFC 7296 §3 and the IANA "Internet Key Exchange
// Version 2 (IKEv2) Parameters" registry). Names keep the RFC's spelling.

/** §3.1 Exchange Type. */
export const IKE_SA_INIT = 34;
export const IKE_AUTH = 35;
export const CREATE_CHILD_SA = 36;
export const INFORMATIONAL = 37;

/** §3.1 Flags: Initiator, Version (higher supported), Response. */
export const FLAG_I = 0x08;
export const FLAG_V = 0x10;
export const FLAG_R = 0x20;

/** §3.2 Next Payload types. */
export const PL = {
  NONE: 0, SA: 33, KE: 34, IDi: 35, IDr: 36, CERT: 37, CERTREQ: 38, AUTH: 39, NONCE: 40, N: 41, D: 42,
  V: 43, TSi: 44, TSr: 45, SK: 46, CP: 47, EAP: 48, SKF: 53,
} as const;

/** §3.3.1 Protocol ID. */
export const PROTO_IKE = 1;
export const PROTO_AH = 2;
export const PROTO_ESP = 3;

/** §3.3.2 Transform Type. */
export const TRANS_ENCR = 1;
export const TRANS_PRF = 2;
export const TRANS_INTEG = 3;
export const TRANS_DH = 4;
export const TRANS_ESN = 5;

/** Transform Type 1 (ENCR) IDs used here (RFC 7296, RFC 4106 for ESP, RFC 5282 for IKE, RFC 7634). */
export const ENCR_AES_CBC = 12;
export const ENCR_AES_GCM_8 = 18;
export const ENCR_AES_GCM_12 = 19;
export const ENCR_AES_GCM_16 = 20;
export const ENCR_CHACHA20_POLY1305 = 28;

/** Transform Type 2 (PRF) IDs (RFC 4868). */
export const PRF_HMAC_SHA1 = 2;
export const PRF_HMAC_SHA2_256 = 5;
export const PRF_HMAC_SHA2_384 = 6;
export const PRF_HMAC_SHA2_512 = 7;

/** Transform Type 3 (INTEG) IDs (RFC 4868). */
export const AUTH_NONE = 0;
export const AUTH_HMAC_SHA1_96 = 2;
export const AUTH_HMAC_SHA2_256_128 = 12;
export const AUTH_HMAC_SHA2_384_192 = 13;
export const AUTH_HMAC_SHA2_512_256 = 14;

/** Transform Type 4 (Key Exchange Method) IDs: RFC 3526 MODP, RFC 5903 ECP, RFC 8031 Curve25519. */
export const DH_MODP2048 = 14;
export const DH_MODP3072 = 15;
export const DH_ECP256 = 19;
export const DH_ECP384 = 20;
export const DH_X25519 = 31;

/** Transform Type 5 (ESN). */
export const ESN_NO = 0;
export const ESN_YES = 1;

/** §3.3.5 Transform attribute: Key Length (TV format, AF bit set). */
export const ATTR_KEY_LENGTH = 14;

/** §3.5 ID Type. */
export const ID_IPV4_ADDR = 1;
export const ID_FQDN = 2;
export const ID_RFC822_ADDR = 3;
export const ID_IPV6_ADDR = 5;
export const ID_DER_ASN1_DN = 9;
export const ID_KEY_ID = 11;

/** §3.8 Auth Method; RFC 4754 ECDSA (signature r|s, hash by curve); RFC 7427 Digital Signature. */
export const AUTH_RSA_SIG = 1;
export const AUTH_SHARED_KEY = 2;
export const AUTH_ECDSA_256 = 9;
export const AUTH_ECDSA_384 = 10;
export const AUTH_ECDSA_521 = 11;
export const AUTH_DIGITAL_SIGNATURE = 14;

/** §3.6 Certificate Encoding: X.509 Certificate - Signature (DER). */
export const CERT_X509_SIGNATURE = 4;

/** RFC 7427 §4 (IANA "IKEv2 Hash Algorithms"): the SIGNATURE_HASH_ALGORITHMS notify's 16-bit values. */
export const HASH_SHA1 = 1;
export const HASH_SHA2_256 = 2;
export const HASH_SHA2_384 = 3;
export const HASH_SHA2_512 = 4;

/** §3.13.1 TS Type. */
export const TS_IPV4_ADDR_RANGE = 7;
export const TS_IPV6_ADDR_RANGE = 8;

/** §3.10.1 Notify Message Types: errors (< 16384) and status. */
export const N = {
  UNSUPPORTED_CRITICAL_PAYLOAD: 1, INVALID_IKE_SPI: 4, INVALID_MAJOR_VERSION: 5, INVALID_SYNTAX: 7,
  INVALID_MESSAGE_ID: 9, INVALID_SPI: 11, NO_PROPOSAL_CHOSEN: 14, INVALID_KE_PAYLOAD: 17,
  AUTHENTICATION_FAILED: 24, SINGLE_PAIR_REQUIRED: 34, NO_ADDITIONAL_SAS: 35, INTERNAL_ADDRESS_FAILURE: 36,
  FAILED_CP_REQUIRED: 37, TS_UNACCEPTABLE: 38, INVALID_SELECTORS: 39, TEMPORARY_FAILURE: 43, CHILD_SA_NOT_FOUND: 44,
  INITIAL_CONTACT: 16384, SET_WINDOW_SIZE: 16385, ADDITIONAL_TS_POSSIBLE: 16386, IPCOMP_SUPPORTED: 16387,
  NAT_DETECTION_SOURCE_IP: 16388, NAT_DETECTION_DESTINATION_IP: 16389, COOKIE: 16390, USE_TRANSPORT_MODE: 16391,
  REKEY_SA: 16393, ESP_TFC_PADDING_NOT_SUPPORTED: 16394, NON_FIRST_FRAGMENTS_ALSO: 16395, MOBIKE_SUPPORTED: 16396,
  IKEV2_FRAGMENTATION_SUPPORTED: 16430, SIGNATURE_HASH_ALGORITHMS: 16431,
} as const;

/** Name of a notify type for logs ("NO_PROPOSAL_CHOSEN"), or its number. */
export function notifyName(t: number): string {
  for (const [k, v] of Object.entries(N)) if (v === t) return k;
  return `NOTIFY(${t})`;
}

/** Name of an exchange type for logs. */
export function exchangeName(t: number): string {
  switch (t) {
    case IKE_SA_INIT: return 'IKE_SA_INIT';
    case IKE_AUTH: return 'IKE_AUTH';
    case CREATE_CHILD_SA: return 'CREATE_CHILD_SA';
    case INFORMATIONAL: return 'INFORMATIONAL';
    default: return `EXCHANGE(${t})`;
  }
}

/** §3.1: the fixed IKE header is 28 bytes; §3.2: every payload starts with a 4-byte generic header. */
export const IKE_HDR_LEN = 28;
export const GENERIC_HDR_LEN = 4;
/** §2: IKE version 2.0 in the Version field (MjVer 2, MnVer 0). */
export const IKE_VERSION = 0x20;
/** RFC 3948 §2.2: the 4 zero bytes before an IKE message on UDP 4500. */
export const NON_ESP_MARKER_LEN = 4;
