"""Callbacks, cancellation, Ctrl-C and the progress display."""
import io
import os
import signal
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import nncore

from conftest import child_environment


class Boom(Exception):
    pass


def test_callbacks_see_every_epoch(spiral):
    X, y = spiral
    seen = []
    model = nncore.Model(2).dense(8, "relu").dense(3)
    history = model.fit(X, y, epochs=7, callbacks=seen.append, validation=0.1)
    assert [s.epoch for s in seen] == [1, 2, 3, 4, 5, 6, 7]
    assert seen == list(history)
    assert all(isinstance(s, nncore.EpochStats) and s.val_loss is not None for s in seen)


def test_an_exception_in_a_callback_stops_training_and_is_reraised_unchanged(spiral):
    X, y = spiral
    model = nncore.Model(2, seed=0).dense(8, "relu").dense(3)
    raised = Boom("from the callback")

    def callback(stats):
        if stats.epoch == 3:
            raise raised

    with pytest.raises(Boom) as caught:
        model.fit(X, y, epochs=50, callbacks=[callback])
    assert caught.value is raised
    assert any(frame.name == "callback" for frame in caught.traceback)
    assert model.epochs_trained == 3
    before = model.predict(X)
    model.fit(X, y, epochs=2)  # the model stays usable
    assert model.epochs_trained == 5 and not np.array_equal(model.predict(X), before)


def test_stop_training_ends_fit_cleanly(spiral):
    X, y = spiral
    model = nncore.Model(2).dense(8, "relu").dense(3)

    def stop_at_four(stats):
        if stats.epoch == 4:
            raise nncore.StopTraining

    history = model.fit(X, y, epochs=100, callbacks=stop_at_four)
    assert history.stop_reason == "cancelled" and len(history) == 4
    assert model.epochs_trained == 4


def test_the_model_is_busy_inside_its_own_callback(spiral):
    X, y = spiral
    model = nncore.Model(2).dense(8, "relu").dense(3)
    errors = []

    def use_model(stats):
        try:
            model.predict(X)
        except nncore.BusyError as error:
            errors.append(error)
        worker = threading.Thread(target=lambda: errors.append(pytest.raises(nncore.BusyError, model.predict, X)))
        worker.start()
        worker.join()

    model.fit(X, y, epochs=2, callbacks=use_model)
    assert len(errors) == 4
    assert isinstance(errors[0], nncore.BusyError) and errors[0].status == nncore._capi.NN_ERR_BUSY


def test_keyboard_interrupt_stops_at_the_epoch_end_and_keeps_the_model_usable(spiral):
    X, y = spiral
    model = nncore.Model(2, seed=0).dense(64, "relu").dense(3)
    epochs_seen = []
    # SIGINT arrives from another thread while the main thread is inside the C library.
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y, epochs=10_000_000, batch_size=0, lr=0.5, callbacks=lambda s: epochs_seen.append(s.epoch))
    finally:
        timer.cancel()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    trained = model.epochs_trained
    assert 0 < trained < 10_000_000 and epochs_seen[-1] == trained
    assert model.predict(X).shape == (300, 3)
    model.fit(X, y, epochs=1)
    assert model.epochs_trained == trained + 1


def test_ctrl_c_in_a_script_interrupts_training_cleanly(tmp_path):
    script = textwrap.dedent("""
        import os, signal, sys, threading
        import numpy as np
        import nncore
        X = np.random.default_rng(0).standard_normal((200, 2)).astype(np.float32)
        y = (X[:, 0] > 0).astype(np.int32)
        model = nncore.Model(2).dense(32, "relu").dense(2)
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            model.fit(X, y, epochs=10_000_000, batch_size=0, progress=False)
        except KeyboardInterrupt:
            print("interrupted after", model.epochs_trained, "epochs; accuracy",
                  (model.classify(X) == y).mean())
            sys.exit(0)
        sys.exit(1)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            env=child_environment())
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("interrupted after")


def test_plain_progress_line(spiral):
    X, y = spiral
    stream = io.StringIO()
    progress = nncore._progress.Progress("plain", 20, stream)
    model = nncore.Model(2).dense(8, "relu").dense(3)
    history = model.fit(X, y, epochs=20)
    for stats in history:
        progress.update(stats)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10  # not a terminal: one line per tenth
    assert lines[-1].startswith("fit: epoch 20/20  loss ") and "acc " in lines[-1]


def test_plain_progress_is_written_to_stderr_during_fit(spiral, capsys):
    X, y = spiral
    nncore.Model(2).dense(3).fit(X, y, epochs=10, progress="plain", validation=0.2)
    err = capsys.readouterr().err
    assert "fit: epoch 10/10" in err and "val_loss" in err


def test_tqdm_progress_bar(spiral, capsys):
    pytest.importorskip("tqdm")
    X, y = spiral
    nncore.Model(2).dense(3).fit(X, y, epochs=30, progress=True)
    err = capsys.readouterr().err
    assert "30/30" in err and "epoch" in err


def test_progress_is_off_by_default_when_not_on_a_terminal(spiral, capsys):
    X, y = spiral
    nncore.Model(2).dense(3).fit(X, y, epochs=30)
    nncore.Model(2).dense(3).fit(X, y, epochs=30, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_falls_back_to_the_plain_line_without_tqdm(spiral, capsys, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` fail
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = spiral
    nncore.Model(2).dense(3).fit(X, y, epochs=5, progress=True)
    assert "fit: epoch 5/5" in capsys.readouterr().err
