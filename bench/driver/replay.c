/*
 * Replays recorded Redis command streams against one redis-server as fast as it answers, for
 * bench/saturation.bench.ts. A Node driver tops out before Redis does on cheap commands (GET,
 * EXPIRE): this one uses non-blocking sockets and one epoll loop, and parses replies only far
 * enough to count them.
 *
 *   replay PORT REDIS_PID CONNECTIONS DEPTH WARMUP_S SECONDS PROTO SUBSCRIBE_FILE SUBSCRIBERS
 *          STREAM_FILE...
 *
 * Connection c replays STREAM_FILE[c % streams] (raw RESP commands as a client sent them) in
 * order, from a different starting point per copy, looping, with DEPTH commands in flight.
 * PROTO 3 sends HELLO 3 first, as ioredis does. SUBSCRIBERS connections send SUBSCRIBE_FILE's
 * commands ("-": none) and drain what Redis pushes. After WARMUP_S, replies and Redis CPU
 * (/proc/PID/task/∗/schedstat: time on a CPU, and runnable but waiting for one, its own too)
 * are counted for SECONDS; one JSON line goes to stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  char *data;
  size_t size, count;
  size_t *offset; /* start of each command; offset[count] = size */
} stream_t;

typedef struct {
  int fd, subscriber;
  stream_t *stream;
  size_t next;          /* next command to send */
  size_t wpos, wend;    /* bytes of stream->data still to write */
  const char *wbuf;     /* or of a one-off buffer (HELLO, SUBSCRIBE) */
  long inflight;
  char *rbuf;
  size_t rlen, rcap;
} conn_t;

static long depth;
static unsigned long long replies, errors, noscript, messages;
static char first_error[160];

static void die(const char *what) {
  perror(what);
  exit(2);
}

static char *slurp(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) die(path);
  fseek(f, 0, SEEK_END);
  *size = (size_t)ftell(f);
  rewind(f);
  char *data = malloc(*size + 1);
  if (*size && fread(data, 1, *size, f) != *size) die(path);
  data[*size] = 0; /* strtol stops there */
  fclose(f);
  return data;
}

/* Splits a file of RESP commands (arrays of bulk strings) at command boundaries. */
static void split(stream_t *s) {
  size_t cap = 1024, pos = 0;
  s->offset = malloc(cap * sizeof(size_t));
  s->count = 0;
  while (pos < s->size) {
    if (s->count + 1 >= cap) s->offset = realloc(s->offset, (cap *= 2) * sizeof(size_t));
    s->offset[s->count++] = pos;
    char *end;
    long n = strtol(s->data + pos + 1, &end, 10);
    pos = (size_t)(end - s->data) + 2;
    for (long i = 0; i < n; i++) {
      long len = strtol(s->data + pos + 1, &end, 10);
      pos = (size_t)(end - s->data) + 2 + (size_t)len + 2;
    }
  }
  s->offset[s->count] = s->size;
}

/* Whether command i of s is MULTI. */
static int is_multi(const stream_t *s, size_t i) {
  static const char multi[] = "*1\r\n$5\r\nmulti\r\n";
  return s->offset[i + 1] - s->offset[i] == sizeof multi - 1 &&
         strncasecmp(s->data + s->offset[i], multi, sizeof multi - 1) == 0;
}

/*
 * The first command at or after i that starts a unit: in a stream with transactions (this
 * module's reads are MULTI ... EXEC), the next MULTI, so that no copy starts inside one.
 */
static size_t unit_start(const stream_t *s, size_t i) {
  int transactions = 0;
  for (size_t k = 0; k < s->count && !transactions; k++) transactions = is_multi(s, k);
  if (!transactions) return i;
  while (!is_multi(s, i % s->count)) i++;
  return i % s->count;
}

/* Where the line starting at p ends (at its \r), or NULL when it is not complete yet. */
static const char *line_end(const char *p, const char *end) {
  const char *cr = memchr(p, '\r', (size_t)(end - p));
  return cr && cr + 1 < end ? cr : NULL;
}

/* Skips one RESP2/RESP3 reply; NULL when incomplete. */
static const char *skip(const char *p, const char *end) {
  if (p >= end) return NULL;
  const char *cr = line_end(p, end);
  if (!cr) return NULL;
  long n = strtol(p + 1, NULL, 10);
  const char *next = cr + 2;
  switch (*p) {
    case '$': case '=': case '!': /* bulk string, verbatim, blob error */
      if (n < 0) return next;
      return next + n + 2 <= end ? next + n + 2 : NULL;
    case '*': case '~': case '>': /* array, set, push */
      break;
    case '%': case '|': /* map, attribute: key and value */
      n *= 2;
      break;
    default: /* + - : _ # , ( : one line */
      return next;
  }
  for (long i = 0; i < n && next; i++) next = skip(next, end);
  return next;
}

static void on_reply(conn_t *c, const char *p, const char *end) {
  if (c->subscriber) {
    if (*p == '>' || *p == '*') messages++;
    return;
  }
  c->inflight--;
  replies++;
  if (*p == '-' || *p == '!') {
    errors++;
    const char *text = *p == '!' ? memchr(p, '\n', (size_t)(end - p)) + 1 : p + 1;
    if (!strncmp(text, "NOSCRIPT", 8)) noscript++;
    if (!first_error[0]) {
      size_t len = (size_t)(line_end(text, end) - text);
      memcpy(first_error, text, len < sizeof first_error - 1 ? len : sizeof first_error - 1);
    }
  }
}

static void fill(conn_t *c) {
  if (c->wbuf || c->wpos < c->wend || c->subscriber || c->inflight >= depth) return;
  stream_t *s = c->stream;
  size_t n = (size_t)(depth - c->inflight);
  if (n > s->count - c->next) n = s->count - c->next; /* wraps at the next fill */
  c->wpos = s->offset[c->next];
  c->wend = s->offset[c->next + n];
  c->next = (c->next + n) % s->count;
  c->inflight += (long)n;
}

/* Writes what it can; returns 1 when bytes are still waiting for the socket. */
static int flush_out(conn_t *c) {
  for (;;) {
    fill(c);
    const char *buf = c->wbuf ? c->wbuf + c->wpos : c->stream ? c->stream->data + c->wpos : NULL;
    size_t len = c->wend - c->wpos;
    if (!buf || len == 0) return 0;
    ssize_t w = write(c->fd, buf, len);
    if (w < 0) {
      if (errno == EAGAIN) return 1;
      die("write");
    }
    c->wpos += (size_t)w;
    if (c->wpos < c->wend) return 1;
    if (c->wbuf) c->wbuf = NULL, c->wpos = c->wend = 0;
  }
}

static void drain(conn_t *c) {
  for (;;) {
    if (c->rcap - c->rlen < 65536) c->rbuf = realloc(c->rbuf, c->rcap = c->rcap * 2 + 65536);
    ssize_t r = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
    if (r == 0) {
      fprintf(stderr, "redis closed a connection\n");
      exit(2);
    }
    if (r < 0) {
      if (errno == EAGAIN) break;
      die("read");
    }
    c->rlen += (size_t)r;
    const char *p = c->rbuf, *end = c->rbuf + c->rlen, *next;
    while ((next = skip(p, end))) on_reply(c, p, end), p = next;
    c->rlen = (size_t)(end - p);
    memmove(c->rbuf, p, c->rlen);
  }
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Seconds a process's threads have been on a CPU, and runnable but waiting for one: the first
   two fields of each thread's schedstat. */
static void process_cpu(const char *pid, double *on_cpu, double *waiting) {
  char path[512];
  snprintf(path, sizeof path, "/proc/%s/task", pid);
  DIR *dir = opendir(path);
  if (!dir) die(path);
  unsigned long long run = 0, wait = 0;
  struct dirent *e;
  while ((e = readdir(dir))) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/%s/task/%s/schedstat", pid, e->d_name);
    FILE *f = fopen(path, "r");
    unsigned long long r = 0, w = 0;
    if (f && fscanf(f, "%llu %llu", &r, &w) == 2) run += r, wait += w;
    if (f) fclose(f);
  }
  closedir(dir);
  *on_cpu = run / 1e9, *waiting = wait / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 11) {
    fprintf(stderr, "usage: see the comment at the top of replay.c\n");
    return 2;
  }
  int port = atoi(argv[1]), connections = atoi(argv[3]), subscribers = atoi(argv[9]);
  const char *pid = argv[2];
  depth = atol(argv[4]);
  double warmup = atof(argv[5]), seconds = atof(argv[6]);
  int resp3 = atoi(argv[7]) == 3;
  int nstreams = argc - 10;
  stream_t *streams = calloc((size_t)nstreams, sizeof(stream_t));
  for (int i = 0; i < nstreams; i++) {
    streams[i].data = slurp(argv[10 + i], &streams[i].size);
    split(&streams[i]);
  }
  size_t subscribe_len = 0;
  char *subscribe = strcmp(argv[8], "-") ? slurp(argv[8], &subscribe_len) : NULL;
  static const char hello[] = "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n";

  int total = connections + subscribers, ep = epoll_create1(0);
  conn_t *conns = calloc((size_t)total, sizeof(conn_t));
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  for (int i = 0; i < total; i++) {
    conn_t *c = &conns[i];
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr)) die("connect");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->subscriber = i >= connections;
    /* HELLO 3, then (subscribers) SUBSCRIBE: one write before the stream */
    char *setup = malloc(sizeof hello + subscribe_len);
    size_t setup_len = 0;
    if (resp3) memcpy(setup, hello, sizeof hello - 1), setup_len = sizeof hello - 1;
    if (c->subscriber && subscribe) memcpy(setup + setup_len, subscribe, subscribe_len), setup_len += subscribe_len;
    if (setup_len) c->wbuf = setup, c->wend = setup_len;
    if (!c->subscriber) {
      c->stream = &streams[i % nstreams];
      c->next = (size_t)(i / nstreams) * c->stream->count / (size_t)((connections + nstreams - 1) / nstreams);
      c->next = unit_start(c->stream, c->next);
      c->inflight = resp3; /* HELLO's reply; counting starts after the warm-up anyway */
    }
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev)) die("epoll_ctl");
  }

  struct epoll_event events[256];
  double start = now(), measure_at = start + warmup, stop_at = measure_at + seconds;
  double cpu0 = 0, wait0 = 0, self0 = 0, selfwait0 = 0, t0 = 0;
  unsigned long long replies0 = 0, messages0 = 0;
  int measuring = 0;
  for (;;) {
    double t = now();
    if (!measuring && t >= measure_at) {
      measuring = 1;
      process_cpu(pid, &cpu0, &wait0);
      process_cpu("self", &self0, &selfwait0);
      t0 = now();
      replies0 = replies, messages0 = messages;
    }
    if (measuring && t >= stop_at) break;
    int n = epoll_wait(ep, events, 256, 10);
    for (int i = 0; i < n; i++) {
      conn_t *c = events[i].data.ptr;
      if (events[i].events & (EPOLLERR | EPOLLHUP)) {
        fprintf(stderr, "connection error\n");
        return 2;
      }
      if (events[i].events & EPOLLIN) drain(c);
      flush_out(c); /* after replies freed pipeline slots, and on EPOLLOUT */
    }
  }
  double wall = now() - t0, cpu, wait, self, selfwait;
  process_cpu(pid, &cpu, &wait);
  process_cpu("self", &self, &selfwait);
  printf("{\"replies\":%llu,\"wall\":%.6f,\"redisCpu\":%.6f,\"redisWait\":%.6f,\"driverCpu\":%.6f,"
         "\"driverWait\":%.6f,\"messages\":%llu,\"errors\":%llu,\"noscript\":%llu,\"firstError\":\"",
         replies - replies0, wall, cpu - cpu0, wait - wait0, self - self0, selfwait - selfwait0,
         messages - messages0, errors, noscript);
  for (const char *p = first_error; *p; p++) {
    if (*p == '"' || *p == '\\') putchar('\\');
    putchar(*p >= 32 ? *p : ' ');
  }
  printf("\"}\n");
  return 0;
}
