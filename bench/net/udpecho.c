/* bench/net/udpecho.c — the wake-up floor: a UDP echo and its client.
 *
 *   udpecho server PORT
 *   udpecho client ADDR PORT COUNT INTERVAL_MS [WARM]
 *
 * server: one epoll_wait + recvfrom + sendto per datagram, the least a C
 * process does when a packet wakes it (the baseline bench/net/echo-node.ts is
 * compared with).
 * client: first WARM probes (default 0) 1 ms apart, not reported (so the
 * echo's JIT, if any, is warm), then COUNT probes INTERVAL_MS apart, each a
 * 64-byte datagram with a sequence number, waiting up to 1 s for its echo.
 * Prints the same two summary lines as iputils ping (parse.ts parsePing):
 *   "N packets transmitted, M received, ..." and
 *   "rtt min/avg/max/mdev = a/b/c/d ms". Exit status 1 if any probe was lost.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int bound_socket(int port) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("udpecho: socket/bind"); exit(2); }
  return s;
}

static int server(int port) {
  int s = bound_socket(port), ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) < 0) { perror("udpecho: epoll"); return 2; }
  char b[2048];
  for (;;) {
    struct epoll_event e;
    if (epoll_wait(ep, &e, 1, -1) < 0) continue;
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(s, b, sizeof b, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    if (n >= 0) sendto(s, b, (size_t)n, 0, (struct sockaddr *)&from, fl);
  }
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* One probe: send seq, wait up to 1 s for the datagram carrying it; RTT in ms or -1. */
static double probe(int s, const struct sockaddr_in *to, uint32_t seq) {
  char b[64] = {0};
  memcpy(b, &seq, sizeof seq);
  struct timeval tv = {.tv_sec = 1};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  double t0 = now_ms();
  if (sendto(s, b, sizeof b, 0, (const struct sockaddr *)to, sizeof *to) < 0) return -1;
  for (;;) {
    char r[2048];
    ssize_t n = recv(s, r, sizeof r, 0);
    if (n < 0) return -1;
    uint32_t got;
    memcpy(&got, r, sizeof got);
    if (n >= (ssize_t)sizeof got && got == seq) return now_ms() - t0;
  }
}

static int client(const char *addr, int port, int count, int interval_ms, int warm) {
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, addr, &to.sin_addr) != 1 || count < 1 || interval_ms < 0 || warm < 0) {
    fprintf(stderr, "udpecho: bad client arguments\n");
    return 2;
  }
  int s = bound_socket(0);
  uint32_t seq = 0;
  for (int i = 0; i < warm; i++) { probe(s, &to, ++seq); usleep(1000); }
  double sum = 0, sq = 0, mn = 1e9, mx = 0;
  int got = 0;
  for (int i = 0; i < count; i++) {
    if (i > 0) usleep((useconds_t)interval_ms * 1000);
    double r = probe(s, &to, ++seq);
    if (r < 0) continue;
    got++;
    sum += r;
    sq += r * r;
    if (r < mn) mn = r;
    if (r > mx) mx = r;
  }
  printf("%d packets transmitted, %d received\n", count, got);
  if (got > 0) {
    double avg = sum / got;
    printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", mn, avg, mx, sqrt(fmax(0, sq / got - avg * avg)));
  }
  return got == count ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "server") == 0) return server(atoi(argv[2]));
  if ((argc == 6 || argc == 7) && strcmp(argv[1], "client") == 0)
    return client(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), argc == 7 ? atoi(argv[6]) : 0);
  fprintf(stderr, "usage: udpecho server PORT | udpecho client ADDR PORT COUNT INTERVAL_MS [WARM]\n");
  return 2;
}
