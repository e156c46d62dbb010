/*
 * shoal-stream: the two things a streaming kubectl session needs that Node cannot do itself.
 *
 *   shoal-stream pty ROWS COLS -- ARGV...
 *       Runs ARGV on a new pseudo-terminal (forkpty: new session, the pty as controlling terminal and
 *       stdin/stdout/stderr). Copies our stdin to the pty master and the master to our stdout. File
 *       descriptor 3, when open, is a control pipe: each line "ROWS COLS\n" resizes the terminal
 *       (TIOCSWINSZ, which also sends SIGWINCH to the foreground group). Exits with ARGV's exit code
 *       (128+signal when killed). Our stdin ending sends the terminal's EOF character (^D).
 *
 *   shoal-stream connect PID PORT
 *       Enters the network namespace of PID (setns on /proc/PID/ns/net), connects to 127.0.0.1:PORT and
 *       copies stdin to the socket (stdin ending = shutdown(SHUT_WR)) and the socket to stdout until the
 *       socket ends. A failed connect prints Go's wording ("dial tcp4 127.0.0.1:PORT: connect: connection
 *       refused") to stderr and exits 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int usage(void) {
  fprintf(stderr, "usage: shoal-stream pty ROWS COLS -- ARGV... | shoal-stream connect PID PORT\n");
  return 2;
}

static int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

static int run_pty(int argc, char **argv) {
  if (argc < 6 || strcmp(argv[4], "--") != 0) return usage();
  struct winsize ws = {0};
  ws.ws_row = (unsigned short)atoi(argv[2]);
  ws.ws_col = (unsigned short)atoi(argv[3]);
  int master;
  pid_t pid = forkpty(&master, NULL, NULL, (ws.ws_row && ws.ws_col) ? &ws : NULL);
  if (pid < 0) {
    fprintf(stderr, "shoal-stream: forkpty: %s\n", strerror(errno));
    return 1;
  }
  if (pid == 0) {
    execvp(argv[5], argv + 5);
    fprintf(stderr, "shoal-stream: exec %s: %s\r\n", argv[5], strerror(errno));
    _exit(127);
  }
  int ctl = fcntl(3, F_GETFD) >= 0 ? 3 : -1;
  char ctlbuf[256];
  size_t ctllen = 0;
  int in_open = 1;
  char buf[32768];
  for (;;) {
    struct pollfd fds[3] = {{master, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}, {ctl, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0) break; /* EIO: every slave end is closed, the session is over */
      if (write_all(1, buf, (size_t)n) < 0) break;
    }
    if (in_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0) {
        in_open = 0;
        struct termios t;
        char eof = 4;
        if (tcgetattr(master, &t) == 0) eof = (char)t.c_cc[VEOF];
        write_all(master, &eof, 1);
      } else if (write_all(master, buf, (size_t)n) < 0) break;
    }
    if (ctl >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(ctl, ctlbuf + ctllen, sizeof ctlbuf - 1 - ctllen);
      if (n <= 0) {
        ctl = -1;
        continue;
      }
      ctllen += (size_t)n;
      ctlbuf[ctllen] = 0;
      char *nl;
      while ((nl = strchr(ctlbuf, '\n')) != NULL) {
        unsigned rows = 0, cols = 0;
        *nl = 0;
        if (sscanf(ctlbuf, "%u %u", &rows, &cols) == 2 && rows && cols && rows < 65536 && cols < 65536) {
          struct winsize w = {0};
          w.ws_row = (unsigned short)rows;
          w.ws_col = (unsigned short)cols;
          ioctl(master, TIOCSWINSZ, &w);
        }
        size_t used = (size_t)(nl + 1 - ctlbuf);
        memmove(ctlbuf, nl + 1, ctllen - used + 1);
        ctllen -= used;
      }
      if (ctllen >= sizeof ctlbuf - 1) ctllen = 0; /* a line too long: drop it */
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return exit_code(status);
}

static int run_connect(int argc, char **argv) {
  if (argc != 4) return usage();
  int port = atoi(argv[3]);
  if (port <= 0 || port > 65535) return usage();
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/ns/net", argv[2]);
  int nsfd = open(path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
    fprintf(stderr, "enter the pod's network namespace (%s): %s", path, strerror(errno));
    return 1;
  }
  close(nsfd);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
    const char *m = strerror(errno);
    char low[128];
    size_t i = 0;
    for (; m[i] && i < sizeof low - 1; i++) low[i] = (char)((i == 0 && m[i] >= 'A' && m[i] <= 'Z') ? m[i] + 32 : m[i]);
    low[i] = 0;
    fprintf(stderr, "dial tcp4 127.0.0.1:%d: connect: %s", port, low);
    return 1;
  }
  char buf[65536];
  int in_open = 1;
  for (;;) {
    struct pollfd fds[2] = {{s, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(s, buf, sizeof buf);
      if (n <= 0) return 0;
      if (write_all(1, buf, (size_t)n) < 0) return 0;
    }
    if (in_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0) {
        in_open = 0;
        shutdown(s, SHUT_WR);
      } else if (write_all(s, buf, (size_t)n) < 0) {
        return 0;
      }
    }
  }
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc >= 2 && strcmp(argv[1], "pty") == 0) return run_pty(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "connect") == 0) return run_connect(argc, argv);
  return usage();
}
