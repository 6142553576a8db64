// A config file using every kind of object, for the config tests (documentation addresses only).

export const KEY1 = '0x' + '11'.repeat(20);
export const KEY2 = '0x' + '22'.repeat(20);

export const EXAMPLE = `# two tunnels and an ESP SA pair
[link.gre1]
type = "gre"
local = "198.51.100.1"
remote = "198.51.100.2"
key = 42
seq = true
ttl = 64
addresses = ["192.0.2.1/30"]
routes = ["203.0.113.0/26"]

[link.ipip1]
type = "ipip"
local = "198.51.100.1"
remote = "198.51.100.3"
mtu = 1400
up = false

[link.xfrm1]
type = "xfrm"
if_id = 7

[[xfrm.state]]
src = "198.51.100.1"
dst = "198.51.100.2"
spi = 0x1001
mode = "tunnel"
reqid = 1
replay-window = 32
aead = { name = "rfc4106(gcm(aes))", key = "${KEY1}", bits = 128 }

[[xfrm.state]]
src = "198.51.100.2"
dst = "198.51.100.1"
spi = 0x2002
mode = "tunnel"
reqid = 1
replay-window = 32
aead = { name = "rfc4106(gcm(aes))", key = "@/etc/tunkit/sa2.key", bits = 128 }

[[xfrm.policy]]
src = "203.0.113.1/32"
dst = "203.0.113.2/32"
dir = "out"
tmpl = [{ src = "198.51.100.1", dst = "198.51.100.2", reqid = 1, mode = "tunnel" }]

[[xfrm.policy]]
src = "203.0.113.2"
dst = "203.0.113.1"
dir = "in"
tmpl = [{ src = "198.51.100.2", dst = "198.51.100.1", reqid = 1, mode = "tunnel" }]

[xfrm.defaults]
fwd = "block"
`;

/** Key files of the example: path → text. */
export const KEY_FILES: Readonly<Record<string, string>> = { '/etc/tunkit/sa2.key': `${KEY2}\n` };

export const opts = {
  readKey: (p: string): string => {
    const t = KEY_FILES[p];
    if (t === undefined) throw new Error('no such file');
    return t;
  },
  hasDevice: (n: string): boolean => n === 'eth0',
};
