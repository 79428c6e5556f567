/* floor-sandbox [--share-net] PROG ARG...: the namespaces and mounts husk makes for
 * `--unshare-all --ro-bind / / --proc /proc --dev /dev PROG`, with the same system calls
 * (the new mount API, openat2 inside the new root) and the same process split, and
 * nothing else: the time husk takes above this is husk's own. What it leaves out is listed
 * in bench/results.md. Any failure exits 125. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* musl's headers stop short of the new mount API: the uapi values. */
#define FSOPEN_CLOEXEC 0x1
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6
#define FSMOUNT_CLOEXEC 0x1
#define MOUNT_ATTR_RDONLY 0x1
#define MOUNT_ATTR_NOSUID 0x2
#define MOUNT_ATTR_NODEV 0x4
#define MOUNT_ATTR_NOEXEC 0x8
#define MOVE_MOUNT_F_EMPTY_PATH 0x4
#define MOVE_MOUNT_T_EMPTY_PATH 0x40
#define OPEN_TREE_CLONE 0x1
#define AT_RECURSIVE 0x8000
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_IN_ROOT 0x10

struct mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };
struct open_how { uint64_t flags, mode, resolve; };

static void die(const char *what) {
	perror(what);
	_exit(125);
}

static int check(long r, const char *what) {
	if (r < 0)
		die(what);
	return r;
}

static int new_fs(const char *type, const char *const *opts, unsigned attrs) {
	int fs = check(syscall(SYS_fsopen, type, FSOPEN_CLOEXEC), type);
	for (; opts && *opts; opts += 2)
		check(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, opts[0], opts[1], 0), opts[0]);
	check(syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, 0, 0, 0), "fsconfig");
	int m = check(syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs), "fsmount");
	close(fs);
	return m;
}

static void attach(int tree, int dir, const char *path) {
	unsigned flags = MOVE_MOUNT_F_EMPTY_PATH | (*path ? 0 : MOVE_MOUNT_T_EMPTY_PATH);
	check(syscall(SYS_move_mount, tree, "", dir, path, flags), "move_mount");
}

static void setattr(int tree, int recursive, uint64_t attrs) {
	struct mount_attr a = { .attr_set = attrs };
	unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
	check(syscall(SYS_mount_setattr, tree, "", flags, &a, sizeof a), "mount_setattr");
}

static int tree(int dir, const char *path, int recursive) {
	unsigned flags = OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
	return check(syscall(SYS_open_tree, dir, path, flags), path);
}

/* Mounts `t` over `target` with `attrs` on every submount. */
static void cover(int t, int target, uint64_t attrs) {
	setattr(t, 1, attrs);
	attach(t, target, "");
	close(t);
	close(target);
}

static int open_in(int root, const char *path, uint64_t extra) {
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra };
	return syscall(SYS_openat2, root, path, &how, sizeof how);
}

static int entry(int dir, const char *name) {
	return openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

static void harden_proc(int host, int proc) {
	static const char *const ro[] = { "sys", "sysrq-trigger", "irq", "bus" };
	static const char *const masked[] = { "kcore", "keys", "key-users", "timer_list",
		"sched_debug", "latency_stats", "timer_stats" };
	static const char *const emptied[] = { "acpi", "scsi", "asound" };
	static const char *const size0[] = { "size", "0", 0 };
	uint64_t all = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	for (unsigned i = 0; i < sizeof ro / sizeof *ro; i++) {
		int t = entry(proc, ro[i]);
		if (t >= 0)
			cover(tree(proc, ro[i], 1), t, all);
	}
	for (unsigned i = 0; i < sizeof masked / sizeof *masked; i++) {
		int t = entry(proc, masked[i]);
		if (t >= 0)
			cover(tree(host, "dev/null", 0), t, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	}
	for (unsigned i = 0; i < sizeof emptied / sizeof *emptied; i++) {
		int t = entry(proc, emptied[i]);
		if (t >= 0) {
			int e = new_fs("tmpfs", size0, all);
			attach(e, t, "");
			close(e);
			close(t);
		}
	}
}

static void populate_dev(int host, int dev) {
	static const char *const devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
	static const char *const pts_opts[] = { "ptmxmode", "0666", "mode", "0620", 0 };
	static const char *const links[][2] = { { "pts/ptmx", "ptmx" }, { "/proc/self/fd", "fd" },
		{ "/proc/self/fd/0", "stdin" }, { "/proc/self/fd/1", "stdout" },
		{ "/proc/self/fd/2", "stderr" }, { "/proc/kcore", "core" } };
	char path[32];
	for (unsigned i = 0; i < sizeof devices / sizeof *devices; i++) {
		close(check(openat(dev, devices[i], O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666), devices[i]));
		snprintf(path, sizeof path, "dev/%s", devices[i]);
		cover(tree(host, path, 0), check(entry(dev, devices[i]), devices[i]),
		      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RDONLY);
	}
	check(mkdirat(dev, "pts", 0755), "mkdir pts");
	int pts = new_fs("devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	int at = check(entry(dev, "pts"), "pts");
	attach(pts, at, "");
	close(pts);
	close(at);
	check(mkdirat(dev, "shm", 01777), "mkdir shm");
	for (unsigned i = 0; i < sizeof links / sizeof *links; i++)
		check(symlinkat(links[i][0], dev, links[i][1]), links[i][1]);
}

static void build_root(void) {
	static const char *const mode755[] = { "mode", "0755", 0 };
	check(mount(0, "/", 0, MS_REC | MS_PRIVATE, 0), "making mounts private");
	int host = check(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), "/");
	int cwd = check(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), ".");
	mode_t umask_was = umask(0);

	int staging = new_fs("tmpfs", mode755, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	attach(staging, AT_FDCWD, "/tmp");
	check(chdir("/tmp"), "chdir staging");
	check(mkdir("newroot", 0755), "mkdir newroot");
	check(mkdir("oldroot", 0755), "mkdir oldroot");
	check(syscall(SYS_pivot_root, ".", "oldroot"), "pivot_root (staging)");

	int top = new_fs("tmpfs", mode755, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	attach(top, AT_FDCWD, "/newroot");
	int root = check(open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC), "/newroot");

	/* --ro-bind / / */
	int t = tree(host, ".", 1);
	struct stat st;
	check(fstat(t, &st), "fstat");
	cover(t, check(open_in(root, ".", 0), "/"),
	      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_RDONLY);
	close(root);
	root = check(open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC), "/newroot");

	/* --proc /proc */
	int target = check(open_in(root, "proc", RESOLVE_NO_SYMLINKS), "/proc");
	int proc = new_fs("proc", 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	attach(proc, target, "");
	harden_proc(host, proc);
	close(proc);
	close(target);

	/* --dev /dev */
	target = check(open_in(root, "dev", RESOLVE_NO_SYMLINKS), "/dev");
	int dev = new_fs("tmpfs", mode755, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	attach(dev, target, "");
	populate_dev(host, dev);
	close(dev);
	close(target);

	check(chdir("/newroot"), "chdir /newroot");
	check(syscall(SYS_pivot_root, ".", "."), "pivot_root");
	check(umount2(".", MNT_DETACH), "detaching the old root");
	check(chdir("/"), "chdir /");
	umask(umask_was);
	close(root);
	close(host);
	close(cwd);
}

static void write_proc(pid_t pid, const char *file, const char *text) {
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	int fd = check(open(path, O_WRONLY | O_CLOEXEC), path);
	if (write(fd, text, strlen(text)) < 0)
		die(path);
	close(fd);
}

/* As husk: as root every id is itself, rootless the caller is 0 inside. */
static void write_maps(pid_t pid) {
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (uid == 0) {
		write_proc(pid, "uid_map", "0 0 4294967295\n");
		write_proc(pid, "gid_map", "0 0 4294967295\n");
		return;
	}
	snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
	write_proc(pid, "uid_map", map);
	write_proc(pid, "setgroups", "deny");
	snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
	write_proc(pid, "gid_map", map);
}

static int status_of(int st) {
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv) {
	int share_net = argc > 1 && !strcmp(argv[1], "--share-net");
	char **cmd = argv + 1 + share_net;
	if (!*cmd)
		return 125;
	unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
		CLONE_NEWUTS | CLONE_NEWCGROUP | (share_net ? 0 : CLONE_NEWNET);
	int maps[2];
	check(pipe2(maps, O_CLOEXEC), "pipe");
	pid_t pid = check(syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0), "clone");
	if (pid == 0) {
		char c;
		close(maps[1]);
		/* EOF: the maps are written. */
		while (read(maps[0], &c, 1) < 0)
			;
		close(maps[0]);
		build_root();
		pid_t child = check(fork(), "fork");
		if (child == 0) {
			execv(cmd[0], cmd);
			_exit(127);
		}
		int st;
		while (waitpid(child, &st, 0) < 0)
			;
		_exit(status_of(st));
	}
	close(maps[0]);
	write_maps(pid);
	close(maps[1]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		;
	return status_of(st);
}
