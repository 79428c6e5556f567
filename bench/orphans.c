/* orphans stream|burst N OUT: makes N orphans for the init that started it (its parent,
 * a subreaper or PID 1) and waits until the init has reaped every one; then writes to OUT
 * one line: wall_ns utime_ticks stime_ticks voluntary nonvoluntary runtime_ns, all but the
 * first the init's own, read from /proc just before it reaps this process and exits
 * (runtime_ns: /proc/PID/schedstat's CPU time, in ns where utime and stime count ticks).
 *   stream: one after another, each a grandchild that dies as soon as it is orphaned;
 *   burst:  all N made first, blocked on one pipe, then released to die at once
 *           (wall_ns counts from the release).
 * Each orphan's pidfd tells when it is reaped (pidfd_send_signal fails with ESRCH once the
 * zombie is gone, and pid reuse cannot fool it), without scanning /proc. A burst opens
 * them only once every orphan is made: each fork copies the descriptor table, and 10,000
 * open pidfds made the making quadratic. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
	perror(what);
	exit(1);
}

static long long now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int reaped(int pidfd) {
	return syscall(SYS_pidfd_send_signal, pidfd, 0, 0, 0) < 0 && errno == ESRCH;
}

/* A grandchild blocked on `hold` until every write end is closed, its parent gone: an
 * orphan of the init. Returns its pid, alive while `hold` is open here. */
static pid_t orphan(int hold[2], int first) {
	int up[2];
	if (pipe(up))
		die("pipe");
	pid_t mid = fork();
	if (mid < 0)
		die("fork");
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0) {
			char c;
			close(hold[1]);
			while (read(hold[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		if (write(up[1], &g, sizeof g) != sizeof g)
			_exit(1);
		_exit(0);
	}
	pid_t g;
	if (read(up[0], &g, sizeof g) != sizeof g || g < 0)
		die("grandchild");
	close(up[0]);
	close(up[1]);
	int st;
	while (waitpid(mid, &st, 0) < 0)
		;
	if (first) {
		/* Field 4 of /proc/PID/stat, after the comm, which may hold spaces. */
		char path[64], buf[512];
		snprintf(path, sizeof path, "/proc/%d/stat", (int)g);
		FILE *f = fopen(path, "r");
		int ppid = -1;
		if (!f || !fgets(buf, sizeof buf, f) || sscanf(strrchr(buf, ')') + 2, "%*c %d", &ppid) != 1)
			die(path);
		fclose(f);
		if (ppid != getppid()) {
			fprintf(stderr, "orphans: reparented to %d, not to the init %d (no subreaper?)\n",
				ppid, (int)getppid());
			exit(2);
		}
	}
	return g;
}

static int pidfd(pid_t pid) {
	int fd = syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		die("pidfd_open");
	return fd;
}

static void init_stats(FILE *out, long long wall) {
	char path[64], buf[1024];
	unsigned long utime = 0, stime = 0, vol = 0, nonvol = 0;
	unsigned long long runtime = 0;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)getppid());
	FILE *f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof buf, f))
		die(path);
	fclose(f);
	/* utime and stime are fields 14 and 15; field 3 follows the comm. */
	if (sscanf(strrchr(buf, ')') + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &utime, &stime) != 2)
		die("parsing stat");
	snprintf(path, sizeof path, "/proc/%d/status", (int)getppid());
	if (!(f = fopen(path, "r")))
		die(path);
	while (fgets(buf, sizeof buf, f)) {
		sscanf(buf, "voluntary_ctxt_switches: %lu", &vol);
		sscanf(buf, "nonvoluntary_ctxt_switches: %lu", &nonvol);
	}
	fclose(f);
	snprintf(path, sizeof path, "/proc/%d/schedstat", (int)getppid());
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%llu", &runtime) != 1)
			runtime = 0;
		fclose(f);
	}
	fprintf(out, "%lld %lu %lu %lu %lu %llu\n", wall, utime, stime, vol, nonvol, runtime);
}

int main(int argc, char **argv) {
	if (argc != 4 || (strcmp(argv[1], "stream") && strcmp(argv[1], "burst")))
		return fprintf(stderr, "usage: orphans stream|burst N OUT\n"), 2;
	int burst = !strcmp(argv[1], "burst");
	int n = atoi(argv[2]);
	FILE *out = fopen(argv[3], "w");
	if (!out || n < 1)
		die(argv[3]);
	/* A burst holds a pidfd per orphan. */
	struct rlimit lim = { n + 64, n + 64 };
	if (burst && setrlimit(RLIMIT_NOFILE, &lim))
		die("RLIMIT_NOFILE");
	int *fds = malloc(n * sizeof *fds);
	pid_t *pids = malloc(n * sizeof *pids);
	int hold[2], pending = 0, done = 0;
	long long start = now_ns();
	if (burst && pipe2(hold, O_CLOEXEC))
		die("pipe");
	for (int i = 0; i < n; i++) {
		if (!burst && pipe2(hold, O_CLOEXEC))
			die("pipe");
		pids[i] = orphan(hold, i == 0);
		if (burst)
			continue;
		fds[pending++] = pidfd(pids[i]);
		close(hold[0]);
		close(hold[1]);
		/* Drop what is reaped already, so the stream needs few descriptors. */
		while (done < pending && reaped(fds[done]))
			close(fds[done++]);
	}
	if (burst) {
		for (int i = 0; i < n; i++)
			fds[pending++] = pidfd(pids[i]);
		start = now_ns();
		close(hold[0]);
		close(hold[1]);
	}
	struct timespec tick = { 0, 100000 };
	while (done < pending) {
		if (reaped(fds[done]))
			close(fds[done++]);
		else
			nanosleep(&tick, 0);
	}
	init_stats(out, now_ns() - start);
	fclose(out);
	return 0;
}
