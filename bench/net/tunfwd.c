/* bench/net/tunfwd.c — the naive baseline: a TUN <-> UDP forwarder in C.
 *
 *   tunfwd IFNAME LOCAL_ADDR PEER_ADDR PORT
 *
 * Opens TUN device IFNAME (IFF_TUN | IFF_NO_PI), binds a UDP socket to
 * LOCAL_ADDR:PORT and connects it to PEER_ADDR:PORT, then runs two threads,
 * each a blocking loop of one read() and one write() per packet:
 *   tun -> udp   and   udp -> tun.
 * No crypto, no batching (no recvmmsg/sendmmsg), no offloads, no epoll:
 * what a first userspace tunnel looks like. The only tuning is 4 MiB socket
 * buffers, the same size tunkitd asks for, so socket drops are not the
 * difference being measured. Exits on SIGTERM (default action).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PKT 65536

struct pipe_end {
  int from;
  int to;
  const char *name;
};

static void fail(const char *what) {
  fprintf(stderr, "tunfwd: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int open_tun(const char *ifname) {
  struct ifreq ifr;
  int fd = open("/dev/net/tun", O_RDWR);
  if (fd < 0) fail("/dev/net/tun");
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) fail("TUNSETIFF");
  return fd;
}

static struct sockaddr_in inet_addr_port(const char *addr, int port) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
    fprintf(stderr, "tunfwd: bad address %s\n", addr);
    exit(2);
  }
  return sa;
}

static int open_udp(const char *local, const char *peer, int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int size = 4 << 20;
  struct sockaddr_in l = inet_addr_port(local, port);
  struct sockaddr_in p = inet_addr_port(peer, port);
  if (fd < 0) fail("socket");
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (bind(fd, (struct sockaddr *)&l, sizeof l) < 0) fail("bind");
  if (connect(fd, (struct sockaddr *)&p, sizeof p) < 0) fail("connect");
  return fd;
}

/* One direction: read a packet, write it, forever. Errors on write (peer not
 * up yet: ECONNREFUSED; TUN down: EIO) drop that packet and go on. */
static void *pump(void *arg) {
  const struct pipe_end *e = arg;
  char *buf = malloc(MAX_PKT);
  if (buf == NULL) fail("malloc");
  for (;;) {
    ssize_t n = read(e->from, buf, MAX_PKT);
    if (n < 0) {
      if (errno == EINTR || errno == ECONNREFUSED) continue;
      fail(e->name);
    }
    if (write(e->to, buf, (size_t)n) < 0 && errno != ECONNREFUSED && errno != EIO && errno != ENOBUFS) fail(e->name);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: tunfwd IFNAME LOCAL_ADDR PEER_ADDR PORT\n");
    return 2;
  }
  int tun = open_tun(argv[1]);
  int udp = open_udp(argv[2], argv[3], atoi(argv[4]));
  static struct pipe_end out, in;
  out = (struct pipe_end){tun, udp, "tun->udp"};
  in = (struct pipe_end){udp, tun, "udp->tun"};
  pthread_t t;
  if (pthread_create(&t, NULL, pump, &out) != 0) fail("pthread_create");
  fprintf(stderr, "tunfwd: %s %s <-> %s port %s\n", argv[1], argv[2], argv[3], argv[4]);
  pump(&in);
  return 0;
}
