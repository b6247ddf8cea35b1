/*
 * evidence-spawner: starts the runner's stage processes on its behalf.
 *
 * Why it exists: node starts a child with fork(), which copies the page tables of the whole node
 * process (tens of MB) and then takes copy-on-write faults on every page node touches until the
 * child has called exec. Measured on a 2-core VM: 5.8 ms of node's main thread per spawn from a
 * bare node, more from the runner's heap, against 0.4 ms for a posix_spawn from this process.
 * On a cold run of many small stages that was most of the runner's own time.
 *
 * Protocol (src/run/spawner.ts is the other end), on stdin, one request after another, every field
 * a NUL-terminated string:
 *     record path (or empty), cwd, stdout path, stderr path (equal to stdout: one file for both),
 *     argc, argv..., envc, env...
 * A record path names the runner's log of the process groups it started (src/run/process-group.ts):
 * the helper appends `+<pid> <start time>` to it right after it answers, before it reads anything
 * more, so that a runner killed right after the start (before it could read the answer) still
 * leaves the group recorded for the next run to end.
 * On stdout, one line per event, the start replies in the order of the requests:
 *     S <pid>           started: its own session and process group, stdin /dev/null
 *     E <errno>         could not start (chdir, open or exec failed in the child)
 *     X <pid> c <code>  exited with a code
 *     X <pid> s <sig>   ended by a signal
 * End of stdin ends the spawner; the processes it started go on (the runner's group records
 * deal with those, as after a kill -9 of the runner).
 *
 * Linux with glibc ≥ 2.29 or musl (posix_spawn_file_actions_addchdir_np, pipe2); elsewhere the
 * build step fails softly and stages start through node's spawn.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Set when the runner stopped reading: the helper finishes what it was doing (a group record), then ends. */
static int runner_gone;

static void put_line(const char *line) {
  size_t n = strlen(line), off = 0;
  while (off < n && !runner_gone) {
    ssize_t w = write(1, line + off, n - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      runner_gone = 1;
      return;
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

/*
 * The program a name stands for, searched on the stage's own PATH (as node's spawn does; glibc's
 * posix_spawnp would search this helper's). A name with a slash is taken as it is, relative to
 * the stage's folder. Returns 0 or an errno; *found is malloc'd.
 */
static int find_program(const char *name, const char *cwd, char **envp, char **found) {
  if (!*name) return ENOENT;
  if (strchr(name, '/')) {
    size_t n = strlen(cwd) + strlen(name) + 2;
    *found = malloc(n);
    if (!*found) return ENOMEM;
    if (name[0] == '/') snprintf(*found, n, "%s", name);
    else snprintf(*found, n, "%s/%s", cwd, name);
    return 0;
  }
  const char *path = "/usr/local/bin:/usr/bin:/bin";
  for (char **e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  int result = ENOENT;
  for (const char *dir = path;; dir++) {
    const char *end = strchr(dir, ':');
    size_t len = end ? (size_t)(end - dir) : strlen(dir);
    /* An empty entry is the stage's folder; a relative one is below it. */
    size_t n = strlen(cwd) + len + strlen(name) + 3;
    char *candidate = malloc(n);
    if (!candidate) return ENOMEM;
    if (len == 0) snprintf(candidate, n, "%s/%s", cwd, name);
    else if (dir[0] == '/') snprintf(candidate, n, "%.*s/%s", (int)len, dir, name);
    else snprintf(candidate, n, "%s/%.*s/%s", cwd, (int)len, dir, name);
    if (access(candidate, X_OK) == 0) {
      struct stat st;
      if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode)) {
        *found = candidate;
        return 0;
      }
    } else if (errno == EACCES) {
      /* Found but not executable: reported if nothing later on PATH runs (as execvp does). */
      result = EACCES;
    }
    free(candidate);
    if (!end) break;
    dir = end;
  }
  return result;
}

/* The kernel's start time of a process (clock ticks since boot, field 22 of /proc/<pid>/stat), or "-". */
static void start_time_of(pid_t pid, char *out, size_t size) {
  char path[64], stat[1024];
  snprintf(out, size, "-");
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, stat, sizeof stat - 1);
  close(fd);
  if (n <= 0) return;
  stat[n] = 0;
  /* The command name may hold spaces and parentheses: count fields after the last ')'. */
  char *p = strrchr(stat, ')');
  if (!p) return;
  p += 2; /* field 3 */
  for (int field = 3; field < 22 && p; field++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  if (!p) return;
  size_t len = strcspn(p, " ");
  if (len == 0 || len >= size) return;
  memcpy(out, p, len);
  out[len] = 0;
}

static void record_group(const char *file, pid_t pid) {
  char start[32], line[96];
  start_time_of(pid, start, sizeof start);
  int len = snprintf(line, sizeof line, "+%ld %s\n", (long)pid, start);
  int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  /* Unrecordable (the folder went away): the runner's record is for the clean-up after a crash only. */
  if (fd < 0) return;
  (void)!write(fd, line, (size_t)len);
  close(fd);
}

/*
 * posix_spawn, not fork: glibc starts the child with clone(CLONE_VM|CLONE_VFORK), so nothing is
 * copied and the child's exec does not first tear down a copy of this process. Measured here,
 * 0.4 ms from the call to the child's exec against 1.6 ms with fork and exec, on every stage's
 * critical path. Errors from the child's set-up and exec come back as the call's result.
 */
static void start(const char *record, char *cwd, char *out, char *err, char **argv, char **envp) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, reset;
  int rc = posix_spawn_file_actions_init(&fa);
  if (rc == 0) rc = posix_spawnattr_init(&at);
  if (rc != 0) die("posix_spawn init");
  /* What the runner's own spawn did: its own session (so the runner can signal the whole group),
     stdin from /dev/null, default handling of the signals this helper changed (node started it
     with every disposition at its default), nothing blocked. */
  rc = posix_spawn_file_actions_addchdir_np(&fa, cwd);
  if (rc == 0) rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (rc == 0) {
    if (strcmp(out, err) == 0) rc = posix_spawn_file_actions_adddup2(&fa, 1, 2);
    else rc = posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  }
  sigemptyset(&none);
  sigemptyset(&reset);
  sigaddset(&reset, SIGINT);
  sigaddset(&reset, SIGQUIT);
  sigaddset(&reset, SIGPIPE);
  sigaddset(&reset, SIGCHLD);
#ifdef __GLIBC__
  /* glibc's posix_spawn sets its own internal signals (32 and 33) to ignored in the child unless
     they are in this set, and its sigaddset refuses them: their bits are set by hand. An ignored
     signal stays ignored across exec; node's spawn leaves them at their default. */
  for (int sig = 32; sig <= 33; sig++) {
    const size_t bits = 8 * sizeof reset.__val[0];
    reset.__val[(size_t)(sig - 1) / bits] |= 1UL << ((size_t)(sig - 1) % bits);
  }
#endif
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&at, &reset);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&at, &none);
  if (rc == 0) rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  char *file = NULL;
  if (rc == 0) rc = find_program(argv[0], cwd, envp, &file);
  if (rc == 0) rc = posix_spawn(&pid, file, &fa, &at, argv, envp);
  free(file);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  char line[64];
  if (rc != 0) {
    snprintf(line, sizeof line, "E %d\n", rc);
    put_line(line);
  } else {
    snprintf(line, sizeof line, "S %ld\n", (long)pid);
    put_line(line);
    /* After the answer: reading the start time waits for the child's exec to finish setting up
       (~1 ms here), which would delay every stage. The record is still written before this helper
       reads its next request or the end of its input, so a runner killed at any moment leaves
       the group recorded (a `-pid` line the runner wrote first, for a stage that ended at once,
       just leaves a record of a group that is gone). */
    if (*record) record_group(record, pid);
  }
}

/*
 * A count, then that many fields, as a NULL-terminated array (malloc'd; the strings stay in the
 * buffer). NULL when the request is not complete yet. A count out of range ends the helper: the
 * runner and this helper disagree about the protocol.
 */
static char **field_list(size_t *pos, long least) {
  char *n = field(pos);
  if (!n) return NULL;
  long count = strtol(n, NULL, 10);
  if (count < least || count > 1 << 20) {
    fputs("evidence-spawner: bad request\n", stderr);
    exit(2);
  }
  char **list = calloc((size_t)count + 1, sizeof *list);
  if (!list) die("calloc");
  for (long i = 0; i < count; i++) {
    if (!(list[i] = field(pos))) {
      free(list);
      return NULL;
    }
  }
  return list;
}

/* Starts every complete request in the buffer; keeps a partial one for the next read. */
static void handle_requests(void) {
  size_t pos = 0;
  while (!runner_gone) {
    size_t p = pos;
    char *record = field(&p), *cwd, *out, *err, **argv, **envp;
    if (!record || !(cwd = field(&p)) || !(out = field(&p)) || !(err = field(&p)) || !(argv = field_list(&p, 1))) break;
    if (!(envp = field_list(&p, 0))) {
      free(argv);
      break;
    }
    start(record, cwd, out, err, argv, envp);
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
  while (!runner_gone) {
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
  return 0;
}
