#!/usr/bin/env python3
"""Where the time of `d` goes, from the kernel's own trace: daemontools'
supervise and ours side by side, each supervising `sleep 1000`, get `d` (and
later `u`) in turn, and ftrace records what the two supervisors and their
services do. For each `d` the script reports, in µs from the control byte:

  supervisor runs the supervisor is woken and on a CPU
  TERM sent       it has read the byte and sent SIGTERM
  exit begins     the service runs again and starts dying
  memory gone     its address space is torn down
  zombie          its files are closed and its parent notified: "child gone"

    sudo python3 bench/stop_trace.py [--rounds 30] [--ours PATH]

Needs root and tracefs, daemontools' `supervise` on PATH, and ours built
(target/release). About 2 s per round. Traces in an instance of its own
(removed at the end), and kills everything it started, by pid and process
group, even on failure.
"""
import argparse, os, re, shutil, signal, statistics, struct, subprocess, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVENTS = ["sched/sched_process_exit", "sched/sched_switch", "signal/signal_generate",
          "mmap/exit_mmap"]
STEPS = ["supervisor runs", "TERM sent", "exit begins", "memory gone", "zombie"]


def tracefs_instance():
    """A trace instance of our own, so that the global trace is left alone."""
    for path in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
        if os.path.isdir(os.path.join(path, "instances")):
            instance = os.path.join(path, "instances", f"supervise-stop-trace-{os.getpid()}")
            os.mkdir(instance)
            return instance
    raise SystemExit("no tracefs (mount it, and run as root)")


def put(path, text):
    with open(path, "w") as f:
        f.write(text)


def service_pid(status_file, offset):
    try:
        with open(status_file, "rb") as f:
            pid = struct.unpack_from("<I", f.read(), offset)[0]
    except (OSError, struct.error):
        return 0
    return pid if pid and alive(pid) else 0


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_for(what, check, limit=10.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.001)
    raise SystemExit(f"timed out waiting for {what}")


def parse(trace, supervisors):
    """{kind: [[µs of each step]]} from the trace text."""
    line = re.compile(r"^\s*.+?-(\d+)\s+\[\d+\]\s+\S+\s+([\d.]+): (\w+): (.*)$")
    events = [(int(m[1]), float(m[2]), m[3], m[4]) for m in map(line.match, trace) if m]
    rows = {kind: [] for kind in supervisors.values()}
    for i, (_, t0, name, text) in enumerate(events):
        if name != "tracing_mark_write" or not text.startswith("d "):
            continue
        _, kind, child = text.split()
        child = int(child)
        got = {}
        sup = next(pid for pid, name in supervisors.items() if name == kind)
        for pid, ts, name, text in events[i + 1:]:
            if name == "sched_switch" and f"next_pid={sup} " in text:
                got.setdefault("supervisor runs", ts)
            elif name == "signal_generate" and pid in supervisors and "sig=15 " in text \
                    and f" pid={child} " in text:
                got.setdefault("TERM sent", ts)
            elif pid == child and name == "sched_process_exit":
                got["exit begins"] = ts
            elif pid == child and name == "exit_mmap":
                got["memory gone"] = ts
            elif pid == child and name == "sched_switch" and "prev_state=Z" in text:
                got["zombie"] = ts
                break
        if len(got) == len(STEPS):
            rows[kind].append([(got[s] - t0) * 1e6 for s in STEPS])
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--ours", default=os.path.join(ROOT, "target", "release", "supervise"))
    args = ap.parse_args()
    if not shutil.which("supervise"):
        raise SystemExit("daemontools' supervise is not on PATH (apt-get install daemontools)")
    work = tempfile.mkdtemp(prefix="supervise-stop-trace-")
    os.makedirs(f"{work}/dt")
    with open(f"{work}/dt/run", "w") as f:
        f.write("#!/bin/sh\nexec sleep 1000\n")
    os.chmod(f"{work}/dt/run", 0o755)
    quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL, start_new_session=True)
    procs = [
        subprocess.Popen(["supervise", f"{work}/dt"], **quiet),
        subprocess.Popen([args.ours, "--foreground", "-p", f"{work}/status/svc",
                          "-f", "sleep 1000"], cwd=work, **quiet),
    ]
    kinds = {  # kind: (status directory, offset of the pid in its status file)
        "daemontools": (f"{work}/dt/supervise", 12),
        "ours": (f"{work}/status/svc", 16),
    }
    supervisors = {procs[0].pid: "daemontools", procs[1].pid: "ours"}
    services = []
    tracing = marker = None
    try:
        for kind, (sdir, off) in kinds.items():
            wait_for(f"{kind} to start its service", lambda: service_pid(f"{sdir}/status", off))
        tracing = tracefs_instance()
        put(f"{tracing}/buffer_size_kb", "16384")
        put(f"{tracing}/trace_clock", "mono")
        put(f"{tracing}/set_event_pid", " ".join(map(str, supervisors)))
        put(f"{tracing}/options/event-fork", "1")  # and their services
        for event in EVENTS:
            put(f"{tracing}/events/{event}/enable", "1")
        put(f"{tracing}/tracing_on", "1")
        marker = open(f"{tracing}/trace_marker", "w", buffering=1)
        time.sleep(1.2)  # daemontools ignores control for a second after a start
        for rnd in range(args.rounds):
            order = list(kinds) if rnd % 2 == 0 else list(kinds)[::-1]
            for kind in order:
                sdir, off = kinds[kind]
                pid = wait_for(f"{kind}'s service", lambda: service_pid(f"{sdir}/status", off))
                services.append(pid)
                fd = os.open(f"{sdir}/control", os.O_WRONLY | os.O_NONBLOCK)
                marker.write(f"d {kind} {pid}\n")
                os.write(fd, b"d")
                os.close(fd)
                wait_for(f"{kind}'s service to go", lambda: not alive(pid))
                time.sleep(0.2)
                fd = os.open(f"{sdir}/control", os.O_WRONLY | os.O_NONBLOCK)
                os.write(fd, b"u")
                os.close(fd)
            time.sleep(1.2)
        put(f"{tracing}/tracing_on", "0")
        with open(f"{tracing}/trace") as f:
            rows = parse(f.read().splitlines(), supervisors)
    finally:
        for kind, (sdir, off) in kinds.items():
            services.append(service_pid(f"{sdir}/status", off))
        for p in procs:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        for pid in set(services) - {0}:
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        if marker:
            marker.close()
        if tracing:
            put(f"{tracing}/tracing_on", "0")
            for event in EVENTS:
                put(f"{tracing}/events/{event}/enable", "0")
            os.rmdir(tracing)
        shutil.rmtree(work, ignore_errors=True)

    dt, ours = rows["daemontools"], rows["ours"]
    print(f"`d` → each step, µs from the control byte; median over the rounds traced "
          f"whole (daemontools {len(dt)}, ours {len(ours)} of {args.rounds})\n")
    print("| step | daemontools | ours | ours / daemontools |")
    print("|---|---|---|---|")
    for i, step in enumerate(STEPS):
        a = statistics.median(r[i] for r in dt) if dt else float("nan")
        b = statistics.median(r[i] for r in ours) if ours else float("nan")
        print(f"| {step} | {a:.0f} | {b:.0f} | {b / a:.2f}× |")
    print("\nthe same as time spent in each step (median of the differences):\n")
    print("| step | daemontools | ours |")
    print("|---|---|---|")
    for i, step in enumerate(STEPS):
        d = [r[i] - (r[i - 1] if i else 0) for r in dt]
        o = [r[i] - (r[i - 1] if i else 0) for r in ours]
        print(f"| {step} | {statistics.median(d):.0f} | {statistics.median(o):.0f} |")


if __name__ == "__main__":
    main()
