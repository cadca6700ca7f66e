/*
 * vpc-agent's CNI plugin, native thin form: installed as /opt/cni/bin/kube-ovn and vpc-agent-cni.
 *
 * A runtime starts the plugin once per NIC, and a burst of VMs starts it a hundred times at once.
 * What the plugin does is small (hand the call to the agent, print the answer), so its cost is
 * its start: a Node process is about 0.14 s of CPU, a shell running curl about 25 ms (curl loads
 * some thirty libraries), this static binary well under a millisecond. It is written by hand in
 * C because no library or tool does "one HTTP request on a unix socket" without those costs.
 *
 * It forwards the call as it came, as the shell form (vpc-agent-cni.sh) does: the network config
 * from stdin as the body, CNI_* as x-cni-* headers, to POST /v1/cni on the socket the config names
 * (`server_socket`, else /run/openvswitch/kube-ovn-daemon.sock). The agent runs the command and
 * answers 200 with the result (printed, exit 0) or 422 with the CNI error object (printed, exit
 * 1). VERSION is answered here. An agent that does not answer gives CNI error 11 (try again
 * later), as the CNI spec's well-known codes say.
 *
 * Build: cc -O2 -static -o vpc-agent-cni vpc-agent-cni.c (scripts/build-cni.ts does it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/openvswitch/kube-ovn-daemon.sock"
#define VERSIONS "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]"
/* The agent answers an ADD once the port is up; a Northbound fail-over may take long. */
#define TIMEOUT_SECONDS 300

struct buf {
  char *data;
  size_t len, cap;
};

static void append(struct buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
      fputs("vpc-agent-cni: out of memory\n", stderr);
      exit(1);
    }
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void appends(struct buf *b, const char *s) { append(b, s, strlen(s)); }

/* Reads all of fd into b; -1 on a read error. */
static int read_all(int fd, struct buf *b) {
  char chunk[8192];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    append(b, chunk, (size_t)n);
  }
}

/*
 * The string value of "key" in the JSON config, or NULL. The fields read here (server_socket,
 * cniVersion) are plain strings without escapes, so the first occurrence of the quoted key
 * followed by a colon is enough; the agent parses the whole config properly.
 */
static char *field(const char *conf, const char *key) {
  char quoted[64];
  snprintf(quoted, sizeof quoted, "\"%s\"", key);
  for (const char *p = strstr(conf, quoted); p; p = strstr(p + 1, quoted)) {
    const char *q = p + strlen(quoted);
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') q++;
    if (*q != ':') continue;
    q++;
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') q++;
    if (*q != '"') return NULL;
    const char *end = strchr(q + 1, '"');
    if (!end) return NULL;
    return strndup(q + 1, (size_t)(end - q - 1));
  }
  return NULL;
}

/* One x-cni-* header from the environment; CR and LF are dropped (no header injection). */
static void header(struct buf *req, const char *name, const char *env) {
  const char *v = getenv(env);
  appends(req, name);
  appends(req, ": ");
  for (; v && *v; v++)
    if (*v != '\r' && *v != '\n') append(req, v, 1);
  appends(req, "\r\n");
}

static int try_again(const char *version, const char *sock, const char *why) {
  printf("{\"cniVersion\":\"%s\",\"code\":11,\"msg\":\"vpc-agent is not answering on %s (%s)\"}\n",
         version, sock, why);
  fprintf(stderr, "vpc-agent-cni: the agent is not answering on %s (%s)\n", sock, why);
  return 1;
}

int main(void) {
  struct buf conf = {0};
  if (read_all(0, &conf) < 0) {
    perror("vpc-agent-cni: reading the network configuration");
    return 1;
  }
  if (!conf.data) appends(&conf, "");
  char *version = field(conf.data, "cniVersion");
  const char *command = getenv("CNI_COMMAND");

  if (command && strcmp(command, "VERSION") == 0) {
    /* Answered here (VERSION needs no agent), in the config's version when it is one of ours. */
    char quoted[64] = "";
    if (version && strlen(version) < sizeof quoted - 2) snprintf(quoted, sizeof quoted, "\"%s\"", version);
    const char *v = quoted[0] && strstr(VERSIONS, quoted) ? version : "1.1.0";
    printf("{\"cniVersion\":\"%s\",\"supportedVersions\":%s}\n", v, VERSIONS);
    return 0;
  }
  if (!version || !version[0]) version = "1.0.0";

  char *sock = field(conf.data, "server_socket");
  if (!sock || !sock[0]) sock = DEFAULT_SOCKET;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(sock) >= sizeof addr.sun_path) return try_again(version, sock, "socket path too long");
  strcpy(addr.sun_path, sock);

  /* HTTP/1.0: the agent answers with the whole body and closes; no chunks to undo. */
  struct buf req = {0};
  char line[128];
  appends(&req, "POST /v1/cni HTTP/1.0\r\nHost: vpc-agent\r\ncontent-type: application/json\r\n");
  snprintf(line, sizeof line, "content-length: %zu\r\n", conf.len);
  appends(&req, line);
  header(&req, "x-cni-command", "CNI_COMMAND");
  header(&req, "x-cni-containerid", "CNI_CONTAINERID");
  header(&req, "x-cni-netns", "CNI_NETNS");
  header(&req, "x-cni-ifname", "CNI_IFNAME");
  header(&req, "x-cni-args", "CNI_ARGS");
  header(&req, "x-cni-path", "CNI_PATH");
  appends(&req, "\r\n");
  append(&req, conf.data, conf.len);

  signal(SIGPIPE, SIG_IGN);
  alarm(TIMEOUT_SECONDS); /* the default action ends the process: the runtime sees a failure */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    return try_again(version, sock, strerror(errno));
  for (size_t off = 0; off < req.len;) {
    ssize_t n = write(fd, req.data + off, req.len - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return try_again(version, sock, strerror(errno));
    }
    off += (size_t)n;
  }
  struct buf res = {0};
  if (read_all(fd, &res) < 0) return try_again(version, sock, strerror(errno));
  close(fd);

  int status = 0;
  char *body = res.data ? strstr(res.data, "\r\n\r\n") : NULL;
  if (!body || sscanf(res.data, "HTTP/%*s %d", &status) != 1)
    return try_again(version, sock, "no HTTP answer");
  body += 4;
  size_t blen = strlen(body);
  while (blen > 0 && (body[blen - 1] == '\n' || body[blen - 1] == '\r')) body[--blen] = '\0';
  if (status == 200) {
    if (blen > 0) printf("%s\n", body);
    return 0;
  }
  if (status == 422 && blen > 0) {
    /* The agent's CNI error object. */
    printf("%s\n", body);
    fprintf(stderr, "vpc-agent-cni: %s\n", body);
    return 1;
  }
  snprintf(line, sizeof line, "HTTP %d", status);
  return try_again(version, sock, line);
}
