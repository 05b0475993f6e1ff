#!/usr/bin/env python3
"""nncore's benchmark suite: nncore (C API and Python binding) side by side with NumPy, JAX,
scikit-learn, ONNX Runtime, FANN and (with BENCH_TORCH=1) PyTorch, in one run.

    python3 bench/run.py                 # the full run (make bench)
    BENCH_QUICK=1 python3 bench/run.py   # small sizes, 1 run: for developing the suite

Environment:
    BENCH_QUICK=1        small sizes and one run
    BENCH_TORCH=1        also install and measure PyTorch (its PyPI wheel is large)
    BENCH_RUNS=N         measured runs per system (default 5; quick 1)
    BENCH_VARIANTS=a,b   OpenBLAS environment variants: env (as the environment is), unset
                         (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed for every system),
                         haswell (OPENBLAS_CORETYPE=Haswell, what the pinned machines use).
                         Default: env,unset; when neither variable is set here, env and unset
                         are the same command, so the default becomes unset,haswell.
    BENCH_ONLY=S,M,...   workloads to run: S, M, L, infer, limit, threads, alloc
    BENCH_SKIP_BUILD=1   use the library already built in BENCH_SCRATCH
    BENCH_SCRATCH=DIR    SwiftPM scratch path of the shipped library (default /tmp/nn-build-bench)
    BENCH_VENV=DIR       the peers' virtual environment (default .build/bench/venv)

Stage 1 (system python3, standard library only) creates the virtual environment, installs
FANN's Debian package when missing, builds libnncore.so as shipped and the C programs, then
re-runs this file inside the virtual environment for stage 2: data, measurements, report.
Results: .build/bench/results/<stamp>.json and .md (the Markdown is also printed).
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = ROOT / ".build" / "bench"
VENV = Path(os.environ.get("BENCH_VENV", WORK / "venv"))
SCRATCH = Path(os.environ.get("BENCH_SCRATCH", "/tmp/nn-build-bench"))
BUILT = SCRATCH / "release" / "libnncore.so"
LIBDIR = WORK / "lib"  # a copy of the built library under its SONAME, so a rebuild cannot change a run
LIBRARY = LIBDIR / "libnncore.so.0"
BIN = WORK / "bin"
QUICK = os.environ.get("BENCH_QUICK") == "1"
TORCH = os.environ.get("BENCH_TORCH") == "1"
RUNS = int(os.environ.get("BENCH_RUNS", "1" if QUICK else "5"))
THREADS = 2
PEERS = ["numpy", "jax[cpu]", "scikit-learn", "onnxruntime", "onnx", "threadpoolctl"]
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def log(*args) -> None:
    print("[bench]", *args, file=sys.stderr, flush=True)


def sh(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=True, **kwargs)


# ---- stage 1: environment, builds ---------------------------------------------------------------

def setup_venv() -> Path:
    python = VENV / "bin" / "python"
    stamp = VENV / ".bench-packages"
    wanted = PEERS + (["torch"] if TORCH else [])
    have = stamp.read_text().split() if stamp.exists() else []
    if not python.exists():
        log(f"creating the virtual environment {VENV}")
        sh([sys.executable, "-m", "venv", str(VENV)])
    missing = [p for p in wanted if p not in have]
    if missing:
        log("installing into the virtual environment:", " ".join(missing))
        sh([str(python), "-m", "pip", "install", "-q", *missing])
        stamp.write_text("\n".join(sorted(set(have) | set(missing))) + "\n")
    return python


def setup_fann() -> None:
    if Path("/usr/include/floatfann.h").exists():
        return
    log("installing Debian's libfann-dev (FANN)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sh(sudo + ["apt-get", "update", "-qq"], env=env)
    sh(sudo + ["apt-get", "install", "-y", "-qq", "libfann-dev"], env=env)


def build() -> None:
    if os.environ.get("BENCH_SKIP_BUILD") != "1":
        log("building libnncore.so as shipped (release, static Swift runtime, version script)")
        sh(["swift", "build", "-c", "release", "--product", "nncore", "--scratch-path", str(SCRATCH),
            "-Xswiftc", "-static-stdlib", "-Xlinker", f"--version-script={ROOT}/api/exports.map",
            "-Xlinker", "-soname=libnncore.so.0"], cwd=ROOT)
    if not BUILT.exists():
        raise SystemExit(f"bench: {BUILT} is missing")
    LIBDIR.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUILT, LIBRARY)
    link = LIBDIR / "libnncore.so"
    if not link.is_symlink():
        link.unlink(missing_ok=True)
        link.symlink_to(LIBRARY.name)
    BIN.mkdir(parents=True, exist_ok=True)
    c = BENCH / "c"
    flags = ["-O2", "-std=c11", "-Wall", "-Wextra"]
    sh(["gcc", *flags, f"-I{ROOT}/include", str(c / "nncore_bench.c"), f"-L{LIBDIR}", "-lnncore",
        f"-Wl,-rpath,{LIBDIR}", "-o", str(BIN / "nncore_bench")])
    sh(["gcc", *flags, str(c / "sgemm_limit.c"), "-lopenblas", "-o", str(BIN / "sgemm_limit")])
    sh(["gcc", *flags, str(c / "fann_bench.c"), "-lfloatfann", "-lm", "-o", str(BIN / "fann_bench")])
    sh(["gcc", "-O2", "-Wall", "-shared", "-fPIC", str(c / "alloc_count.c"), "-o", str(BIN / "alloc_count.so")])


# ---- stage 2: data -------------------------------------------------------------------------------

def workloads() -> dict:
    q = QUICK
    return {
        "S": {"prefix": "s", "sizes": [2, 100, 3], "rows": 300,
              "train": {"epochs": 2000 if q else 10000, "batch": 0, "optimizer": "sgd", "lr": 1.0, "momentum": 0.0,
                        "l2": 1e-3, "shuffle": 0, "warmup_rows": 300, "warmup_epochs": 200}},
        "M": {"prefix": "m", "sizes": [784, 256, 128, 10], "rows": 6000 if q else 60000,
              "train": {"epochs": 1, "batch": 128, "optimizer": "momentum", "lr": 0.01, "momentum": 0.9, "l2": 0.0,
                        "shuffle": 1, "warmup_rows": 2560, "warmup_epochs": 1}},
        "L": {"prefix": "l", "sizes": [3072, 1024, 1024, 10], "rows": 2000 if q else 20000,
              "train": {"epochs": 1, "batch": 256, "optimizer": "momentum", "lr": 0.005, "momentum": 0.9, "l2": 0.0,
                        "shuffle": 1, "warmup_rows": 1024, "warmup_epochs": 1}},
    }


def make_data(directory: Path, specs: dict) -> None:
    """Same synthetic data and initial weights for every system, written once as raw files."""
    import numpy as np
    directory.mkdir(parents=True, exist_ok=True)
    stamp = directory / "stamp.json"
    key = json.dumps({k: [v["sizes"], v["rows"]] for k, v in specs.items()}, sort_keys=True) + "v2"
    if stamp.exists() and stamp.read_text() == key:
        return
    log(f"writing the data sets to {directory}")
    rng = np.random.default_rng(20240607)
    # S: the lecture's spiral, 3 classes x 100 points.
    n, k = 100, 3
    xs = np.zeros((n * k, 2), np.float32)
    ys = np.zeros(n * k, np.int32)
    for j in range(k):
        r = np.linspace(0.0, 1, n)
        t = np.linspace(j * 4, (j + 1) * 4, n) + rng.standard_normal(n) * 0.2
        xs[j * n:(j + 1) * n] = np.c_[r * np.sin(t), r * np.cos(t)]
        ys[j * n:(j + 1) * n] = j
    xs.tofile(directory / "s_x.f32")
    ys.tofile(directory / "s_y.i32")
    # M and L: Gaussian classes around random centroids (learnable, so accuracy checks the math).
    for prefix, spread in (("m", 0.15), ("l", 0.08)):
        spec = next(v for v in specs.values() if v["prefix"] == prefix)
        rows, width, classes = spec["rows"], spec["sizes"][0], spec["sizes"][-1]
        centroids = rng.standard_normal((classes, width)).astype(np.float32) * np.float32(spread)
        y = rng.integers(0, classes, rows).astype(np.int32)
        x = np.empty((rows, width), np.float32)
        for start in range(0, rows, 5000):
            stop = min(rows, start + 5000)
            x[start:stop] = centroids[y[start:stop]] + rng.standard_normal((stop - start, width), dtype=np.float32)
        x.tofile(directory / f"{prefix}_x.f32")
        y.tofile(directory / f"{prefix}_y.i32")
    # Initial weights: He-normal for ReLU layers, Glorot-uniform for the output (nncore's
    # automatic choice), zero biases; y = x W + b with W (inputs, units).
    for spec in specs.values():
        sizes = spec["sizes"]
        for i in range(len(sizes) - 1):
            fan_in, fan_out = sizes[i], sizes[i + 1]
            if i + 2 < len(sizes):
                w = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
            else:
                limit = np.sqrt(6.0 / (fan_in + fan_out))
                w = rng.uniform(-limit, limit, (fan_in, fan_out))
            w.astype(np.float32).tofile(directory / f"{spec['prefix']}_w{i}.f32")
            np.zeros(fan_out, np.float32).tofile(directory / f"{spec['prefix']}_b{i}.f32")
    stamp.write_text(key)


# ---- stage 2: running systems ----------------------------------------------------------------------

def variant_env(variant: str) -> dict:
    env = dict(os.environ)
    for name in ("BENCH_STAGE",):
        env.pop(name, None)
    if variant in ("unset", "haswell"):
        for name in OPENBLAS_VARS:
            env.pop(name, None)
    if variant == "haswell":
        env["OPENBLAS_CORETYPE"] = "Haswell"
    env.update({"OPENBLAS_NUM_THREADS": str(THREADS), "OMP_NUM_THREADS": str(THREADS),
                "MKL_NUM_THREADS": str(THREADS), "BENCH_THREADS": str(THREADS), "JAX_PLATFORMS": "cpu",
                "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={THREADS}",
                "NNCORE_LIBRARY": str(LIBRARY), "TF_CPP_MIN_LOG_LEVEL": "3"})
    return env


def taskset() -> list[str]:
    return ["taskset", "-c", ",".join(str(i) for i in range(THREADS))] if shutil.which("taskset") else []


def c_args(spec: dict, data: Path, extra: dict | None = None) -> list[str]:
    args = ["--data", str(data), "--prefix", spec["prefix"], "--sizes", ",".join(map(str, spec["sizes"])),
            "--rows", str(spec["rows"])]
    for key, value in (extra or {}).items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return args


def command(system: str, workload: str, spec: dict, data: Path, env: dict, extra: dict | None = None) -> list[str]:
    t = spec.get("train", {})
    if system == "nncore_c":
        train = {k: t[k] for k in ("epochs", "batch", "optimizer", "lr", "momentum", "l2", "shuffle",
                                   "warmup_rows", "warmup_epochs")} if workload != "infer" else {}
        return [str(BIN / "nncore_bench"), workload, *c_args(spec, data, {**train, "threads": THREADS, **(extra or {})})]
    if system == "fann":
        if workload == "infer":
            return [str(BIN / "fann_bench"), "infer", *c_args(spec, data, extra)]
        fann = {"mode": "batch" if t["batch"] == 0 else "incremental", "epochs": t["epochs"], "lr": t["lr"],
                "momentum": t["momentum"], "shuffle": t["shuffle"]}
        if spec.get("fann_subset"):
            fann["subset"] = spec["fann_subset"]
            fann["eval_rows"] = spec["fann_eval_rows"]
        return [str(BIN / "fann_bench"), "train", *c_args(spec, data, fann)]
    config = {**spec, "data": str(data), "binding": str(ROOT / "bindings" / "python"), **(extra or {})}
    return [str(VENV / "bin" / "python"), str(BENCH / "peers.py"), system, workload, json.dumps(config)]


def run_one(system: str, workload: str, spec: dict, data: Path, env: dict, extra: dict | None = None,
            prefix: list[str] | None = None) -> dict:
    cmd = taskset() + (prefix or []) + command(system, workload, spec, data, env, extra)
    started = time.time()
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return {"error": "timed out after 600 s"}
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-6:]
        return {"error": f"exit {done.returncode}: " + " | ".join(tail)}
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": "no JSON output: " + done.stdout[-300:]}
    result["wall_seconds"] = time.time() - started
    return result


def interleaved(systems: list[str], workload: str, spec: dict, data: Path, env: dict, runs: int,
                extra_for: dict | None = None) -> dict:
    """runs rounds; each round runs every system once, the order rotating between rounds."""
    results = {s: [] for s in systems}
    slow = float(os.environ.get("BENCH_SLOW_SECONDS", "150"))
    for r in range(runs):
        order = systems[r % len(systems):] + systems[:r % len(systems)]
        for system in order:
            if any(x.get("wall_seconds", 0) > slow or "timed out" in x.get("error", "") for x in results[system]):
                log(f"  {workload} run {r + 1}/{runs} {system}: skipped (a run took over {slow:.0f} s)")
                continue
            extra = (extra_for or {}).get(system)
            result = run_one(system, workload, spec, data, env, extra)
            result["round"] = r + 1
            results[system].append(result)
            brief = result.get("error") or ", ".join(
                f"{k}={result[k]:.4g}" for k in ("steps_per_s", "samples_per_s", "latency_median_us",
                                                  "batch_samples_per_s", "accuracy") if k in result)
            log(f"  {workload} run {r + 1}/{runs} {system}: {brief}")
    return results


def summary(values: list[float]) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def metric(results: list[dict], key: str) -> dict | None:
    return summary([r.get(key) for r in results if "error" not in r and r.get(key) is not None])


def per_round(base: list[dict], runs: list[dict], key: str, base_over_system: bool = True) -> dict | None:
    """The ratio base ÷ other (or other ÷ base) within each round both completed, summarised: base is
    nncore C, or the sgemm limit for nncore's share of it.

    The host's speed drifts over minutes (one system's rate varied 1.5× between rounds of one run),
    and medians taken over different rounds carry that drift into their ratio; a ratio within a
    round compares two runs made minutes apart at most. Results of earlier reports without round
    numbers pair by position."""
    def by_round(results: list[dict]) -> dict:
        # Positions count every run, failed ones too, so that a failure does not shift the pairs.
        return {r.get("round", i + 1): r[key] for i, r in enumerate(results) if "error" not in r and r.get(key)}
    a, b = by_round(base), by_round(runs)
    return summary([a[r] / b[r] if base_over_system else b[r] / a[r] for r in a if r in b])


def ratio_cell(m: dict | None) -> str:
    return f"{m['median']:.2f}× ({m['min']:.2f}–{m['max']:.2f}, {m['n']} rounds)" if m else "—"


# ---- facts about the machine and the libraries --------------------------------------------------------

def machine() -> dict:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
    get = lambda k: fields.get(k, "").strip()  # noqa: E731
    flags = get("Flags").split()
    return {"model": get("Model name"), "vendor": get("Vendor ID"), "family_model": f"{get('CPU family')}/{get('Model')}",
            "cpus": get("CPU(s)"), "cores_per_socket": get("Core(s) per socket"), "threads_per_core": get("Thread(s) per core"),
            "l2": get("L2 cache"), "l3": get("L3 cache"), "hypervisor": get("Hypervisor vendor"),
            "avx512": "avx512f" in flags, "avx2": "avx2" in flags, "kernel": platform.release(),
            # Which build of nncore's small-product loops runs (Sources/CPUFeatures decides the
            # same from CPUID: every Haswell feature, and NNCORE_KERNELS not "baseline").
            "nncore_loops": "AVX2+FMA" if {"avx2", "fma", "bmi1", "bmi2", "f16c", "abm", "movbe", "popcnt"} <= set(flags)
            and os.environ.get("NNCORE_KERNELS") != "baseline" else "baseline x86-64",
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, 1)}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


PROBE = r"""
import ctypes, json, sys
out = {}
lib = ctypes.CDLL("libopenblas.so.0")
lib.openblas_get_corename.restype = ctypes.c_char_p
lib.openblas_get_config.restype = ctypes.c_char_p
out["system_openblas"] = {"corename": lib.openblas_get_corename().decode(), "config": lib.openblas_get_config().decode()}
nn = ctypes.CDLL(sys.argv[1])
nn.nn_version_string.restype = ctypes.c_char_p
out["nncore"] = nn.nn_version_string().decode()
import numpy
from threadpoolctl import threadpool_info
out["numpy_blas"] = [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "filepath")}
                     for i in threadpool_info() if i.get("user_api") == "blas" and "site-packages" in i.get("filepath", "")]
print(json.dumps(out))
"""


def versions(env: dict) -> dict:
    probe = subprocess.run([str(VENV / "bin" / "python"), "-c", PROBE, str(LIBRARY)], env=env, capture_output=True,
                           text=True)
    facts = json.loads(probe.stdout) if probe.returncode == 0 else {"probe_error": probe.stderr[-500:]}
    from importlib import metadata
    for name in ("numpy", "jax", "jaxlib", "scikit-learn", "onnxruntime", "onnx", "torch", "threadpoolctl"):
        try:
            facts[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            facts[name] = None
    fann = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libfann-dev"], capture_output=True, text=True)
    facts["fann"] = fann.stdout.strip() or "?"
    openblas = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libopenblas0-pthread"], capture_output=True, text=True)
    facts["openblas_debian"] = openblas.stdout.strip()
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True)
    facts["swift"] = (swift.stdout or swift.stderr).strip().splitlines()[0] if swift.returncode == 0 else "?"
    facts["gcc"] = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True).stdout.strip()
    facts["python"] = platform.python_version()
    return facts


# ---- the float64 reference for inference correctness ------------------------------------------------

def reference_scores(spec: dict, data: Path, rows: int):
    import numpy as np
    sizes = spec["sizes"]
    h = np.fromfile(data / f"{spec['prefix']}_x.f32", dtype=np.float32, count=rows * sizes[0]).reshape(rows, sizes[0])
    h = h.astype(np.float64)
    for i in range(len(sizes) - 1):
        w = np.fromfile(data / f"{spec['prefix']}_w{i}.f32", dtype=np.float32).reshape(sizes[i], sizes[i + 1])
        h = h @ w.astype(np.float64)
        if i + 2 < len(sizes):
            h = np.maximum(h, 0)
    return h


# ---- one variant ----------------------------------------------------------------------------------------------

def run_variant(variant: str, specs: dict, data: Path, only: set[str]) -> dict:
    import numpy as np
    env = variant_env(variant)
    out = {"variant": variant, "openblas_env": {k: env.get(k) for k in OPENBLAS_VARS}, "versions": versions(env),
           "load_before": load_average()}
    log(f"variant {variant}: OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE')} OPENBLAS_L2_SIZE={env.get('OPENBLAS_L2_SIZE')}"
        f" system OpenBLAS core {out['versions'].get('system_openblas', {}).get('corename')}")
    python_peers = ["nncore_py", "numpy", "jax"] + (["torch"] if TORCH else []) + ["sklearn"]
    trainers = ["nncore_c"] + python_peers + ["fann"]

    for name in ("S", "M", "L"):
        if name not in only:
            continue
        spec = dict(specs[name])
        if name == "M":
            spec["fann_subset"], spec["fann_eval_rows"] = (1000, 1000) if QUICK else (10000, 5000)
        if name == "L":
            spec["fann_subset"], spec["fann_eval_rows"] = (100, 200) if QUICK else (1000, 1000)
        log(f"workload {name}: {spec['sizes']} on {spec['rows']} rows")
        out[name] = {"spec": spec, "results": interleaved(trainers, "train", spec, data, env, RUNS)}

    if "infer" in only:
        spec = dict(specs["M"])
        calls = 2000 if QUICK else 20000
        extra = {"calls": calls, "batch": 1024, "seconds": 0.2 if QUICK else 1.0}
        systems = ["nncore_c", "nncore_py", "onnxruntime", "numpy", "jax"] + (["torch"] if TORCH else []) + \
                  ["sklearn", "fann"]
        dumps = WORK / "dumps"
        dumps.mkdir(parents=True, exist_ok=True)
        extra_for = {s: {**extra, "dump": str(dumps / f"{variant}-{s}.f32")} if s != "fann" else
                     {k: v for k, v in extra.items()} for s in systems}
        log("workload inference on net M")
        results = interleaved(systems, "infer", spec, data, env, RUNS, extra_for)
        reference = reference_scores(spec, data, 1024)
        errors = {}
        for s in systems:
            path = dumps / f"{variant}-{s}.f32"
            if path.exists() and s != "sklearn":  # scikit-learn dumps probabilities, not scores
                got = np.fromfile(path, dtype=np.float32)
                if got.size == reference.size:
                    errors[s] = float(np.max(np.abs(got.reshape(reference.shape) - reference)))
                path.unlink()
        out["infer"] = {"spec": {**spec, **extra}, "results": results, "max_abs_error_vs_float64": errors}

    if "limit" in only:
        out["limit"] = {}
        for name in ("M", "L"):
            spec = specs[name]
            runs, single, beside = [], [], []
            for r in range(max(1, min(RUNS, 3))):
                # The limit as the issue defines it (OpenBLAS's own threads), and the products on one
                # thread: half of that time is what perfect two-thread scaling of OpenBLAS's kernels
                # would give, a stricter bound once nncore threads the products itself. Then nncore C
                # trains once in the same round, so that its share of the limit compares runs made
                # seconds apart (the workload's own block ran minutes earlier).
                for threads, into in ((THREADS, runs), (1, single)):
                    done = subprocess.run(taskset() + [str(BIN / "sgemm_limit"), "--sizes", ",".join(map(str, spec["sizes"])),
                                          "--rows", str(spec["rows"]), "--batch", str(spec["train"]["batch"]),
                                          "--threads", str(threads), "--seconds", "0.05" if QUICK else "0.3"],
                                          env=env, capture_output=True, text=True)
                    into.append(json.loads(done.stdout) if done.returncode == 0 else {"error": done.stderr[-300:]})
                    into[-1]["round"] = r + 1
                beside.append({**run_one("nncore_c", "train", spec, data, env), "round": r + 1})
            out["limit"][name] = runs
            out.setdefault("limit_one_thread", {})[name] = single
            out.setdefault("limit_nncore_c", {})[name] = beside
            log(f"  limit {name}: " + ", ".join(f"{r.get('samples_per_s', 0):.0f}/s" for r in runs) +
                "; one thread: " + ", ".join(f"{r.get('samples_per_s', 0):.0f}/s" for r in single) +
                "; nncore C beside them: " + ", ".join(f"{r.get('samples_per_s', 0):.0f}/s" for r in beside))

    if "threads" in only:
        out["threads"] = {}
        for name in ("M", "L"):
            spec = specs[name]
            rows = {}
            configs = [("1 thread", 1, False), ("2 threads", 2, False), ("2 threads, other core busy", 2, True),
                       ("1 thread, other core busy", 1, True)]
            for r in range(max(1, min(RUNS, 3))):
                for label, threads, busy in configs:
                    hog = None
                    if busy:  # a spinning process pinned to the last core, ended by its pid
                        hog = subprocess.Popen(taskset()[:2] + [str(THREADS - 1)] + [sys.executable, "-c", "while True: pass"]
                                               if taskset() else [sys.executable, "-c", "while True: pass"])
                        time.sleep(0.2)
                    try:
                        result = run_one("nncore_c", "train", spec, data, env, {"threads": threads})
                    finally:
                        if hog is not None:
                            hog.kill()
                            hog.wait()
                    rows.setdefault(label, []).append(result)
                    log(f"  threads {name} {label}: {result.get('samples_per_s', result.get('error'))}")
            out["threads"][name] = rows

    if "alloc" in only:
        spec = specs["M"]
        out["alloc"] = {}
        for threads in (1, THREADS):
            result = run_one("nncore_c", "alloc", spec, data, {**env, "LD_PRELOAD": str(BIN / "alloc_count.so")},
                             {"threads": threads})
            out["alloc"][str(threads)] = result
            log(f"  allocations with {threads} thread(s): {result}")
    out["load_after"] = load_average()
    return out


# ---- the report ---------------------------------------------------------------------------------------------------

LABELS = {"nncore_c": "nncore (C API)", "nncore_py": "nncore (Python binding)", "numpy": "NumPy (hand-written)",
          "jax": "JAX (jit)", "torch": "PyTorch (eager)", "sklearn": "scikit-learn MLPClassifier",
          "onnxruntime": "ONNX Runtime", "fann": "FANN 2.2"}


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def cell(m: dict | None, digits: int = 3) -> tuple[str, str]:
    if not m:
        return "not measured", ""
    return fmt(m["median"], digits), f"{fmt(m['min'], digits)}–{fmt(m['max'], digits)}"


def train_table(block: dict, key: str, unit: str, memory: bool) -> list[str]:
    results = block["results"]
    base = metric(results.get("nncore_c", []), key)
    head = (f"| system | {unit} (median) | min–max | nncore C ÷ system (ratio of medians) | nncore C ÷ system "
            f"within a round: median (min–max) | final accuracy | loss |")
    line = "|---|---:|---:|---:|---:|---:|---:|"
    if memory:
        head += " peak RSS MiB | peak − RSS after data MiB |"
        line += "---:|---:|"
    rows = [head + " threads |", line + "---|"]
    for system, runs in results.items():
        m = metric(runs, key)
        errors = [r["error"] for r in runs if "error" in r]
        median, spread = cell(m)
        ratio = f"{base['median'] / m['median']:.2f}×" if m and base else "—"
        acc, loss = metric(runs, "accuracy"), metric(runs, "loss")
        paired = ratio_cell(per_round(results.get("nncore_c", []), runs, key)) if system != "nncore_c" else "—"
        row = f"| {LABELS[system]} | {median} | {spread} | {ratio} | {paired} | {fmt(acc and acc['median'], 4)} | " \
              f"{fmt(loss and loss['median'], 4)} |"
        if memory:
            peak = metric(runs, "peak_rss_kb")
            after = metric([{"d": r["peak_rss_kb"] - r.get("hwm_after_data_kb", r.get("rss_after_data_kb", 0))}
                            for r in runs if "peak_rss_kb" in r], "d")
            row += f" {fmt(peak and peak['median'] / 1024, 4)} | {fmt(after and after['median'] / 1024, 3)} |"
        good = [r for r in runs if "error" not in r]
        note = str(good[0].get("threads", "")) if good else ""
        if errors:
            note += f" {len(errors)} failed run(s): " + errors[0][:160]
        if system == "fann" and good and good[0].get("subset") and good[0]["subset"] < block["spec"]["rows"]:
            note += (f"; rate measured on the first {good[0]['subset']} rows, accuracy on the first "
                     f"{good[0].get('accuracy_rows')} rows")
        rows.append(row + f" {note.replace('|', '/')} |")
    return rows


def report(all_results: dict) -> str:
    lines = ["# nncore benchmark results", ""]
    m = all_results["machine"]
    lines += [f"- Machine: {m['model']} ({m['vendor']} family/model {m['family_model']}), {m['cpus']} CPUs "
              f"({m['cores_per_socket']} cores × {m['threads_per_core']} thread), L2 {m['l2']}, L3 {m['l3']}, "
              f"{m['memory_gb']} GB, hypervisor {m['hypervisor'] or 'none'}, AVX-512 {'yes' if m['avx512'] else 'no'}, "
              f"kernel {m['kernel']}; nncore's small-product loops: {m.get('nncore_loops')} build",
              f"- Mode: {'QUICK (small sizes)' if QUICK else 'full'}, {RUNS} measured run(s) per system, interleaved; "
              f"{THREADS} threads for every system (FANN is single-threaded); every process under "
              f"`taskset -c 0-{THREADS - 1}`",
              f"- PyTorch: {'measured' if TORCH else 'skipped (set BENCH_TORCH=1)'}",
              f"- Started {all_results['started']}, load average before {all_results['load_before']}, "
              f"after {all_results['load_after']}", ""]
    for v in all_results["variants"]:
        ver = v["versions"]
        lines += [f"## Variant `{v['variant']}`: OPENBLAS_CORETYPE={v['openblas_env']['OPENBLAS_CORETYPE']}, "
                  f"OPENBLAS_L2_SIZE={v['openblas_env']['OPENBLAS_L2_SIZE']}", "",
                  f"- Load average before {v['load_before']}, after {v['load_after']}",
                  f"- nncore {ver.get('nncore')}; system OpenBLAS {ver.get('openblas_debian')} kernel "
                  f"**{ver.get('system_openblas', {}).get('corename')}** (openblas_get_corename; nncore, FANN's "
                  f"neighbours and the sgemm limit use it)",
                  f"- NumPy {ver.get('numpy')} BLAS (threadpoolctl): " +
                  "; ".join(f"{b.get('internal_api')} {b.get('version')} **{b.get('architecture')}** "
                            f"{b.get('num_threads')} threads" for b in ver.get("numpy_blas", [])),
                  f"- JAX {ver.get('jax')} (jaxlib {ver.get('jaxlib')}), scikit-learn {ver.get('scikit-learn')}, "
                  f"ONNX Runtime {ver.get('onnxruntime')} (onnx {ver.get('onnx')}), PyTorch {ver.get('torch') or 'not installed'}, "
                  f"FANN {ver.get('fann')}, {ver.get('swift')}, gcc {ver.get('gcc')}, Python {ver.get('python')}", ""]
        for name, key, unit, memory, title in (
                ("S", "steps_per_s", "steps/s", False, "S — spiral 2-100-3, full batch, 10,000 steps"),
                ("M", "samples_per_s", "samples/s", True, "M — 60,000 × 784, 784-256-128-10, batch 128, momentum, one epoch"),
                ("L", "samples_per_s", "samples/s", True, "L — 20,000 × 3072, 3072-1024-1024-10, batch 256, momentum, one epoch")):
            if name in v:
                spec = v[name]["spec"]
                lines += [f"### {title}", "", f"({spec['rows']} rows, {spec['train']['epochs']} epoch(s) here)", ""]
                lines += train_table(v[name], key, unit, memory) + [""]
        settings = {}
        for name in ("S", "M", "L", "infer"):
            for system, runs in v.get(name, {}).get("results", {}).items():
                for r in runs:
                    if "thread_setting" in r:
                        settings.setdefault(system, r["thread_setting"])
        if settings:
            lines += ["How each system's threads are set (every process also runs under `taskset -c 0-1`, with "
                      "OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS=2):", ""]
            lines += [f"- {LABELS[s]}: {text}" for s, text in settings.items()] + [""]
        if "infer" in v:
            res = v["infer"]["results"]
            base_lat = metric(res.get("nncore_c", []), "latency_median_us")
            base_thr = metric(res.get("nncore_c", []), "batch_samples_per_s")
            lines += ["### Inference on net M (784-256-128-10)", "",
                      "| system | batch-1 latency µs (median of per-run medians) | min–max | mean µs | system ÷ nncore C "
                      "| batch-1024 samples/s | min–max | nncore C ÷ system | nncore C ÷ system within a round: "
                      "median (min–max) | max abs error vs float64 |",
                      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for system, runs in res.items():
                lat, thr, mean = metric(runs, "latency_median_us"), metric(runs, "batch_samples_per_s"), \
                    metric(runs, "latency_mean_us")
                l1, l2 = cell(lat)
                t1, t2 = cell(thr)
                r1 = f"{lat['median'] / base_lat['median']:.2f}×" if lat and base_lat else "—"
                r2 = f"{base_thr['median'] / thr['median']:.2f}×" if thr and base_thr else "—"
                err = v["infer"]["max_abs_error_vs_float64"].get(system)
                errors = [r["error"] for r in runs if "error" in r]
                extra = ""
                if system == "nncore_py":
                    w = metric(runs, "latency_median_us_with_out")
                    extra = f" (with `out=`: {fmt(w and w['median'])})"
                paired = ratio_cell(per_round(res.get("nncore_c", []), runs, "batch_samples_per_s")) \
                    if system != "nncore_c" else "—"
                lines.append(f"| {LABELS[system]} | {l1}{extra} | {l2} | {fmt(mean and mean['median'])} | {r1} | {t1} | "
                             f"{t2} | {r2} | {paired} | {'—' if err is None else f'{err:.2e}'} |" +
                             (f" error: {errors[0][:150]}".replace("|", "/") if errors else ""))
            lines.append("")
        if "limit" in v:
            lines += ["### The sgemm-bound limit (one epoch = Σ cblas_sgemm times of every step's products)", "",
                      "| workload | sgemm time per step µs | limit s/epoch | limit samples/s | nncore C samples/s | "
                      "nncore C share of the limit | one-thread Σ sgemm ÷ 2, samples/s | nncore C share of it | "
                      "nncore Python samples/s | Python ÷ C | Python ÷ C within a round: median (min–max) | "
                      "nncore C in the limit's rounds, samples/s | its share of the limit within a round: median (min–max) |",
                      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for name, runs in v["limit"].items():
                lim = metric(runs, "samples_per_s")
                one = metric(v.get("limit_one_thread", {}).get(name, []), "samples_per_s")
                ideal = THREADS * one["median"] if one else None
                step = metric(runs, "step_us")
                c = metric(v.get(name, {}).get("results", {}).get("nncore_c", []), "samples_per_s")
                py = metric(v.get(name, {}).get("results", {}).get("nncore_py", []), "samples_per_s")
                share = f"{100 * c['median'] / lim['median']:.0f} %" if c and lim else "—"
                pyc = f"{100 * py['median'] / c['median']:.0f} %" if c and py else "—"
                epoch = metric(runs, "epoch_seconds")
                ideal_share = f"{100 * c['median'] / ideal:.0f} %" if c and ideal else "—"
                beside_runs = v.get("limit_nncore_c", {}).get(name, [])
                beside = metric(beside_runs, "samples_per_s")
                paired_share = per_round(runs, beside_runs, "samples_per_s", base_over_system=False)
                share_paired = (f"{100 * paired_share['median']:.0f} % ({100 * paired_share['min']:.0f}–"
                                f"{100 * paired_share['max']:.0f} %, {paired_share['n']} rounds)") if paired_share else "—"
                trained = v.get(name, {}).get("results", {})
                pyc_paired = ratio_cell(per_round(trained.get("nncore_c", []), trained.get("nncore_py", []),
                                                  "samples_per_s", base_over_system=False))
                lines.append(f"| {name} | {fmt(step and step['median'])} | {fmt(epoch and epoch['median'])} | "
                             f"{fmt(lim and lim['median'])} | {fmt(c and c['median'])} | {share} | "
                             f"{fmt(ideal)} | {ideal_share} | {fmt(py and py['median'])} | {pyc} | {pyc_paired} | "
                             f"{fmt(beside and beside['median'])} | {share_paired} |")
            lines.append("")
            for name, runs in v["limit"].items():
                good = [r for r in runs if "products" in r]
                if good:
                    lines.append(f"{name} products (first run): " + "; ".join(
                        f"L{p['layer']} {p['what'].split()[0]} {p['m']}×{p['k']}·{p['k']}×{p['n']} {p['us']:.0f} µs "
                        f"({p['gflops']:.0f} GFLOP/s)" for p in good[0]["products"]))
                    lines.append("")
        if "threads" in v:
            lines += ["### nncore C: threads and a busy core (samples/s, median of runs)", "",
                      "| workload | 1 thread | 2 threads | 2 threads, other core busy | 1 thread, other core busy |",
                      "|---|---:|---:|---:|---:|"]
            for name, rows in v["threads"].items():
                cells = []
                for label in ("1 thread", "2 threads", "2 threads, other core busy", "1 thread, other core busy"):
                    mm = metric(rows.get(label, []), "samples_per_s")
                    cells.append(f"{fmt(mm and mm['median'])} ({fmt(mm and mm['min'])}–{fmt(mm and mm['max'])})")
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
            lines.append("")
        for threads, a in v.get("alloc", {}).items():
            if "error" in a:
                lines += [f"Allocation count: error {a['error']}", ""]
            else:
                lines += [f"### Heap allocations on net M, {threads} thread(s) (LD_PRELOAD counter over "
                          "malloc/calloc/realloc/memalign, whole process)", "",
                          f"- fit, one epoch of {a['fit_small_steps']} steps: {a['fit_small_allocs']} allocations "
                          f"({a['fit_small_bytes']:,} bytes); one epoch of {a['fit_big_steps']} steps: "
                          f"{a['fit_big_allocs']} allocations ({a['fit_big_bytes']:,} bytes) → "
                          f"{a['allocs_per_extra_step']:.3f} allocations per extra step",
                          f"- 200 predictions of 1024 rows after warm-up: {a['predict1024_allocs']} allocations "
                          f"({a['predict1024_bytes']:,} bytes); 1000 single-row predictions: {a['predict1_allocs']} "
                          f"allocations ({a['predict1_bytes']:,} bytes)", ""]
    return "\n".join(lines)


def stage2() -> None:
    specs = workloads()
    data = WORK / "data" / ("quick" if QUICK else "full")
    make_data(data, specs)
    only = set((os.environ.get("BENCH_ONLY") or "S,M,L,infer,limit,threads,alloc").split(","))
    variants = os.environ.get("BENCH_VARIANTS")
    if not variants:
        variants = "env,unset" if any(os.environ.get(k) for k in OPENBLAS_VARS) else "unset,haswell"
        if variants == "unset,haswell":
            log("OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are not set here: 'env' is 'unset'; "
                "the second variant pins OPENBLAS_CORETYPE=Haswell as the pinned machines do")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results = {"started": stamp, "machine": machine(), "load_before": load_average(), "quick": QUICK, "runs": RUNS,
               "torch": TORCH, "variants": []}
    out_dir = WORK / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    for variant in variants.split(","):
        results["variants"].append(run_variant(variant.strip(), specs, data, only))
        results["load_after"] = load_average()
        (out_dir / f"{stamp}.json").write_text(json.dumps(results, indent=1))
    text = report(results)
    (out_dir / f"{stamp}.md").write_text(text)
    print(text)
    log(f"results: {out_dir / stamp}.json and .md")


def main() -> None:
    if os.environ.get("BENCH_STAGE") == "2":
        stage2()
        return
    python = setup_venv()
    setup_fann()
    build()
    os.execve(str(python), [str(python), __file__, *sys.argv[1:]], dict(os.environ, BENCH_STAGE="2"))


if __name__ == "__main__":
    main()
