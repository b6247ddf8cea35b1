/*
 * evidence-spawner: starts the runner's stage processes on its behalf.
 *
 * Why it exists: node starts a child with fork(), which copies the page tables of the whole node
 * process (tens of MB) and then takes copy-on-write faults on every page node touches until the
 * child has called exec. Measured on a 2-core VM: 5.8 ms of node's main thread per spawn from a
 * bare node, more from the runner's heap, against well under 1 ms for a fork from this process,
 * whose memory is a few hundred kB. On a cold run of many small stages that was most of the
 * runner's own time.
 *
 * Protocol (src/run/spawner.ts is the other end), on stdin, one request after another, every field
 * a NUL-terminated string:
 *     cwd, stdout path, stderr path (equal to stdout: one file for both), argc, argv..., envc, env...
 * On stdout, one line per event, the start replies in the order of the requests:
 *     S <pid>           started: its own session and process group, stdin /dev/null
 *     E <errno>         could not start (chdir, open or exec failed in the child)
 *     X <pid> c <code>  exited with a code
 *     X <pid> s <sig>   ended by a signal
 * End of stdin ends the spawner; the processes it started go on (the runner's group records
 * deal with those, as after a kill -9 of the runner).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int sigchld_pipe[2];

static void on_sigchld(int sig) {
  (void)sig;
  int saved = errno;
  char b = 0;
  /* A full pipe already holds a wake-up: dropping this byte loses nothing. */
  (void)!write(sigchld_pipe[1], &b, 1);
  errno = saved;
}

static char *buf;
static size_t len, cap;

static void die(const char *what) {
  perror(what);
  exit(2);
}

static void put_line(const char *line) {
  size_t n = strlen(line), off = 0;
  while (off < n) {
    ssize_t w = write(1, line + off, n - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      exit(0); /* the runner is gone */
    }
    off += (size_t)w;
  }
}

/* The next NUL-terminated field at *pos, or NULL when the request is not complete yet. */
static char *field(size_t *pos) {
  char *start = buf + *pos;
  char *end = memchr(start, 0, len - *pos);
  if (!end) return NULL;
  *pos = (size_t)(end - buf) + 1;
  return start;
}

static int open_out(const char *path) {
  return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
}

/* In the child: the reason it could not start goes back through the close-on-exec pipe. */
static void fail_child(int fd, int err) {
  (void)!write(fd, &err, sizeof err);
  _exit(127);
}

static void start(char *cwd, char *out, char *err, char **argv, char **envp) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) die("pipe2");
  pid_t pid = fork();
  if (pid < 0) {
    char line[64];
    snprintf(line, sizeof line, "E %d\n", errno);
    close(report[0]);
    close(report[1]);
    put_line(line);
    return;
  }
  if (pid == 0) {
    close(report[0]);
    /* What the runner's own spawn did: default signal handling, nothing blocked, a session of
       its own (so the runner can signal the whole group), stdin from /dev/null. node started
       this helper with every disposition at its default; main() changed only these. */
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (setsid() < 0) fail_child(report[1], errno);
    if (chdir(cwd) < 0) fail_child(report[1], errno);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in < 0) fail_child(report[1], errno);
    int o = open_out(out);
    if (o < 0) fail_child(report[1], errno);
    int e = strcmp(out, err) == 0 ? o : open_out(err);
    if (e < 0) fail_child(report[1], errno);
    if (dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) fail_child(report[1], errno);
    environ = envp;
    /* execvp searches the stage's own PATH, as node's spawn does. */
    execvp(argv[0], argv);
    fail_child(report[1], errno);
  }
  close(report[1]);
  int child_errno = 0;
  ssize_t r;
  do r = read(report[0], &child_errno, sizeof child_errno);
  while (r < 0 && errno == EINTR);
  close(report[0]);
  char line[64];
  if (r == (ssize_t)sizeof child_errno) {
    /* It never ran: reap it here so that no exit line follows. */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    snprintf(line, sizeof line, "E %d\n", child_errno);
  } else {
    snprintf(line, sizeof line, "S %ld\n", (long)pid);
  }
  put_line(line);
}

/* Starts every complete request in the buffer; keeps a partial one for the next read. */
static void handle_requests(void) {
  size_t pos = 0;
  for (;;) {
    size_t p = pos;
    char *cwd = field(&p), *out, *err, *n;
    if (!cwd || !(out = field(&p)) || !(err = field(&p)) || !(n = field(&p))) break;
    long argc = strtol(n, NULL, 10);
    if (argc < 1 || argc > 1 << 20) {
      fputs("evidence-spawner: bad request\n", stderr);
      exit(2);
    }
    char **argv = calloc((size_t)argc + 1, sizeof *argv);
    if (!argv) die("calloc");
    long i;
    for (i = 0; i < argc && (argv[i] = field(&p)); i++) {
    }
    char *m = i == argc ? field(&p) : NULL;
    if (!m) {
      free(argv);
      break;
    }
    long envc = strtol(m, NULL, 10);
    if (envc < 0 || envc > 1 << 20) {
      fputs("evidence-spawner: bad request\n", stderr);
      exit(2);
    }
    char **envp = calloc((size_t)envc + 1, sizeof *envp);
    if (!envp) die("calloc");
    for (i = 0; i < envc && (envp[i] = field(&p)); i++) {
    }
    if (i < envc) {
      free(argv);
      free(envp);
      break;
    }
    start(cwd, out, err, argv, envp);
    free(argv);
    free(envp);
    pos = p;
  }
  memmove(buf, buf + pos, len - pos);
  len -= pos;
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    char line[64];
    if (WIFSIGNALED(status))
      snprintf(line, sizeof line, "X %ld s %d\n", (long)pid, WTERMSIG(status));
    else
      snprintf(line, sizeof line, "X %ld c %d\n", (long)pid, WEXITSTATUS(status));
    put_line(line);
  }
}

int main(void) {
  /* Terminal signals are for the runner, which ends the stages' groups itself. */
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) < 0) die("pipe2");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigchld;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  cap = 1 << 16;
  buf = malloc(cap);
  if (!buf) die("malloc");
  struct pollfd fds[2] = {{.fd = 0, .events = POLLIN}, {.fd = sigchld_pipe[0], .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (fds[1].revents & POLLIN) {
      char drain[64];
      while (read(sigchld_pipe[0], drain, sizeof drain) > 0) {
      }
      reap();
    }
    if ((fds[0].revents & (POLLIN | POLLHUP))) {
      if (cap - len < 1 << 15) {
        cap *= 2;
        buf = realloc(buf, cap);
        if (!buf) die("realloc");
      }
      ssize_t r = read(0, buf + len, cap - len);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return 0;
      len += (size_t)r;
      handle_requests();
    }
  }
}
