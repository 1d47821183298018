# -*- coding: utf-8 -*-
"""Snapshot host probe: the raw facts of the machine it runs on, as one JSON object on stdout.

Where the replay runs somewhere snapshot's own Node.js process cannot look (inside a container,
on a cluster node), this gathers the same raw material capture reads on its own host: program
outputs and system files, uninterpreted. snapshot parses them with the same code as at capture.

Run: ``python snapshot_host.py --marker TOKEN --nvidia-smi-query ARGS...``. Standard library
only; runs on CPython 3.6 and later; every part has its own timeout and never stops the others.
"""
import json
import os
import platform
import subprocess
import sys
import time

TIMEOUT_S = 20
MAX_TEXT = 4 * 1024 * 1024
CUDNN_HEADER_CANDIDATES = [
    "/usr/include/cudnn_version.h",
    "/usr/include/x86_64-linux-gnu/cudnn_version_v9.h",
    "/usr/include/x86_64-linux-gnu/cudnn_version_v8.h",
    "/usr/include/aarch64-linux-gnu/cudnn_version_v9.h",
    "/usr/include/aarch64-linux-gnu/cudnn_version_v8.h",
    "/usr/local/cuda/include/cudnn_version.h",
    "/usr/include/cudnn.h",
    "/usr/local/cuda/include/cudnn.h",
]


def _args():
    args = sys.argv[1:]
    marker = ""
    query = []
    i = 0
    while i < len(args):
        if args[i] == "--marker" and i + 1 < len(args):
            marker = args[i + 1]
            i += 2
        elif args[i] == "--nvidia-smi-query":
            query = args[i + 1:]
            break
        else:
            i += 1
    return marker, query


def _ms(started):
    return int(round((time.time() - started) * 1000))


def command(argv):
    started = time.time()
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError:
        return {"probe": {"status": "absent", "duration_ms": _ms(started), "reason": "%s not found" % argv[0]}, "text": None}
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"probe": {"status": "timeout", "duration_ms": _ms(started), "reason": "%s did not finish within %d s" % (argv[0], TIMEOUT_S)}, "text": None}
    out = out[:MAX_TEXT].decode("utf-8", "replace")
    err = err[:MAX_TEXT].decode("utf-8", "replace")
    if proc.returncode == 0:
        return {"probe": {"status": "ok", "duration_ms": _ms(started)}, "text": out}
    tail = (err.strip() or out.strip()).split("\n")[-1][:300]
    reason = "%s exited with code %d%s" % (argv[0], proc.returncode, ": " + tail if tail else "")
    # A failing nvidia-smi still explains itself on stdout ("couldn't communicate with the driver").
    return {"probe": {"status": "error", "duration_ms": _ms(started), "reason": reason}, "text": out + err}


def read(path, limit=MAX_TEXT):
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).decode("utf-8", "replace")
    except (IOError, OSError):
        return None


def file_probe(path):
    started = time.time()
    text = read(path)
    if text is None:
        return {"probe": {"status": "absent", "duration_ms": _ms(started), "reason": "%s not found" % path}, "text": None}
    return {"probe": {"status": "ok", "duration_ms": _ms(started)}, "text": text}


def total_memory():
    text = read("/proc/meminfo") or ""
    for line in text.split("\n"):
        if line.startswith("MemTotal:"):
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                return int(parts[1]) * 1024
    return 0


def main():
    marker, query = _args()
    cuda_json = read("/usr/local/cuda/version.json")
    cuda_txt = read("/usr/local/cuda/version.txt")
    cuda_file = None
    if cuda_json is not None:
        cuda_file = {"path": "/usr/local/cuda/version.json", "text": cuda_json}
    elif cuda_txt is not None:
        cuda_file = {"path": "/usr/local/cuda/version.txt", "text": cuda_txt}
    headers = []
    for path in CUDNN_HEADER_CANDIDATES:
        text = read(path, 256 * 1024)
        if text is not None:
            headers.append({"path": path, "text": text})
    ldconfig = command(["ldconfig", "-p"])
    if ldconfig["text"] is not None:
        ldconfig["text"] = "\n".join(line.strip() for line in ldconfig["text"].split("\n") if "libcudnn" in line and ".so" in line)
    os_release = file_probe("/etc/os-release")
    if os_release["text"] is None:
        os_release = file_probe("/usr/lib/os-release")
    glibc = command(["getconf", "GNU_LIBC_VERSION"])
    if glibc["probe"]["status"] != "ok":
        glibc = command(["ldd", "--version"])
    environ = {}
    for key in ("KUBERNETES_SERVICE_HOST", "container"):
        if key in os.environ:
            environ[key] = os.environ[key]
    machine = platform.machine()
    result = {
        "host_probe_version": 1,
        "nvidiaSmiQuery": command(["nvidia-smi"] + query) if query else {"probe": {"status": "absent", "duration_ms": 0, "reason": "no query given"}, "text": None},
        "nvidiaSmiHeader": command(["nvidia-smi"]),
        "procDriverVersion": file_probe("/proc/driver/nvidia/version"),
        "nvcc": command(["nvcc", "--version"]),
        "cudaVersionFile": cuda_file,
        "cudnnHeaders": headers,
        "cudnnLibraries": ldconfig,
        "osRelease": os_release,
        "cpuinfo": file_probe("/proc/cpuinfo"),
        "meminfo": file_probe("/proc/meminfo"),
        "glibc": glibc,
        "cgroup": read("/proc/1/cgroup"),
        "dockerenv": os.path.exists("/.dockerenv"),
        "containerenv": os.path.exists("/run/.containerenv"),
        "containerEnviron": environ,
        "kernel": platform.release(),
        "arch": {"AMD64": "x86_64", "arm64": "aarch64"}.get(machine, machine),
        "logicalCores": os.cpu_count() or 0,
        "totalMemoryBytes": total_memory(),
        "hostname": platform.node(),
    }
    sys.stdout.write(marker + json.dumps(result) + marker + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
