"""Predictions from several Python threads at once equal the serial result."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import nncore


def test_concurrent_predictions_equal_the_serial_ones(digits_split):
    X_train, X_test, y_train, _ = digits_split
    model = nncore.Model(64, seed=0).dense(64, "relu").dense(10)
    model.fit(X_train, y_train, epochs=5, optimizer="adam", lr=0.01)
    chunks = [X_test[i::7] for i in range(7)] + [X_test, X_test[:1]]
    serial = [(model.predict(c), model.predict_proba(c), model.classify(c)) for c in chunks]

    def work(index):
        chunk = chunks[index % len(chunks)]
        results = []
        for _ in range(20):
            results.append((model.predict(chunk), model.predict_proba(chunk), model.classify(chunk)))
        return index, results

    with ThreadPoolExecutor(max_workers=8) as pool:
        for index, results in pool.map(work, range(32)):
            expected = serial[index % len(chunks)]
            for got in results:
                for a, b in zip(got, expected):
                    assert np.array_equal(a, b)


def test_concurrent_predictions_really_overlap():
    # The GIL is released during the C call, so several threads are inside the library at once:
    # a fit and a prediction that overlap find the model in use (NN_ERR_BUSY, never a race).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50_000, 16)).astype(np.float32)
    model = nncore.Model(16).dense(256, "relu").dense(4)
    busy = []
    import threading
    start = threading.Barrier(3)

    def predict():
        start.wait()
        for _ in range(3):
            try:
                model.predict(X)
            except nncore.BusyError:  # the fit got in first: also an overlap
                busy.append(1)

    def train():
        start.wait()
        for _ in range(2000):
            try:
                model.fit(X[:8], np.zeros(8, np.int32), epochs=1)
            except nncore.BusyError:
                busy.append(1)
                return

    threads = [threading.Thread(target=predict), threading.Thread(target=predict), threading.Thread(target=train)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert busy, "fit never overlapped a prediction"
