"""The Python systems of the benchmark: nncore through its Python binding, NumPy, JAX,
PyTorch, scikit-learn and ONNX Runtime. One measured run per process:

    python bench/peers.py SYSTEM WORKLOAD JSON_CONFIG

SYSTEM is nncore_py, numpy, jax, torch, sklearn or onnxruntime; WORKLOAD is train or infer.
The configuration names the data directory, the problem prefix and sizes, and the training
settings (see run.py). Every system reads the same data files and starts from the same initial
weights. The process warms up (JIT compilation, first calls), runs the workload once, and
prints one JSON object on stdout. Thread settings are applied here and described in the output
("thread_setting").
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

THREADS = int(os.environ.get("BENCH_THREADS", "2"))


def status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def load(config: dict, with_data: bool = True):
    d, p, sizes, rows = config["data"], config["prefix"], config["sizes"], config["rows"]
    x = y = None
    if with_data:
        x = np.fromfile(f"{d}/{p}_x.f32", dtype=np.float32, count=rows * sizes[0]).reshape(rows, sizes[0])
        y = np.fromfile(f"{d}/{p}_y.i32", dtype=np.int32, count=rows)
    weights = []
    for i in range(len(sizes) - 1):
        w = np.fromfile(f"{d}/{p}_w{i}.f32", dtype=np.float32).reshape(sizes[i], sizes[i + 1])
        b = np.fromfile(f"{d}/{p}_b{i}.f32", dtype=np.float32)
        weights.append((w, b))
    return x, y, weights


def batches(rows: int, batch: int, rng: np.random.Generator, shuffle: bool):
    order = rng.permutation(rows) if shuffle else np.arange(rows)
    step = batch if batch > 0 else rows
    return [order[i:i + step] for i in range(0, rows, step)]


def latency_and_throughput(predict_one, predict_batch, x: np.ndarray, config: dict) -> dict:
    """predict_one(row (1, n)) and predict_batch(rows (B, n)) must return when the result is ready."""
    calls, batch, budget = config.get("calls", 20000), config.get("batch", 1024), config.get("seconds", 1.0)
    pool = [np.ascontiguousarray(x[i:i + 1]) for i in range(min(1000, len(x)))]
    for i in range(min(2000, calls)):
        predict_one(pool[i % len(pool)])
    times = np.empty(calls)
    clock = time.perf_counter
    start = clock()
    for i in range(calls):
        row = pool[i % len(pool)]
        t = clock()
        predict_one(row)
        times[i] = clock() - t
    mean = (clock() - start) / calls
    blocks = [np.ascontiguousarray(x[i * batch:(i + 1) * batch]) for i in range(max(1, min(8, len(x) // batch)))]
    for block in blocks[:3]:
        predict_batch(block)
    count, start, elapsed = 0, clock(), 0.0
    while elapsed < budget or count < 5:
        predict_batch(blocks[count % len(blocks)])
        count += 1
        elapsed = clock() - start
    return {"latency_median_us": 1e6 * float(np.median(times)), "latency_mean_us": 1e6 * mean,
            "latency_p90_us": 1e6 * float(np.percentile(times, 90)), "calls": calls, "batch": batch,
            "batch_samples_per_s": count * batch / elapsed, "batches": count}


def dump_scores(config: dict, scores) -> None:
    if config.get("dump"):
        np.asarray(scores, dtype=np.float32).tofile(config["dump"])


def blas_info() -> dict:
    try:
        from threadpoolctl import threadpool_info
        return [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "filepath")}
                for i in threadpool_info() if i.get("user_api") == "blas"]
    except Exception as error:  # threadpoolctl missing or failing: say so
        return [{"error": str(error)}]


# ---- nncore through its Python binding -------------------------------------------------------

def nncore_py(workload: str, config: dict) -> dict:
    sys.path.insert(0, config["binding"])
    import nncore
    nncore.set_thread_count(THREADS)
    x, y, weights = load(config)
    sizes = config["sizes"]
    model = nncore.Model(sizes[0], loss="softmax", seed=42)
    for i, units in enumerate(sizes[1:]):
        model.dense(units, "relu" if i + 2 < len(sizes) else "identity")
    flat = [a for pair in weights for a in pair]
    model.set_weights(flat)
    info = {"thread_setting": f"nncore.set_thread_count({THREADS}) -> {nncore.get_thread_count()}",
            "threads": nncore.get_thread_count(), "library": nncore.library_path(),
            "binding_version": nncore.__version__}
    if workload == "infer":
        dump_scores(config, model.predict(x[:config.get("batch", 1024)]))
        out1 = np.empty((1, sizes[-1]), np.float32)
        res = latency_and_throughput(lambda r: model.predict(r), lambda b: model.predict(b), x, config)
        res2 = latency_and_throughput(lambda r: model.predict(r, out=out1), lambda b: model.predict(b), x,
                                      dict(config, seconds=0.2))
        res["latency_median_us_with_out"] = res2["latency_median_us"]
        return {**res, **info}
    t = config["train"]
    optimizer = nncore.Momentum(momentum=t["momentum"]) if t["optimizer"] == "momentum" else "sgd"
    kwargs = dict(batch_size=t["batch"], optimizer=optimizer, lr=t["lr"], l2=t["l2"], shuffle=bool(t["shuffle"]),
                  progress=False)
    rss_data = status_kb("VmRSS")
    hwm_data = status_kb("VmHWM")
    warm_rows = min(t.get("warmup_rows", len(x)), len(x))
    start = time.perf_counter()
    model.fit(x[:warm_rows], y[:warm_rows], epochs=t.get("warmup_epochs", 1), **kwargs)
    warm = time.perf_counter() - start
    model.set_weights(flat)
    model.reset_training()
    start = time.perf_counter()
    history = model.fit(x, y, epochs=t["epochs"], **kwargs)
    seconds = time.perf_counter() - start
    hwm = status_kb("VmHWM")
    ev = model.evaluate(x, y)
    return {**train_result(t, len(x), seconds), "accuracy": ev.accuracy, "loss": ev.loss,
            "train_loss_last_epoch": getattr(history[-1], "loss", None) if len(history) else None, "warmup_seconds": warm,
            "rss_after_data_kb": rss_data, "hwm_after_data_kb": hwm_data, "peak_rss_kb": hwm, **info}


def train_result(t: dict, rows: int, seconds: float) -> dict:
    batch = t["batch"] if t["batch"] > 0 else rows
    steps = t["epochs"] * -(-rows // batch)
    return {"seconds": seconds, "steps": steps, "samples": t["epochs"] * rows, "steps_per_s": steps / seconds,
            "samples_per_s": t["epochs"] * rows / seconds}


def softmax_loss_accuracy(scores: np.ndarray, y: np.ndarray):
    scores = scores.astype(np.float64)
    scores -= scores.max(axis=1, keepdims=True)
    logp = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean()), float((scores.argmax(axis=1) == y).mean())


# ---- NumPy: the hand-written MLP ---------------------------------------------------------------

def numpy_peer(workload: str, config: dict) -> dict:
    from threadpoolctl import threadpool_limits
    limiter = threadpool_limits(THREADS, user_api="blas")
    x, y, weights = load(config)
    info = {"thread_setting": f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} + "
                              f"threadpoolctl.threadpool_limits({THREADS}, 'blas')",
            "threads": THREADS, "blas": blas_info()}
    params = [(w.copy(), b.copy()) for w, b in weights]

    def forward(params, xb):
        h = xb
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i + 1 < len(params):
                np.maximum(h, 0, out=h)
        return h

    if workload == "infer":
        dump_scores(config, forward(params, x[:config.get("batch", 1024)]))
        return {**latency_and_throughput(lambda r: forward(params, r), lambda b: forward(params, b), x, config), **info}

    t = config["train"]
    lr, mu, l2, momentum = np.float32(t["lr"]), np.float32(t["momentum"]), np.float32(t["l2"]), t["optimizer"] == "momentum"

    def step(params, velocity, xb, yb):
        acts = [xb]
        h = xb
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i + 1 < len(params):
                np.maximum(h, 0, out=h)
            acts.append(h)
        scores = acts[-1]
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        scores[np.arange(len(yb)), yb] -= 1
        d = scores / np.float32(len(yb))
        for i in range(len(params) - 1, -1, -1):
            w, b = params[i]
            dw = acts[i].T @ d
            if l2:
                dw += (2 * l2) * w
            db = d.sum(axis=0)
            if i > 0:
                d = d @ w.T
                d *= acts[i] > 0
            if momentum:
                vw, vb = velocity[i]
                vw *= mu
                vw -= lr * dw
                vb *= mu
                vb -= lr * db
                w += vw
                b += vb
            else:
                w -= lr * dw
                b -= lr * db

    def train(params, rows, epochs, seed):
        velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            for idx in batches(rows, t["batch"], rng, t["shuffle"]):
                if t["batch"] > 0 or rows != len(x):
                    step(params, velocity, x[idx], y[idx])
                else:  # full batch in order: no gather
                    step(params, velocity, x, y)

    rss_data, hwm_data = status_kb("VmRSS"), status_kb("VmHWM")
    start = time.perf_counter()
    train([(w.copy(), b.copy()) for w, b in weights], min(t.get("warmup_rows", len(x)), len(x)),
          t.get("warmup_epochs", 1), 1)
    warm = time.perf_counter() - start
    start = time.perf_counter()
    train(params, len(x), t["epochs"], 0)
    seconds = time.perf_counter() - start
    hwm = status_kb("VmHWM")
    loss, acc = softmax_loss_accuracy(np.concatenate([forward(params, x[i:i + 8192]) for i in range(0, len(x), 8192)]), y)
    del limiter
    return {**train_result(t, len(x), seconds), "accuracy": acc, "loss": loss, "warmup_seconds": warm,
            "rss_after_data_kb": rss_data, "hwm_after_data_kb": hwm_data, "peak_rss_kb": hwm, **info}


# ---- JAX: jitted steps (S: the whole run in one jitted loop) -----------------------------------

def jax_peer(workload: str, config: dict) -> dict:
    import jax
    import jax.numpy as jnp
    x, y, weights = load(config)
    info = {"thread_setting": f"taskset -c 0,1 (2 cores visible); XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}; "
                              "XLA:CPU's Eigen pool uses the visible cores",
            "threads": THREADS, "jax_version": jax.__version__, "devices": str(jax.devices())}
    params0 = [(jnp.asarray(w), jnp.asarray(b)) for w, b in weights]

    def forward(params, xb):
        h = xb
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i + 1 < len(params):
                h = jax.nn.relu(h)
        return h

    if workload == "infer":
        f = jax.jit(forward)
        dump_scores(config, f(params0, x[:config.get("batch", 1024)]))
        res = latency_and_throughput(lambda r: f(params0, r).block_until_ready(),
                                     lambda b: f(params0, b).block_until_ready(), x, config)
        return {**res, **info}

    t = config["train"]
    lr, mu, l2, momentum = t["lr"], t["momentum"], t["l2"], t["optimizer"] == "momentum"

    def loss_fn(params, xb, yb):
        scores = forward(params, xb)
        logp = jax.nn.log_softmax(scores)
        data = -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))
        if l2:
            data = data + l2 * sum(jnp.sum(w * w) for w, _ in params)
        return data

    grad = jax.grad(loss_fn)

    def update(params, velocity, g):
        if momentum:
            velocity = jax.tree_util.tree_map(lambda v, gg: mu * v - lr * gg, velocity, g)
            params = jax.tree_util.tree_map(lambda p, v: p + v, params, velocity)
        else:
            params = jax.tree_util.tree_map(lambda p, gg: p - lr * gg, params, g)
        return params, velocity

    X, Y = jnp.asarray(x), jnp.asarray(y)
    rss_data, hwm_data = status_kb("VmRSS"), status_kb("VmHWM")
    zeros = lambda ps: jax.tree_util.tree_map(jnp.zeros_like, ps)  # noqa: E731
    full_batch = t["batch"] <= 0 or t["batch"] >= len(x)
    if full_batch and not t["shuffle"]:
        # All steps in one jitted loop (lax.fori_loop over a dynamic count).
        @jax.jit
        def run(params, velocity, steps):
            def body(_, carry):
                p, v = carry
                return update(p, v, grad(p, X, Y))
            return jax.lax.fori_loop(0, steps, body, (params, velocity))
        start = time.perf_counter()
        jax.block_until_ready(run(params0, zeros(params0), max(1, t["epochs"] // 50)))
        warm = time.perf_counter() - start
        start = time.perf_counter()
        params, _ = jax.block_until_ready(run(params0, zeros(params0), t["epochs"]))
        seconds = time.perf_counter() - start
        info["loop"] = "one jitted lax.fori_loop over all steps"
    else:
        @jax.jit
        def step(params, velocity, idx):
            return update(params, velocity, grad(params, X[idx], Y[idx]))

        def train(params, rows, epochs, seed):
            velocity = zeros(params)
            rng = np.random.default_rng(seed)
            for _ in range(epochs):
                for idx in batches(rows, t["batch"], rng, t["shuffle"]):
                    params, velocity = step(params, velocity, idx)
            return jax.block_until_ready(params)

        start = time.perf_counter()
        train(params0, min(t.get("warmup_rows", len(x)), len(x)), t.get("warmup_epochs", 1), 1)
        last = len(x) % t["batch"]
        if last:  # compile the last, smaller batch's shape too
            jax.block_until_ready(step(params0, zeros(params0), np.arange(last)))
        warm = time.perf_counter() - start
        start = time.perf_counter()
        params = train(params0, len(x), t["epochs"], 0)
        seconds = time.perf_counter() - start
        info["loop"] = "Python loop over batches, one jitted step (gather inside the jit)"
    hwm = status_kb("VmHWM")
    f = jax.jit(forward)
    scores = np.concatenate([np.asarray(f(params, x[i:i + 8192])) for i in range(0, len(x), 8192)])
    loss, acc = softmax_loss_accuracy(scores, y)
    return {**train_result(t, len(x), seconds), "accuracy": acc, "loss": loss, "warmup_seconds": warm,
            "rss_after_data_kb": rss_data, "hwm_after_data_kb": hwm_data, "peak_rss_kb": hwm, **info}


# ---- PyTorch: eager ----------------------------------------------------------------------------

def torch_peer(workload: str, config: dict) -> dict:
    import torch
    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(1)
    x, y, weights = load(config)
    info = {"thread_setting": f"torch.set_num_threads({THREADS}) -> {torch.get_num_threads()}, "
                              "set_num_interop_threads(1)",
            "threads": torch.get_num_threads(), "torch_version": torch.__version__,
            "torch_blas": torch.__config__.show().split("BLAS_INFO=")[-1].split(",")[0]}
    layers = []
    for i, (w, b) in enumerate(weights):
        linear = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i + 1 < len(weights):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    state0 = {k: v.clone() for k, v in model.state_dict().items()}
    X, Y = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    if workload == "infer":
        model.eval()
        with torch.inference_mode():
            dump_scores(config, model(X[:config.get("batch", 1024)]).numpy())
            f = lambda a: model(torch.from_numpy(a))  # noqa: E731
            res = latency_and_throughput(f, f, x, config)
        return {**res, **info}
    t = config["train"]

    def train(rows, epochs, seed):
        optimizer = torch.optim.SGD(model.parameters(), lr=t["lr"],
                                    momentum=t["momentum"] if t["optimizer"] == "momentum" else 0.0)
        gen = np.random.default_rng(seed)
        weights_only = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
        for _ in range(epochs):
            for idx in batches(rows, t["batch"], gen, t["shuffle"]):
                if t["batch"] > 0 or rows != len(x):
                    ti = torch.from_numpy(idx)
                    xb, yb = X[ti], Y[ti]
                else:
                    xb, yb = X, Y
                loss = torch.nn.functional.cross_entropy(model(xb), yb)
                if t["l2"]:
                    loss = loss + t["l2"] * sum((w * w).sum() for w in weights_only)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

    rss_data, hwm_data = status_kb("VmRSS"), status_kb("VmHWM")
    start = time.perf_counter()
    train(min(t.get("warmup_rows", len(x)), len(x)), t.get("warmup_epochs", 1), 1)
    warm = time.perf_counter() - start
    model.load_state_dict(state0)
    start = time.perf_counter()
    train(len(x), t["epochs"], 0)
    seconds = time.perf_counter() - start
    hwm = status_kb("VmHWM")
    with torch.inference_mode():
        scores = torch.cat([model(X[i:i + 8192]) for i in range(0, len(x), 8192)]).numpy()
    loss, acc = softmax_loss_accuracy(scores, y)
    return {**train_result(t, len(x), seconds), "accuracy": acc, "loss": loss, "warmup_seconds": warm,
            "rss_after_data_kb": rss_data, "hwm_after_data_kb": hwm_data, "peak_rss_kb": hwm,
            "loop": "eager", **info}


# ---- scikit-learn: MLPClassifier ----------------------------------------------------------------

def sklearn_peer(workload: str, config: dict) -> dict:
    import warnings

    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    limiter = threadpool_limits(THREADS, user_api="blas")
    x, y, weights = load(config)
    sizes = config["sizes"]
    info = {"thread_setting": f"threadpoolctl.threadpool_limits({THREADS}, 'blas') (NumPy's OpenBLAS)",
            "threads": THREADS, "sklearn_version": sklearn.__version__, "blas": blas_info()}
    t = config.get("train") or {"batch": 128, "lr": 0.01, "momentum": 0.9, "optimizer": "momentum", "l2": 0.0,
                                "shuffle": True, "epochs": 1}
    batch = t["batch"] if t["batch"] > 0 else len(x)
    # nncore's l2*sum(W^2) has gradient 2*l2*W; scikit-learn adds alpha*W/batch_size.
    alpha = 2 * t["l2"] * batch

    def make(epochs):
        return MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu", solver="sgd", alpha=alpha,
                             batch_size=batch, learning_rate="constant", learning_rate_init=t["lr"],
                             momentum=t["momentum"] if t["optimizer"] == "momentum" else 0.0,
                             nesterovs_momentum=False, max_iter=epochs, shuffle=bool(t["shuffle"]), tol=0.0,
                             n_iter_no_change=10 ** 9, early_stopping=False, warm_start=True, random_state=0)

    def set_initial(clf):
        clf.coefs_ = [w.astype(np.float32).copy() for w, _ in weights]
        clf.intercepts_ = [b.astype(np.float32).copy() for _, b in weights]

    warm_rows = min(t.get("warmup_rows", len(x)), len(x))
    clf = make(1)
    rss_data, hwm_data = status_kb("VmRSS"), status_kb("VmHWM")
    start = time.perf_counter()
    clf.fit(x[:max(warm_rows, sizes[-1] * 4)], y[:max(warm_rows, sizes[-1] * 4)])
    warm = time.perf_counter() - start
    if workload == "infer":
        set_initial(clf)
        dump_scores(config, clf.predict_proba(x[:config.get("batch", 1024)]))
        res = latency_and_throughput(lambda r: clf.predict(r), lambda b: clf.predict(b), x, config)
        return {**res, **info, "note": "predict (argmax of the forward pass, with input validation)"}
    clf.set_params(max_iter=t["epochs"])
    set_initial(clf)
    clf.n_iter_ = 0
    clf.t_ = 0
    start = time.perf_counter()
    clf.fit(x, y)
    seconds = time.perf_counter() - start
    hwm = status_kb("VmHWM")
    scores = clf.predict_proba(x)
    acc = float((scores.argmax(axis=1) == y).mean())
    loss = float(-np.log(np.maximum(scores[np.arange(len(y)), y], 1e-12)).mean())
    del limiter
    return {**train_result(t, len(x), seconds), "accuracy": acc, "loss": loss, "warmup_seconds": warm,
            "rss_after_data_kb": rss_data, "hwm_after_data_kb": hwm_data, "peak_rss_kb": hwm,
            "iterations": int(clf.n_iter_), **info,
            "note": f"MLPClassifier(solver='sgd', alpha={alpha:g} = 2*l2*batch, nesterovs_momentum=False)"}


# ---- ONNX Runtime: inference --------------------------------------------------------------------

def onnxruntime_peer(workload: str, config: dict) -> dict:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    if workload != "infer":
        raise SystemExit("onnxruntime: inference only")
    x, _, weights = load(config)
    nodes, inits, name = [], [], "x"
    for i, (w, b) in enumerate(weights):
        inits += [numpy_helper.from_array(w, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
        out = f"z{i}" if i + 1 < len(weights) else "scores"
        nodes.append(helper.make_node("Gemm", [name, f"W{i}", f"b{i}"], [out]))
        if i + 1 < len(weights):
            nodes.append(helper.make_node("Relu", [out], [f"h{i}"]))
            out = f"h{i}"
        name = out
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, x.shape[1]])],
                              [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, weights[-1][0].shape[1]])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = min(model.ir_version, 9)
    onnx.checker.check_model(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    dump_scores(config, session.run(None, {"x": x[:config.get("batch", 1024)]})[0])
    f = lambda a: session.run(None, {"x": a})  # noqa: E731
    res = latency_and_throughput(f, f, x, config)
    return {**res, "threads": THREADS, "onnxruntime_version": ort.__version__, "onnx_version": onnx.__version__,
            "thread_setting": f"SessionOptions.intra_op_num_threads={THREADS}, inter_op_num_threads=1, "
                              "sequential execution (intra-op pool spins by default)"}


SYSTEMS = {"nncore_py": nncore_py, "numpy": numpy_peer, "jax": jax_peer, "torch": torch_peer,
           "sklearn": sklearn_peer, "onnxruntime": onnxruntime_peer}

if __name__ == "__main__":
    system, workload, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    result = SYSTEMS[system](workload, config)
    result["rss_final_kb"] = status_kb("VmRSS")
    print(json.dumps(result))
