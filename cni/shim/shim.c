/*
 * shoal-cni shim: the executable installed as /opt/cni/bin/shoal-bridge and shoal-ipam.
 *
 * A CNI runtime execs one plugin per pod and operation; starting Node each time costs ~60 ms, so
 * this small program forwards the call to the resident daemon over a unix socket and relays its
 * reply (stdout, stderr, exit code). When no daemon answers it execs the standalone Node plugin,
 * which runs the same code in-process, so the plugin still works alone.
 *
 * Socket: $SHOAL_CNI_SOCKET, else SHOAL_SOCKET (compile-time, default /run/shoal/cni.sock).
 * Fallback: $SHOAL_CNI_NODE and $SHOAL_CNI_STANDALONE, else SHOAL_NODE and SHOAL_STANDALONE.
 * Protocol: see cni/daemon/protocol.ts.
 *
 * Build: cc -O2 -Wall -o shoal-cni-shim cni/shim/shim.c \
 *          -DSHOAL_NODE='"/usr/bin/node"' -DSHOAL_STANDALONE='"/path/dist/cni/standalone/main.js"'
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SHOAL_SOCKET
#define SHOAL_SOCKET "/run/shoal/cni.sock"
#endif
#ifndef SHOAL_NODE
#define SHOAL_NODE "/usr/bin/node"
#endif
#ifndef SHOAL_STANDALONE
#define SHOAL_STANDALONE "/usr/lib/shoal/dist/cni/standalone/main.js"
#endif

extern char **environ;

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t n) {
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + n) cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p) { perror("shoal-cni: realloc"); exit(1); }
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void read_all(int fd, struct buf *b) {
	char tmp[65536];
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) return;
		put(b, tmp, (size_t)n);
	}
}

static int write_all(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static const char *env_or(const char *name, const char *dflt) {
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

/* No daemon: run the standalone plugin with the config we already read fed back on stdin. */
static int fallback(const char *plugin, struct buf *in) {
	int fds[2];
	if (pipe(fds) < 0) { perror("shoal-cni: pipe"); return 1; }
	pid_t writer = fork();
	if (writer == 0) {
		close(fds[0]);
		write_all(fds[1], in->p, in->len);
		_exit(0);
	}
	close(fds[1]);
	dup2(fds[0], 0);
	close(fds[0]);
	const char *node = env_or("SHOAL_CNI_NODE", SHOAL_NODE);
	const char *script = env_or("SHOAL_CNI_STANDALONE", SHOAL_STANDALONE);
	execl(node, node, script, plugin, (char *)NULL);
	fprintf(stderr, "shoal-cni: cannot exec %s %s: %s\n", node, script, strerror(errno));
	printf("{\"cniVersion\":\"1.1.0\",\"code\":50,\"msg\":\"shoal-cni: no daemon and cannot start the standalone plugin\"}\n");
	return 1;
}

int main(int argc, char **argv) {
	(void)argc;
	char *self = strdup(argv[0]);
	const char *plugin = basename(self);
	struct buf in = {0}, req = {0}, resp = {0};
	if (!getenv("CNI_COMMAND") || strcmp(getenv("CNI_COMMAND"), "VERSION") != 0) read_all(0, &in);

	const char *path = env_or("SHOAL_CNI_SOCKET", SHOAL_SOCKET);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) return fallback(plugin, &in);
	strcpy(sa.sun_path, path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (s >= 0) close(s);
		return fallback(plugin, &in);
	}
	put(&req, plugin, strlen(plugin) + 1);
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "CNI_", 4) == 0) put(&req, *e, strlen(*e) + 1);
	put(&req, "", 1);
	put(&req, in.p ? in.p : "", in.len);
	if (write_all(s, req.p, req.len) < 0 || shutdown(s, SHUT_WR) < 0) {
		/* Connected but the daemon went away before reading: nothing was done, run standalone. */
		close(s);
		return fallback(plugin, &in);
	}
	read_all(s, &resp);
	close(s);
	int code;
	size_t olen, elen;
	int hdr = 0;
	char *nl = resp.len ? memchr(resp.p, '\n', resp.len) : NULL;
	if (!nl || sscanf(resp.p, "%d %zu %zu%n", &code, &olen, &elen, &hdr) != 3 ||
	    (size_t)(nl - resp.p) + 1 + olen + elen > resp.len) {
		/* The daemon may have acted before failing: do not run the command a second time. */
		printf("{\"cniVersion\":\"1.1.0\",\"code\":11,\"msg\":\"shoal-cni: the daemon at %s closed the connection without a reply; try again\"}\n", path);
		return 1;
	}
	char *body = nl + 1;
	write_all(1, body, olen);
	write_all(2, body + olen, elen);
	return code;
}
