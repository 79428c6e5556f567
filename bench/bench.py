#!/usr/bin/python3
"""husk next to its peers, in one run: sizes, init and sandbox start-up, memory, reaping,
system calls and instructions. Writes bench/results.md and bench/startup.png.

    bench/bench.py PATH/TO/husk [PATH/TO/aarch64/husk]    (run as root; `make bench`)

Environment: ROUNDS (300) timed rounds, WARMUP (20) rounds not counted, REAP_RUNS (5),
STREAM (20000) and BURST (10000) orphans, FLOORS (target/bench: the built bench/*.c).

Start-up times come from one pool: every round runs every start-up command once, in a
fresh random order, so drift on this shared machine (another build, a CPU frequency step)
lands on all commands alike instead of on whichever ran last. Each table's ratio is the
median of the per-round ratios to its baseline, which cancels that drift once more.
"""

import datetime
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

ROUNDS = int(os.environ.get("ROUNDS", "300"))
WARMUP = int(os.environ.get("WARMUP", "20"))
REAP_RUNS = int(os.environ.get("REAP_RUNS", "5"))
STREAM = int(os.environ.get("STREAM", "20000"))
BURST = int(os.environ.get("BURST", "10000"))
NOBODY = "65534"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
# Peers read their own variables (TINI_SUBREAPER...): every command gets the same few.
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C"}
SANDBOX = ["--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]

FLOOR_SANDBOX_LEAVES_OUT = """\
floor-sandbox makes the same namespaces (user with the same id maps written by the parent
through /proc/PID/uid_map, setgroups and gid_map; mount, pid, ipc, uts, cgroup, and net
unless --share-net) and the same mounts, with the same system calls (the mount trees
compare equal in /proc/self/mountinfo, as root and rootless): the staging tmpfs and
pivot_root, the tmpfs root, the recursive read-only bind of /, proc with /proc/sys, irq,
bus, sysrq-trigger read-only, kcore, keys, timer_list and the like covered by /dev/null,
acpi, scsi, asound by empty tmpfs, and the tmpfs /dev with the six device binds, devpts,
shm and the symlinks. It does not do what husk does besides:
- no loopback up in the new network namespace, no sethostname;
- no closing of inherited descriptors (close_range), no setup-error pipe, no "started"
  pipe to the monitor, no parent-death signal, no check of the foreground process group;
- no capability drop, no no_new_privs, no seccomp filter, no landlock, not made
  non-dumpable;
- no check of /proc and /dev after the pivot (husk's fstatfs of each);
- no signal forwarding or reaping of others: the monitor and the init only wait;
- no option parsing, no environment block, no PATH search (it is given an absolute path).
"""


@dataclass
class Cmd:
    group: str
    name: str
    argv: list
    times: list = field(default_factory=list)
    faults: list = field(default_factory=list)  # minor page faults of each run, all processes
    failed: int = 0


@dataclass
class Group:
    key: str
    title: str
    baseline: str
    extra_ratio: str = ""  # a second ratio column, against this command (bwrap)


class Report:
    """Everything printed also goes to results.md."""

    def __init__(self):
        self.lines = []

    def __call__(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    def skip(self, name, reason):
        self(f"SKIP {name}: {reason}")

    def table(self, headers, rows):
        self("| " + " | ".join(headers) + " |")
        self("|" + "---|" * len(headers))
        for row in rows:
            self("| " + " | ".join(str(c) for c in row) + " |")
        self()


out = Report()


def num(n):
    return f"{n:,.0f}"


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1][:160] if lines else "no output"


class Bench:
    """The binaries, copied into a directory uid 65534 may read (the checkout may not be)."""

    def __init__(self, husk, husk_arm, floors, tmp):
        self.tmp = tmp
        self.husk_src, self.husk_arm = husk, husk_arm
        self.husk = self.copy(husk, "husk")
        self.tool = {}
        for name in ["true", "floor-init", "floor-sandbox", "runas", "orphans"]:
            path = os.path.join(floors, name)
            if not os.access(path, os.X_OK):
                sys.exit(f"bench.py: {path} missing: `make bench` builds bench/*.c there")
            self.tool[name] = self.copy(path, name)
        self.T = self.tool["true"]
        self.peers = {name: shutil.which(name, path=ENV["PATH"]) for name in
                      ["tini-static", "tini", "catatonit", "dumb-init", "bwrap", "unshare"]}

    def copy(self, path, name):
        dest = os.path.join(self.tmp, name)
        shutil.copy(path, dest)
        os.chmod(dest, 0o755)
        return dest

    def peer(self, name):
        """The peer's path, or None after printing why it is skipped."""
        path = self.peers.get(name)
        if not path:
            out.skip(name, "not installed")
        return path

    def inits(self):
        """(name, argv before the command) of each init as a plain child."""
        rows = [("floor-init", [self.tool["floor-init"]]), ("husk", [self.husk, "--"])]
        for name, sep in [("tini-static", ["--"]), ("tini", ["--"]), ("catatonit", ["--"]),
                          ("dumb-init", [])]:
            if self.peers.get(name):
                rows.append((name, [self.peers[name]] + sep))
        return rows

    def sandboxes(self, share_net):
        """(name, argv before the command) of each sandbox, with or without a network
        namespace."""
        net = ["--share-net"] if share_net else []
        rows = [("floor-sandbox", [self.tool["floor-sandbox"]] + net),
                ("husk", [self.husk] + SANDBOX[:1] + net + SANDBOX[1:])]
        if self.peers.get("bwrap"):
            rows.append(("bwrap", [self.peers["bwrap"]] + SANDBOX[:1] + net + SANDBOX[1:]))
        if self.peers.get("unshare"):
            flags = "-Urfpimu" + ("" if share_net else "n")
            rows.append(("unshare", [self.peers["unshare"], flags, "--mount-proc"]))
        return rows

    def as_nobody(self, argv):
        return [self.tool["runas"], NOBODY, NOBODY] + argv


def run_quiet(argv, timeout=60):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env=ENV, timeout=timeout)


# ---- 1. sizes ---------------------------------------------------------------------------

def stripped_size(path, tmp):
    """Bytes of a stripped copy (GNU strip knows only the host's machine; llvm-strip any)."""
    dest = os.path.join(tmp, "stripped")
    for tool in ["strip", "llvm-strip"]:
        if shutil.which(tool) and subprocess.run([tool, "-o", dest, path],
                                                 capture_output=True).returncode == 0:
            return os.path.getsize(dest)
    return None


def shared_libraries(path):
    """Files ldd says the binary loads (the vDSO has none); [] for a static binary."""
    r = subprocess.run(["ldd", path], capture_output=True, text=True)
    if r.returncode != 0:
        return []
    libs = []
    for line in r.stdout.splitlines():
        m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if m:
            libs.append(os.path.realpath(m.group(1)))
    return libs


def sizes(b):
    out("## 1. Sizes")
    out()
    bins = [("husk x86_64", b.husk_src)]
    if b.husk_arm and os.path.exists(b.husk_arm):
        bins.append(("husk aarch64", b.husk_arm))
    else:
        out.skip("husk aarch64", f"{b.husk_arm} not built (make aarch64)")
    bins += [("floor-init", b.tool["floor-init"]), ("floor-sandbox", b.tool["floor-sandbox"])]
    bins += [(n, b.peers[n]) for n in ["tini-static", "tini", "catatonit", "dumb-init",
                                       "bwrap", "unshare"] if b.peer(n)]
    rows, data = [], []
    for name, path in bins:
        stripped = stripped_size(path, b.tmp)
        libs = shared_libraries(path)
        loaded = os.path.getsize(path) + sum(os.path.getsize(l) for l in libs)
        linkage = "static" if not libs else ", ".join(os.path.basename(l) for l in libs)
        rows.append([name, num(stripped) if stripped else "?", num(loaded), linkage])
        data.append((name, stripped or os.path.getsize(path), loaded))
    out.table(["binary", "stripped bytes", "loaded bytes (binary + shared libraries)",
               "shared libraries"], rows)
    return data


# ---- 2 and 3: the start-up pool ---------------------------------------------------------

def startup_pool(b):
    """Every start-up command of sections 2 and 3, grouped, each checked to run once."""
    groups = [Group("child", "init start-up, plain child: `INIT -- T`", "floor-init"),
              Group("pid1", "init start-up, PID 1 of a new pid namespace: "
                    "`unshare --pid --fork INIT -- T`", "floor-init")]
    cmds = [Cmd("child", "T alone", [b.T])]
    unshare = b.peers.get("unshare")
    if unshare:
        cmds.append(Cmd("pid1", "unshare alone", [unshare, "--pid", "--fork", b.T]))
    for name, pre in b.inits():
        cmds.append(Cmd("child", name, pre + [b.T]))
        if unshare:
            cmds.append(Cmd("pid1", name, [unshare, "--pid", "--fork"] + pre + [b.T]))
    if not unshare:
        out.skip("init start-up as PID 1", "unshare not installed")
    for user in ["root", "rootless"]:
        for share_net in [False, True]:
            key = f"{user}{'-sharenet' if share_net else ''}"
            who = "root" if user == "root" else f"uid {NOBODY}"
            net = "host network (--share-net)" if share_net else "new network namespace"
            groups.append(Group(key, f"sandbox start-up, {who}, {net}", "floor-sandbox",
                                "bwrap"))
            if user == "rootless" and not share_net:
                cmds.append(Cmd(key, "runas alone", b.as_nobody([b.T])))
            for name, pre in b.sandboxes(share_net):
                argv = pre + [b.T]
                cmds.append(Cmd(key, name, b.as_nobody(argv) if user == "rootless" else argv))
    runnable = []
    for c in cmds:
        r = run_quiet(c.argv)
        if r.returncode != 0:
            out.skip(f"{c.name} ({c.group})", f"exit {r.returncode}: {last_line(r.stderr)}")
        else:
            runnable.append(c)
    return groups, runnable


def spawn_wait(argv, devnull):
    """Nanoseconds from before the fork to after the wait; the exit status; the minor page
    faults of the process and of every descendant it waited for (wait4's rusage)."""
    actions = [(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (0, 1, 2)]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, ENV, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    return time.perf_counter_ns() - t0, status, usage.ru_minflt


def time_pool(cmds):
    devnull = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    order = list(cmds)
    for rnd in range(WARMUP + ROUNDS):
        random.shuffle(order)
        for c in order:
            ns, status, faults = spawn_wait(c.argv, devnull)
            if rnd < WARMUP:
                continue
            if status != 0:
                c.failed += 1
            # A failed run keeps its slot (None), so per-round ratios still pair up.
            c.times.append(ns if status == 0 else None)
            c.faults.append(faults)
    os.close(devnull)


def ratio(c, base):
    pairs = [a / b for a, b in zip(c.times, base.times) if a and b]
    return f"{statistics.median(pairs):.2f}x" if pairs else "-"


def startup_table(group, cmds):
    mine = [c for c in cmds if c.group == group.key]
    by_name = {c.name: c for c in mine}
    base, extra = by_name.get(group.baseline), by_name.get(group.extra_ratio)
    out(f"### {group.title}")
    out()
    headers = ["command", "median µs", "p10–p90 µs", "page faults", f"÷ {group.baseline}"]
    if group.extra_ratio:
        headers.append(f"÷ {group.extra_ratio}")
    rows, medians = [], {}
    for c in mine:
        ok = [t / 1000 for t in c.times if t]
        if len(ok) < 2:
            out.skip(c.name, f"only {len(ok)} of {ROUNDS} runs succeeded")
            continue
        q = statistics.quantiles(ok, n=10)
        med = statistics.median(ok)
        medians[c.name] = med
        row = [c.name + (f" ({c.failed} failed)" if c.failed else ""), num(med),
               f"{num(q[0])}–{num(q[-1])}", num(statistics.median(c.faults)),
               ratio(c, base) if base else "-"]
        if group.extra_ratio:
            row.append(ratio(c, extra) if extra else "-")
        rows.append(row)
    out.table(headers, rows)
    return medians


def init_startup(groups, cmds):
    out("## 2. Init start-up")
    out()
    out(f"T is a static musl `true`. Medians of {ROUNDS} interleaved rounds; "
        "÷ is the median of per-round ratios; page faults, the median of a start's minor "
        "page faults, every process's (wait4's rusage: T's own included).")
    out()
    return {g.key: startup_table(g, cmds) for g in groups if g.key in ("child", "pid1")}


def sandbox_startup(groups, cmds):
    out("## 3. Sandbox start-up")
    out()
    out(f"`husk {' '.join(SANDBOX)} T`, bwrap with the same arguments, "
        "`unshare -Urfpimu[n] --mount-proc T`; rootless through bench/runas.c (static "
        "setresuid + exec: its own cost is the `runas alone` row, inside every rootless "
        "time).")
    out()
    return {g.key: startup_table(g, cmds) for g in groups if g.key not in ("child", "pid1")}


# ---- 4. memory --------------------------------------------------------------------------

def parents():
    """pid -> ppid of every process."""
    tree = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            tree[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
    return tree


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def rss_uss(pid):
    """VmRSS and Private_Clean + Private_Dirty, kB."""
    with open(f"/proc/{pid}/status") as f:
        rss = int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))
    with open(f"/proc/{pid}/smaps_rollup") as f:
        text = f.read()
    uss = sum(int(v) for v in re.findall(r"^Private_(?:Clean|Dirty):\s+(\d+)", text, re.M))
    return rss, uss


def chain_memory(argv, depth):
    """Spawns argv with a sleeping payload and returns (rss, uss) of the first `depth`
    processes of the chain down to the payload, once the payload has exec'd sleep."""
    p = subprocess.Popen(argv + ["/bin/sleep", "30"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            tree, chain = parents(), [p.pid]
            while len(chain) <= depth:
                kids = [k for k, v in tree.items() if v == chain[-1]]
                if not kids:
                    break
                chain.append(kids[0])
            if len(chain) == depth + 1 and comm(chain[-1]) == "sleep":
                return [rss_uss(pid) for pid in chain[:depth]]
            time.sleep(0.02)
        raise RuntimeError("the payload did not start")
    finally:
        # The chain is found before anything dies: an orphan is reparented out of reach.
        for pid in reversed(descendants(p.pid)):
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        p.kill()
        p.wait()


def descendants(top):
    tree = parents()
    todo, seen = [top], []
    while todo:
        pid = todo.pop()
        kids = [k for k, v in tree.items() if v == pid]
        seen += kids
        todo += kids
    return seen


def median_memory(argv, depth, samples=3):
    runs = [chain_memory(argv, depth) for _ in range(samples)]
    return [(statistics.median(r[i][0] for r in runs), statistics.median(r[i][1] for r in runs))
            for i in range(depth)]


def memory(b):
    out("## 4. Memory")
    out()
    out("kB, median of 3 samples, taken while the payload (`/bin/sleep`) runs. "
        "USS = Private_Clean + Private_Dirty of /proc/PID/smaps_rollup. As root.")
    out()
    rows = []
    for name, pre in b.inits():
        try:
            [(rss, uss)] = median_memory(pre, 1)
            rows.append([name, num(rss), num(uss)])
        except Exception as e:  # one failing peer must not end the run
            out.skip(f"{name} memory", str(e))
    out.table(["init (plain child)", "VmRSS", "USS"], rows)
    rows = []
    for name, pre in b.sandboxes(share_net=False):
        depth = 1 if name == "unshare" else 2
        try:
            procs = median_memory(pre, depth)
            cells = [f"{num(r)} / {num(u)}" for r, u in procs] + ["(execs the payload)"]
            rows.append([name] + cells[:2])
        except Exception as e:
            out.skip(f"{name} memory", str(e))
    out.table(["sandbox", "host-side process (monitor): VmRSS / USS",
               "inside: PID 1 (init): VmRSS / USS"], rows)


# ---- 5. reaping -------------------------------------------------------------------------

def reaping_inits(b):
    """(name, how, argv before the payload): one way per init."""
    rows = [("husk", "subreaper: husk -s", [b.husk, "-s", "--"])]
    if b.peers.get("tini"):
        rows.append(("tini", "subreaper: tini -s", [b.peers["tini"], "-s", "--"]))
    if b.peers.get("catatonit"):
        rows.append(("catatonit", "subreaper (it registers itself when not PID 1)",
                     [b.peers["catatonit"], "--"]))
    if b.peers.get("dumb-init") and b.peers.get("unshare"):
        rows.append(("dumb-init", "PID 1: unshare --pid --fork --mount-proc (no subreaper mode)",
                     [b.peers["unshare"], "--pid", "--fork", "--mount-proc",
                      b.peers["dumb-init"]]))
    return rows


def reaping(b):
    out("## 5. Reaping")
    out()
    out(f"bench/orphans.c: stream = {num(STREAM)} orphans one after another (each a "
        f"grandchild that dies once orphaned), burst = {num(BURST)} orphans blocked on one "
        "pipe, then released at once. Wall: the payload's clock until its last orphan's "
        "pidfd says reaped (burst: from the release). CPU: utime+stime of the init, and "
        "wake-ups: its voluntary+nonvoluntary context switches, all read from /proc by "
        f"the payload just before it exits. Median of {REAP_RUNS} runs, interleaved.")
    out()
    inits = reaping_inits(b)
    for name, how, _ in inits:
        out(f"- {name}: {how}")
    out()
    tick = os.sysconf("SC_CLK_TCK")
    result = {}
    outfile = os.path.join(b.tmp, "orphans.out")
    jobs = [(name, pre, mode) for name, _, pre in inits for mode in ("stream", "burst")]
    for _ in range(REAP_RUNS):
        random.shuffle(jobs)
        for name, pre, mode in jobs:
            n = STREAM if mode == "stream" else BURST
            r = run_quiet(pre + [b.tool["orphans"], mode, str(n), outfile], timeout=600)
            key = (name, mode)
            if r.returncode != 0:
                result[key] = f"exit {r.returncode}: {last_line(r.stderr)}"
                continue
            with open(outfile) as f:
                wall, ut, st, vol, nonvol, runtime = map(int, f.read().split())
            if isinstance(result.setdefault(key, []), list):
                result[key].append((wall / 1e6, (ut + st) / tick * 1e6 / n, runtime / 1e3 / n,
                                    vol + nonvol))
    rows = []
    for name, _, _ in inits:
        row = [name]
        for mode in ("stream", "burst"):
            runs = result.get((name, mode), "no run")
            if isinstance(runs, str):
                out.skip(f"{name} {mode}", runs)
                row += ["-"] * 4
                continue
            med = [statistics.median(r[i] for r in runs) for i in range(4)]
            row += [f"{med[0]:,.0f}", f"{med[1]:.2f}", f"{med[2]:.2f}", num(med[3])]
        rows.append(row)
    cols = ["wall ms", "CPU µs/orphan (utime+stime)", "CPU µs/orphan (schedstat)", "wake-ups"]
    out.table(["init"] + [f"{m} {c}" for m in ("stream", "burst") for c in cols], rows)
    out(f"utime+stime count ticks of {1000 // tick} ms: {1e4 / STREAM:.2f} µs per orphan in "
        f"the stream, {1e4 / BURST:.2f} in the burst; schedstat's CPU time (the first field "
        "of /proc/PID/schedstat) is the same quantity in ns. The stream's wall time is "
        "mostly the payload's own forking, the same for every init.")
    out()


# ---- 6. system calls and instructions ---------------------------------------------------

def strace_calls(argv, tmp):
    """Total system calls of argv and every process it starts, or a reason."""
    if not shutil.which("strace"):
        return "strace not installed"
    f = os.path.join(tmp, "strace.out")
    r = run_quiet(["strace", "-f", "-c", "-o", f] + argv)
    if r.returncode != 0:
        return f"exit {r.returncode}: {last_line(r.stderr)}"
    with open(f) as fh:
        for line in fh:
            cols = line.split()
            if cols and cols[-1] == "total":
                return int(cols[3])
    return "no total in strace's summary"


def syscalls(b, groups, cmds):
    out("## 6. System calls and instructions")
    out()
    out("System calls per start, `strace -f -c` (every process, T's own included: "
        "the `T alone` row).")
    out()
    for keys, title in [(["child", "pid1"], "init"),
                        (["root", "root-sharenet", "rootless", "rootless-sharenet"],
                         "sandbox")]:
        names = []
        for c in cmds:
            if c.group in keys and c.name not in names:
                names.append(c.name)
        by = {(c.group, c.name): c for c in cmds}
        rows = []
        for name in names:
            row = [name]
            for k in keys:
                c = by.get((k, name))
                calls = strace_calls(c.argv, b.tmp) if c else "-"
                if isinstance(calls, str) and c:
                    out.skip(f"strace {name} ({k})", calls)
                    calls = "-"
                row.append(num(calls) if isinstance(calls, int) else calls)
            rows.append(row)
        titles = {g.key: g.title.split(", ", 1)[1] for g in groups}
        out.table([title] + [titles[k] for k in keys], rows)
    callgrind(b)


def callgrind(b):
    out("Instructions of the init's own process, `valgrind --tool=callgrind INIT -- T` "
        "(callgrind follows only the init; the child's steps between fork and exec are not "
        "counted): Ir total.")
    out()
    if not shutil.which("valgrind"):
        out.skip("callgrind", "valgrind not installed")
        return
    rows = []
    for name, pre in b.inits():
        d = tempfile.mkdtemp(dir=b.tmp)
        r = run_quiet(["valgrind", "--tool=callgrind",
                       f"--callgrind-out-file={d}/cg.%p"] + pre + [b.T], timeout=120)
        files = os.listdir(d)
        total = None
        for fname in files:
            with open(os.path.join(d, fname)) as f:
                m = re.search(r"^totals:\s+(\d+)", f.read(), re.M)
            total = int(m.group(1)) if m else total
        if r.returncode != 0 or total is None:
            out.skip(f"callgrind {name}", f"exit {r.returncode}: {last_line(r.stderr)}")
            continue
        rows.append([name, num(total)])
    out.table(["init", "Ir"], rows)


# ---- the chart --------------------------------------------------------------------------

def chart(init_medians, sandbox_medians, size_data, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        out.skip("chart", "matplotlib not installed (Debian: python3-matplotlib)")
        return
    fig, axes = plt.subplots(3, 1, figsize=(10, 13))

    def bars(ax, series, title, unit):
        names = []
        for _, values in series:
            names += [n for n in values if n not in names]
        width = 0.8 / max(len(series), 1)
        for i, (label, values) in enumerate(series):
            xs = [j + i * width for j, n in enumerate(names) if n in values]
            ax.bar(xs, [values[n] for n in names if n in values], width, label=label)
        ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(names))])
        ax.set_xticklabels(names, rotation=15, fontsize=8)
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.legend(fontsize=8)

    bars(axes[0], [("plain child", init_medians.get("child", {})),
                   ("PID 1 (unshare --pid --fork)", init_medians.get("pid1", {}))],
         "init start-up `INIT -- T`, median", "µs")
    bars(axes[1], [(k, v) for k, v in sandbox_medians.items()],
         "sandbox start-up, median", "µs")
    bars(axes[2], [("stripped", {n: s / 1024 for n, s, _ in size_data}),
                   ("loaded with shared libraries", {n: l / 1024 for n, _, l in size_data})],
         "size", "KiB")
    axes[2].set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    out(f"chart: {os.path.relpath(path, REPO)}")


# ---- main -------------------------------------------------------------------------------

def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
        cpu = m.group(1) if m else cpu
    versions = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${Version}, ", "tini", "catatonit",
         "dumb-init", "bubblewrap", "util-linux", "strace", "valgrind"],
        capture_output=True, text=True).stdout.strip(", ")
    git = ["git", "-C", REPO]
    commit = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
    # Only a change to what the binary is built from makes the commit name the wrong husk.
    if subprocess.run(git + ["status", "--porcelain", "--", "src", "Cargo.toml", "build.rs"],
                      capture_output=True, text=True).stdout.strip():
        commit += " with uncommitted changes"
    return cpu, versions, commit


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    if os.getuid() != 0:
        sys.exit("bench.py: run as root (it times rootless runs through bench/runas)")
    husk = os.path.abspath(sys.argv[1])
    arm = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        REPO, "target/aarch64-unknown-linux-musl/release/husk")
    floors = os.environ.get("FLOORS", os.path.join(REPO, "target/bench"))
    start = time.monotonic()
    cpu, versions, commit = machine()
    tmp = tempfile.mkdtemp(prefix="husk-bench.")
    os.chmod(tmp, 0o755)
    try:
        b = Bench(husk, arm, floors, tmp)
        out("# husk next to its peers")
        out()
        out(f"{datetime.date.today()}, kernel {os.uname().release}, {cpu} "
            f"({os.cpu_count()} CPUs), {ROUNDS} rounds (+{WARMUP} warm-up), "
            f"husk built from {commit}. Peers: {versions}.")
        out()
        size_data = sizes(b)
        groups, cmds = startup_pool(b)
        t = time.monotonic()
        time_pool(cmds)
        out(f"(The start-up pool: {len(cmds)} commands x {ROUNDS + WARMUP} rounds, "
            f"{time.monotonic() - t:.0f} s.)")
        out()
        init_medians = init_startup(groups, cmds)
        sandbox_medians = sandbox_startup(groups, cmds)
        out("What floor-sandbox does and does not do:")
        out()
        out(FLOOR_SANDBOX_LEAVES_OUT)
        memory(b)
        reaping(b)
        syscalls(b, groups, cmds)
        titles = {g.key: g.title.split(", ", 1)[1] for g in groups}
        chart(init_medians, {titles[k]: v for k, v in sandbox_medians.items()}, size_data,
              os.path.join(HERE, "startup.png"))
        out()
        out(f"Whole run: {time.monotonic() - start:.0f} s.")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with open(os.path.join(HERE, "results.md"), "w") as f:
        f.write("\n".join(out.lines) + "\n")


if __name__ == "__main__":
    main()
