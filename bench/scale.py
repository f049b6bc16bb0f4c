#!/usr/bin/env python3
"""bench/scale.py — supervise-scan with many services (issue 14 item 4).

    python3 bench/scale.py [--services 1000,10000] [--idle 60] [--svc-reps 5]

For each N of --services in turn, in one run: N services of `sleep` under one
supervise-scan. It measures the time until all N run (scanner start to the last
service's exec), a reload that changes one section out of N (SIGHUP to the changed
service running its new command, and proof that the other N-1 are untouched: same
service pid, same supervise pid, logs unchanged), `svc --root ROOT status` of all N,
CPU time and context switches of the scanner and every supervise over an idle window,
private memory (scanner, per supervise, per service; PSS and Private_Dirty after sync),
and an orderly shutdown (SIGTERM to the scanner exiting, none left, checked by pid).
Prints a Markdown table with the targets of issue 14 and saves it with the raw figures
as bench/results/DATE-scale.md and .json.

Run it as root: timings then come from the kernel's proc connector (bench/run's), and the
benchmark raises RLIMIT_NOFILE and RLIMIT_NPROC for itself and everything it starts
(it says so in the table header). It checks the kernel limits N services need (pid_max,
threads-max, the pids cgroup, open files, inotify) and refuses to start a size that
cannot fit. Every process it starts is killed by pid at the end, also on an error,
Ctrl-C or SIGTERM (bench/run's subreaper bookkeeping).
"""

import argparse
import datetime
import importlib.machinery
import importlib.util
import os
import resource
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_loader = importlib.machinery.SourceFileLoader("bench_run", os.path.join(HERE, "run"))
_spec = importlib.util.spec_from_loader("bench_run", _loader)
B = importlib.util.module_from_spec(_spec)
_loader.exec_module(B)

MS = 1e6  # ns per ms
S = 1e9  # ns per s
# An estimate of what one service costs in memory here (its supervise and its `sleep`,
# private and page tables), for the check before a size starts.
KB_PER_SERVICE = 400

log = B.log
Failed = B.Failed


# --------------------------------------------------------------------------------------
# processes, identified by pid and start time (a pid alone may be reused)


def status_pid(path):
    """The service pid in a status file (bytes 16..20), 0 when down or unreadable."""
    b = B.read_bytes(path)
    return struct.unpack_from("<I", b, 16)[0] if len(b) >= 20 else 0


def stat_of(pid):
    """(state, ppid, start time in ticks) of pid, or None when it does not exist."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1]), int(fields[19])


def alive(pid, start):
    """Whether the process that had this pid and start time still runs (not a zombie)."""
    st = stat_of(pid)
    return st is not None and st[2] == start and st[0] not in ("Z", "X")


def cmdline(pid):
    return B.read_bytes(f"/proc/{pid}/cmdline").split(b"\0")


def log_sizes(sdir):
    sizes = []
    for name in ("supervise.log", "supervise.log.wf"):
        try:
            sizes.append(os.stat(os.path.join(sdir, name)).st_size)
        except OSError:
            sizes.append(-1)
    return tuple(sizes)


def wait_quiet(pid, still=0.5, timeout=10.0):
    """Wait until pid has used no CPU for `still` seconds (its reload work is done)."""
    deadline = time.monotonic() + timeout
    last, since = B.cpu_ns(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = B.cpu_ns(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= still:
            return True
    return False


# --------------------------------------------------------------------------------------
# limits


def read_int(path):
    try:
        with open(path) as f:
            text = f.read().strip()
        return None if text == "max" else int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pids_cgroup_max():
    """The pids.max of our cgroup (v2, or the v1 pids hierarchy), None when unlimited."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            base = "/sys/fs/cgroup"
        elif "pids" in controllers.split(","):
            base = "/sys/fs/cgroup/pids"
        else:
            continue
        got = read_int(os.path.join(base + path, "pids.max"))
        if got is not None:
            return got
    return None


def tasks_now():
    """Threads on the machine now (the total of /proc/loadavg's 4th field)."""
    with open("/proc/loadavg") as f:
        return int(f.read().split()[3].split("/")[1])


def mem_available_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return None


def kernel_limits(n):
    """[(name, value, needed, ok)] for what N services need: a supervise and a
    service per section plus the scanner, on top of what already runs; about ten
    open files per supervise; inotify: the scanner's two instances (start order,
    output) and the benchmark's (supervise holds none), a watch per status directory;
    memory."""
    tasks = tasks_now() + 2 * n + 64
    rows = [
        ("kernel.pid_max", read_int("/proc/sys/kernel/pid_max"), tasks),
        ("kernel.threads-max", read_int("/proc/sys/kernel/threads-max"), tasks),
        ("pids cgroup pids.max", pids_cgroup_max(), tasks),
        ("fs.file-max", read_int("/proc/sys/fs/file-max"),
         read_int("/proc/sys/fs/file-nr") + 10 * n),
        ("fs.nr_open", read_int("/proc/sys/fs/nr_open"), nofile_wanted(n)),
        ("fs.inotify.max_user_instances",
         read_int("/proc/sys/fs/inotify/max_user_instances"), 3),
        ("fs.inotify.max_user_watches", read_int("/proc/sys/fs/inotify/max_user_watches"),
         n + 3),
        ("MemAvailable (kB)", mem_available_kb(), KB_PER_SERVICE * n),
    ]
    return [(name, value, need, value is None or value >= need) for name, value, need in rows]


# Limits that do not stop a size from running, only make it less than the normal case:
# a scanner that finds no inotify instance left reads what it would watch every few
# seconds.
ADVISORY = ("fs.inotify.max_user_instances", "fs.inotify.max_user_watches", "MemAvailable (kB)")


def too_low(limits):
    """The names of the limits too low to run at all."""
    return [name for name, _, _, ok in limits if not ok and name not in ADVISORY]


def nofile_wanted(n):
    # the scanner may hold a descriptor or two per supervise (pipes, pidfds)
    return 4 * n + 1024


def raise_rlimits(n):
    """Raise RLIMIT_NOFILE and RLIMIT_NPROC for N services (hard limits too, as root),
    for this process and so for everything it starts. Returns a line for the header."""
    root = os.geteuid() == 0
    nr_open = read_int("/proc/sys/fs/nr_open") or 1 << 20
    wanted = [("RLIMIT_NOFILE", resource.RLIMIT_NOFILE, min(nofile_wanted(n), nr_open)),
              ("RLIMIT_NPROC", resource.RLIMIT_NPROC, tasks_now() + 2 * n + 1024)]
    said = []
    inf = resource.RLIM_INFINITY
    for name, which, want in wanted:
        soft, hard = resource.getrlimit(which)
        new_hard = want if root and hard != inf and hard < want else hard
        new_soft = soft if soft == inf or soft >= want else min(want, new_hard)
        try:
            resource.setrlimit(which, (new_soft, new_hard))
        except (OSError, ValueError) as e:
            # root without CAP_SYS_RESOURCE (a container): the soft limit up to the hard
            log(f"cannot raise {name} to {want}: {e}")
            resource.setrlimit(which, (hard, hard))
        got = resource.getrlimit(which)

        def show(v):
            return "unlimited" if v == inf else str(v)
        said.append(f"{name} {show(soft)}/{show(hard)} → {show(got[0])}/{show(got[1])}"
                    + ("" if got[0] == inf or got[0] >= want else f" (wanted {want})"))
    return ", ".join(said) + " (soft/hard, set by the benchmark, inherited by the scanner, " \
        "every supervise and every service)"


# --------------------------------------------------------------------------------------
# one size


class Scale:
    """N services under one scanner, in a temporary directory of their own."""

    def __init__(self, n, procs, ev, binaries):
        self.n, self.procs, self.ev = n, procs, ev
        self.scan_bin, self.svc_bin = binaries
        self.tmp = procs.tmpdir(f"scale{n}")
        self.conf = os.path.join(self.tmp, "supervise.conf")
        self.root = os.path.join(self.tmp, "root")
        self.names = [f"s{i}" for i in range(n)]
        self.sdirs = [os.path.join(self.root, "status", nm) for nm in self.names]
        self.changed = n // 2  # the section the reload changes
        self.fig = {}
        self.errors = []
        self.notes = []
        self.scan = None
        self.write_conf(reloaded=False)

    def command(self, i, reloaded):
        base = 300000 if reloaded and i == self.changed else 100000
        return ["sleep", str(base + i)]

    def section_extra(self, i):
        """More lines for section I (a subclass adds `after`, say)."""
        return ""

    def extra_sections(self):
        """Sections after the N measured ones (a subclass adds some)."""
        return ""

    def write_conf(self, reloaded):
        # alarm_interval 0: no alarms and no restart limits, as in bench/run
        text = ["[global]\nalarm_interval : 0\n"]
        text += [f"\n[{nm}]\ncommand : {' '.join(self.command(i, reloaded))}\n"
                 + self.section_extra(i) for i, nm in enumerate(self.names)]
        text.append(self.extra_sections())
        tmp = self.conf + ".new"
        with open(tmp, "w") as f:
            f.write("".join(text))
        os.rename(tmp, self.conf)  # the scanner never reads half a file

    def status_file(self, i):
        return os.path.join(self.sdirs[i], "status")

    # -- start -------------------------------------------------------------------

    def start(self, timeout):
        n = self.n
        log(f"[N={n}] starting supervise-scan with {n} services")
        t_spawn = time.monotonic_ns()
        self.scan = self.procs.spawn([self.scan_bin, "-F", self.conf, "-d", self.root],
                                     cwd=self.tmp,
                                     stderr=open(os.path.join(self.tmp, "scan-stderr.txt"), "ab"))
        ev = self.ev
        if ev:
            ev.watch(self.scan.pid)
            t0 = ev.wait(lambda: ev.nth_exec(self.scan.pid, t_spawn, 1), 5) or t_spawn
        else:
            t0 = t_spawn
        self.t0 = t0  # the scanner's start, for a subclass's figures
        seen = {}  # i -> (pid, ns when a status pass saw it)
        pending = list(range(n))
        deadline = time.monotonic() + timeout
        last_pass = 0.0
        while pending:
            if self.scan.poll() is not None:
                raise Failed(f"supervise-scan exited with {self.scan.returncode} "
                             f"({n - len(pending)} of {n} up)")
            if time.monotonic() > deadline:
                raise Failed(f"only {n - len(pending)} of {n} services up after {timeout:g} s")
            # Reading N status files costs CPU the scanner needs: with kernel events,
            # read them only once the events say every service has exec'd (or every 2 s).
            if ev and self.started_services() < n and time.monotonic() - last_pass < 2:
                time.sleep(0.2)  # counting takes the event lock for O(N)
                continue
            t_pass = time.monotonic()
            still = []
            for i in pending:
                pid = status_pid(self.status_file(i))
                if pid > 0:
                    seen[i] = (pid, time.monotonic_ns())
                else:
                    still.append(i)
            pending = still
            last_pass = time.monotonic()
            if pending:
                time.sleep(max(0.1, 2 * (last_pass - t_pass)))
        # the time of each service's exec (kernel event), else when a pass saw it
        ups, guessed = [], 0
        for pid, t_seen in seen.values():
            execs = [ts for ts in (ev.execs.get(pid, ()) if ev else ()) if ts <= t_seen]
            if execs:
                ups.append(execs[-1])
            else:
                ups.append(t_seen)
                guessed += 1
        if guessed:
            self.notes.append(f"{guessed} of {n} start times are when a status pass saw them "
                              "(no exec event)")
        ups.sort()
        self.fig["up_s"] = (ups[-1] - t0) / S
        self.fig["up_half_s"] = (ups[(n - 1) // 2] - t0) / S
        self.fig["up_ms_per_service"] = (ups[-1] - t0) / MS / n

    def started_services(self):
        """Services exec'd so far by the kernel's events: exec'd children of the
        scanner's children (each supervise's service)."""
        ev = self.ev
        with ev.cv:
            return sum(1 for _, sup in ev.forks.get(self.scan.pid, ())
                       for _, child in ev.forks.get(sup, ()) if ev.execs.get(child))

    # -- what runs -----------------------------------------------------------------

    def snapshot(self):
        """Per section: (service pid, its start time, supervise pid, its start time)."""
        out = []
        for i in range(self.n):
            pid = status_pid(self.status_file(i))
            st = stat_of(pid) if pid else None
            sup = st[1] if st else 0
            sup_st = stat_of(sup) if sup else None
            out.append((pid, st[2] if st else None, sup, sup_st[2] if sup_st else None))
        return out

    def supervisors(self, snap):
        return [s[2] for s in snap if s[2]]

    # -- idle ----------------------------------------------------------------------

    def idle(self, window, snap):
        procs = [self.scan.pid] + self.supervisors(snap)
        log(f"[N={self.n}] idle: {len(procs)} processes, {window:g} s")
        before = {p: (B.cpu_ns(p), B.ctxsw(p)) for p in procs}
        time.sleep(window)
        after = {p: (B.cpu_ns(p), B.ctxsw(p)) for p in procs}
        cpu = cs = woken = gone = 0
        busiest = []
        for p in procs:
            (u0, c0), (u1, c1) = before[p], after[p]
            if None in (u0, c0, u1, c1):
                gone += 1
                continue
            cpu += u1 - u0
            cs += c1 - c0
            if u1 != u0 or c1 != c0:
                woken += 1
                busiest.append((u1 - u0, c1 - c0, p))
        self.fig["idle_cpu_ms"] = cpu / MS
        self.fig["idle_cs"] = cs
        self.fig["idle_woken"] = woken
        if gone:
            self.errors.append(f"idle: {gone} supervisor processes gone during the window")
        if busiest:
            who = ", ".join(f"pid {p}{' (scanner)' if p == self.scan.pid else ''}: "
                            f"{u / 1e3:.0f} µs, {c} switches"
                            for u, c, p in sorted(busiest, reverse=True)[:5])
            self.notes.append(f"idle: woken ({woken}), the busiest: {who}")

    # -- memory --------------------------------------------------------------------

    def memory(self, snap):
        log(f"[N={self.n}] memory: sync, then smaps_rollup of every process")
        os.sync()  # dirty page cache of mapped files would count as Private_Dirty
        scan = B.smaps_rollup(self.scan.pid) or {}
        sups = [m for m in map(B.smaps_rollup, self.supervisors(snap)) if m]
        services = [m for m in (B.smaps_rollup(s[0]) for s in snap if s[0]) if m]
        self.fig["mem_scan_pss"] = scan.get("Pss", 0)
        self.fig["mem_scan_pd"] = scan.get("Private_Dirty", 0)
        self.fig["mem_sup_pss"] = [m.get("Pss", 0) for m in sups]
        self.fig["mem_sup_pd"] = [m.get("Private_Dirty", 0) for m in sups]
        self.fig["mem_svc_pss"] = [m.get("Pss", 0) for m in services]
        self.fig["mem_svc_pd"] = [m.get("Private_Dirty", 0) for m in services]
        total = scan.get("Pss", 0) + sum(m.get("Pss", 0) for m in sups)
        self.fig["mem_pss_per_service"] = total / self.n

    # -- svc status ----------------------------------------------------------------

    def svc_status(self, reps):
        self.svc_timed(["--root", self.root, "status"], reps, "svc", listed_up)

    def svc_timed(self, argv, reps, fig, listed):
        """`svc ARGV` once with its output read (exit 0 and `listed(lines)` == N, or it is
        a problem), then `reps` times with output to /dev/null: wall and CPU (ms) as
        FIG_wall_ms and FIG_cpu_ms."""
        if not self.svc_bin:
            self.errors.append(f"svc not built: `svc {' '.join(argv)}` left out")
            return
        cmd = [self.svc_bin] + argv
        log(f"[N={self.n}] {' '.join(cmd)}: {reps} times")
        p = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL)
        got = listed(p.stdout.decode(errors="replace").splitlines())
        if p.returncode != 0 or got != self.n:
            self.errors.append(f"`svc {' '.join(argv)}`: exit {p.returncode}, {got} of "
                               f"{self.n} listed up")
        runs = [B.time_command(cmd) for _ in range(reps)]
        self.fig[f"{fig}_wall_ms"] = [wall for wall, _, _ in runs]
        self.fig[f"{fig}_cpu_ms"] = [cpu for _, cpu, _ in runs]

    # -- reload --------------------------------------------------------------------

    def reload(self, before):
        n, k = self.n, self.changed
        log(f"[N={n}] reload: section {self.names[k]} gets a new command, SIGHUP")
        sups = self.supervisors(before)
        logs0 = [log_sizes(d) for d in self.sdirs]
        cpu0 = {p: B.cpu_ns(p) for p in sups}
        scan_cpu0 = B.cpu_ns(self.scan.pid)
        old_pid = before[k][0]
        new_argv = [a.encode() for a in self.command(k, reloaded=True)]
        self.write_conf(reloaded=True)
        watch = B.DirWatch(self.sdirs[k])
        try:
            t_hup = time.monotonic_ns()
            os.kill(self.scan.pid, signal.SIGHUP)
            t_status = watch.wait(lambda: status_pid(self.status_file(k)) not in (0, old_pid),
                                  30)
        finally:
            watch.close()
        if t_status is None:
            raise Failed(f"reload: {self.names[k]} has no new service 30 s after SIGHUP")
        pid = status_pid(self.status_file(k))
        self.fig["reload_status_s"] = (t_status - t_hup) / S
        # the status may name the child a moment before it has exec'd its command
        if not B.wait_until(lambda: cmdline(pid)[:len(new_argv)] == new_argv, 5, 0.001):
            raise Failed(f"reload: {self.names[k]} runs {cmdline(pid)}, not {new_argv}")
        t_exec = self.ev.wait(lambda: self.ev.nth_exec(pid, t_hup, 1), 5) if self.ev else None
        self.fig["reload_exec_s"] = ((t_exec or t_status) - t_hup) / S
        if not wait_quiet(self.scan.pid):
            self.errors.append("reload: the scanner was still busy 10 s after the SIGHUP")
        after = self.snapshot()
        self.fig["reload_scan_cpu_ms"] = (B.cpu_ns(self.scan.pid) - scan_cpu0) / MS
        untouched, others_cpu, moved = 0, 0, []
        for i in range(n):
            if i == k:
                continue
            same = (before[i] == after[i] and before[i][0] > 0
                    and log_sizes(self.sdirs[i]) == logs0[i])
            untouched += same
            if not same and len(moved) < 5:
                moved.append(self.names[i])
            sup = before[i][2]
            if sup in cpu0 and cpu0[sup] is not None:
                others_cpu += (B.cpu_ns(sup) or cpu0[sup]) - cpu0[sup]
        self.fig["reload_untouched"] = untouched
        self.fig["reload_others_cpu_ms"] = others_cpu / MS
        if untouched != n - 1:
            self.errors.append(f"reload: {n - 1 - untouched} of the other {n - 1} sections "
                               f"changed pid or logged something, e.g. {', '.join(moved)}")

    # -- shutdown ------------------------------------------------------------------

    def shutdown(self, timeout):
        snap = self.snapshot()
        mine = [(s[0], s[1]) for s in snap if s[0]] + [(s[2], s[3]) for s in snap if s[2]]
        log(f"[N={self.n}] shutdown: SIGTERM to the scanner")
        t_term = time.monotonic_ns()
        self.scan.send_signal(signal.SIGTERM)
        try:
            code = self.scan.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failed(f"shutdown: supervise-scan still running {timeout:g} s after SIGTERM")
        t_exit = None
        if self.ev:
            t_exit = self.ev.wait(lambda: self.ev.exit_of(self.scan.pid, t_term), 5)
        self.fig["down_s"] = ((t_exit or time.monotonic_ns()) - t_term) / S
        self.fig["down_code"] = code
        left = [pid for pid, start in mine if alive(pid, start)]
        self.fig["left"] = len(left)
        self.fig["left_of"] = len(mine)
        if code != 0:
            self.errors.append(f"shutdown: supervise-scan exited with {code}")
        if left:
            self.errors.append(f"shutdown: {len(left)} processes left, e.g. pids {left[:5]}")

    def scanner_stderr(self):
        text = B.read_bytes(os.path.join(self.tmp, "scan-stderr.txt")).decode(errors="replace")
        return [ln for ln in text.splitlines() if "WARNING" in ln or "FATAL" in ln][:5]


def listed_up(lines):
    """Services that `svc status` of a whole root lists as running: STATE `up`, or info's
    word `ready` where supervise writes DIR/info (the first line is the table's head)."""
    return sum(1 for ln in lines[1:] if ln.split()[1:2] in (["up"], ["ready"]))


def issue14_steps(sc, args):
    """The figures of issue 14 after the start: [(name, step)]."""
    time.sleep(args.settle)  # let start-up finish before the idle window
    snap = sc.snapshot()
    return [("idle", lambda: sc.idle(args.idle, snap)), ("memory", lambda: sc.memory(snap)),
            ("svc status", lambda: sc.svc_status(args.svc_reps)),
            ("reload", lambda: sc.reload(sc.snapshot()))]


def measure(n, procs, ev, binaries, args, cls=Scale, steps=issue14_steps):
    """Start N services (a `cls`), take the figures of `steps`, shut down; everything it
    started is killed when it returns."""
    sc = cls(n, procs, ev, binaries)
    try:
        sc.start(args.up_timeout)
        for name, step in steps(sc, args):
            try:
                step()
            except Exception as e:
                sc.errors.append(f"{name}: {e}")
    except Exception as e:
        sc.errors.append(f"start: {e}")
    try:
        if sc.scan and sc.scan.poll() is None:
            sc.shutdown(args.down_timeout)
    except Exception as e:
        sc.errors.append(f"shutdown: {e}")
    finally:
        sc.errors += [f"scanner said: {ln}" for ln in sc.scanner_stderr()]
        procs.kill_all()
        shutil.rmtree(sc.tmp, ignore_errors=True)
    for e in sc.errors:
        log(f"  ! N={n}: {e}")
    return sc


# --------------------------------------------------------------------------------------
# the table

# key, label, target text (for 10,000 services), check(value, n) -> bool
ZERO = lambda v, n: v == 0  # noqa: E731
ROWS = [
    ("up_s", "time until all N services run: scanner start → last service exec'd (s)",
     "≤ 30 s", lambda v, n: v <= 30),
    ("up_half_s", "… until half of them run (s)", None, None),
    ("up_ms_per_service", "… per service (ms)", None, None),
    ("reload_exec_s", "reload changing 1 section: SIGHUP → its service exec'd with the "
     "new command (s)", "≤ 0.5 s", lambda v, n: v <= 0.5),
    ("reload_status_s", "reload: SIGHUP → its status file names the new service (s)", None,
     None),
    ("reload_untouched", "reload: the other N−1 untouched (same service and supervise pid, "
     "logs unchanged)", "all", lambda v, n: v == n - 1),
    ("reload_scan_cpu_ms", "reload: scanner CPU (ms)", None, None),
    ("reload_others_cpu_ms", "reload: CPU of the other N−1 supervise (ms)", None, None),
    ("svc_wall_ms", "`svc --root ROOT status` of all N: wall (ms)", "≤ 1 s",
     lambda v, n: v <= 1000),
    ("svc_cpu_ms", "`svc --root ROOT status` of all N: CPU (ms)", None, None),
    ("down_s", "orderly shutdown: SIGTERM → scanner exited (s)", "≤ 15 s",
     lambda v, n: v <= 15),
    ("left", "left alive after shutdown (every supervise and service, by pid)", "0", ZERO),
    ("idle_cpu_ms", "idle {idle:g} s: CPU of the scanner and every supervise (ms)", "0",
     ZERO),
    ("idle_cs", "idle {idle:g} s: context switches of the scanner and every supervise", "0",
     ZERO),
    ("idle_woken", "idle {idle:g} s: of those processes, how many ran at all", None, None),
    ("mem_scan_pss", "memory: scanner PSS (kB)", None, None),
    ("mem_scan_pd", "memory: scanner Private_Dirty (kB)", None, None),
    ("mem_sup_pss", "memory: PSS per supervise (kB)", None, None),
    ("mem_sup_pd", "memory: Private_Dirty per supervise (kB)", "≤ 56 kB (item 3)",
     lambda v, n: v <= 56),
    ("mem_svc_pss", "memory: PSS per service, the `sleep` itself (kB)", None, None),
    ("mem_svc_pd", "memory: Private_Dirty per service, the `sleep` itself (kB)", None,
     None),
    ("mem_pss_per_service", "memory: scanner + every supervise, PSS per service (kB) ¹",
     None, None),
]


def value_of(v):
    return statistics.median(v) if isinstance(v, list) else v


def show(key, v, n):
    if v is None or v == []:
        return "—"
    if key == "reload_untouched":
        return f"{v:,} of {n - 1:,}"
    return B.cell(v) if isinstance(v, list) else B.fmt(v)


def table(runs, args):
    sizes = [sc.n for sc in runs]
    largest = runs[-1]
    head = ["figure"] + [f"N = {n:,}" for n in sizes] + ["target (issue 14)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label, target, check in ROWS:
        if not any(key in sc.fig for sc in runs):
            continue
        cells = [label.format(idle=args.idle)] + [show(key, sc.fig.get(key), sc.n)
                                                  for sc in runs]
        verdict = ""
        if target:
            v = largest.fig.get(key)
            verdict = target + ("" if v is None or v == [] else
                                " ✓" if check(value_of(v), largest.n) else " ✗")
        lines.append("| " + " | ".join(cells + [verdict]) + " |")
    small, big = runs[0], runs[-1]
    if len(runs) > 1 and small.fig.get("up_s") and big.fig.get("up_s"):
        ratio = big.fig["up_s"] / small.fig["up_s"]
        limit = 1.1 * big.n / small.n
        cells = [f"time({big.n:,}) / time({small.n:,}) until all run"] + [""] * (len(runs) - 1)
        cells += [f"{ratio:.2f}", f"≤ {limit:.3g} (1.1 × {big.n / small.n:.3g}) "
                  + ("✓" if ratio <= limit else "✗")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(runs, args, limits, rlimits, ev, started_at, took, load):
    sizes = ", ".join(f"{sc.n:,}" for sc in runs)
    largest = runs[-1].n
    out = [f"## Scale: supervise-scan with {sizes} services of `sleep`", "",
           *B.header("bench/scale.py", started_at, took, load, [B.Ours(None, None)], ev,
                     "status files read every 0.1 s or more"),
           f"- limits: {rlimits}",
           "- kernel (value, needed for the largest N): "
           + ", ".join(f"{name} {'unlimited' if v is None else v} ({need}{'' if ok else ' ✗'})"
                       for name, v, need, ok in limits),
           "- sections are `[sI]` with `command : sleep 1000NN` (100,000 + I); `[global]` "
           "`alarm_interval : 0` (no alarms, no limits); the reload gives section s(N/2) a "
           f"new command; `svc status` {args.svc_reps} times, cells median (min–max); memory: "
           f"median (min–max) over the processes, after `sync`",
           ]
    if largest != 10000:
        out.append(f"- the targets are for 10,000 services; the verdicts here are for "
                   f"the largest N of this run, {largest:,}")
    out += ["", table(runs, args), "",
            "¹ the native-mode figure of `bench/run` (there with 200 services): issue 14 "
            "wants it ≤ that run's one-supervisor-each PSS per service, both ≤ 0.8× "
            "daemontools."]
    notes = [f"N={sc.n:,}: {m}" for sc in runs for m in sc.notes]
    if notes:
        out += [""] + [f"- {m}" for m in notes]
    problems = [f"N={sc.n:,}: {m}" for sc in runs for m in sc.errors]
    if problems:
        out += ["", "Problems:"] + [f"- {m}" for m in problems]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------


def binaries(args):
    """(supervise-scan, svc or None), built first unless --no-build."""
    rel = args.bin or os.path.join(os.environ.get("CARGO_TARGET_DIR",
                                                  os.path.join(B.REPO, "target")), "release")
    if not args.no_build and not args.bin:
        log("building: cargo build --release")
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=B.REPO, check=True)
        os.sync()  # a freshly written binary's pages would count as Private_Dirty
    scan = os.path.join(rel, "supervise-scan")
    svc = os.path.join(rel, "svc")
    if not os.access(scan, os.X_OK):
        sys.exit(f"scale.py: {scan} is not an executable")
    return scan, svc if os.access(svc, os.X_OK) else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", default="1000,10000",
                    help="comma-separated sizes, run in turn (default 1000,10000)")
    ap.add_argument("--idle", type=float, default=60.0, help="idle window in s (default 60)")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="s between all up and the idle window (default 2)")
    ap.add_argument("--svc-reps", type=int, default=5, help="`svc status` runs (default 5)")
    ap.add_argument("--up-timeout", type=float, default=600.0,
                    help="s to wait for all services to run (default 600)")
    ap.add_argument("--down-timeout", type=float, default=120.0,
                    help="s to wait for the scanner to exit after SIGTERM (default 120)")
    ap.add_argument("--bin", help="directory of supervise-scan, supervise and svc (no build)")
    ap.add_argument("--no-build", action="store_true", help="do not run cargo build")
    ap.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    ap.add_argument("--poll", action="store_true",
                    help="no proc connector even as root (read status files)")
    args = ap.parse_args()
    try:
        sizes = sorted({int(s) for s in args.services.split(",")})
    except ValueError:
        sys.exit(f"scale.py: --services takes numbers separated by commas, not {args.services!r}")
    if not sizes or min(sizes) < 2:
        sys.exit("scale.py: every size must be at least 2 (the reload changes one of them)")

    limits = kernel_limits(max(sizes))
    for name, value, need, ok in limits:
        log(f"{name}: {'unlimited' if value is None else value} (needed: {need})"
            + ("" if ok else "  <-- too low"))
    short = too_low(limits)
    if short:
        sys.exit(f"scale.py: {', '.join(short)} too low for {max(sizes):,} services "
                 "(raise it with sysctl, or run fewer)")
    for name, _, _, ok in limits:
        if not ok and name in ADVISORY:
            log(f"warning: {name} may be too low for the largest size (the table header "
                "says so too)")
    rlimits = raise_rlimits(max(sizes))
    log(rlimits)
    scan_bin, svc_bin = binaries(args)

    procs = B.Procs()
    ev = B.kernel_events(args.poll)  # without: the status files are read instead
    started_at = datetime.datetime.now().astimezone()
    t_begin = time.monotonic()
    load0 = os.getloadavg()
    runs = B.run_cleanly(procs, ev, lambda: [measure(n, procs, ev, (scan_bin, svc_bin), args)
                                             for n in sizes])
    text = report(runs, args, limits, rlimits, ev, started_at, time.monotonic() - t_begin,
                  (load0[0], os.getloadavg()[0]))
    print(text)
    if not args.no_save:
        B.save(f"{started_at:%Y-%m-%d_%H%M%S}-scale", text,
               {"args": vars(args), "rlimits": rlimits, "kernel": [list(x) for x in limits],
                "sizes": {sc.n: {"figures": sc.fig, "errors": sc.errors, "notes": sc.notes}
                          for sc in runs}})


if __name__ == "__main__":
    main()
