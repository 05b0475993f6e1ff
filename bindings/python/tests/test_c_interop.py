"""A model saved in Python loads in C and the reverse, with identical predictions.

A small C program (tests/c/interop.c) is compiled against nncore.h and the very libnncore.so this
package uses. When `make c-examples` has built the repository's examples (examples/c/
train_spiral.c and classify.c), they are exercised too.
"""
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import nncore

from conftest import REPOSITORY

HERE = Path(__file__).resolve().parent


def find_header() -> Path:
    for candidate in (REPOSITORY / "include", REPOSITORY / "build" / "include", Path("/usr/local/include")):
        if (candidate / "nncore.h").exists():
            return candidate
    pytest.skip("nncore.h not found")


@pytest.fixture(scope="module")
def interop(tmp_path_factory):
    compiler = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler")
    work = tmp_path_factory.mktemp("interop")
    # Link against the library Python loaded, under its SONAME, found through an rpath.
    library = Path(nncore.library_path()).resolve()
    (work / "libnncore.so.0").symlink_to(library)
    (work / "libnncore.so").symlink_to(library)
    program = work / "interop"
    subprocess.run([compiler, "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-O1", str(HERE / "c" / "interop.c"),
                    f"-I{find_header()}", f"-L{work}", "-lnncore", f"-Wl,-rpath,{work}", "-o", str(program)],
                   check=True, capture_output=True, text=True)
    return program


def run(*args, cwd=None):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_saved_in_python_loaded_in_c_predicts_identically(interop, tmp_path, trained_spiral, spiral):
    X, _ = spiral
    trained_spiral.save(tmp_path / "py.nnm")
    X.tofile(tmp_path / "inputs.f32")
    run(interop, "predict", tmp_path / "py.nnm", tmp_path / "inputs.f32", 300, 2, tmp_path / "c.f32")
    from_c = np.fromfile(tmp_path / "c.f32", dtype=np.float32).reshape(300, 3)
    assert np.array_equal(from_c, trained_spiral.predict(X))


def test_saved_in_c_loaded_in_python_predicts_identically(interop, tmp_path, spiral):
    X, y = spiral
    X.tofile(tmp_path / "inputs.f32")
    y.astype(np.int32).tofile(tmp_path / "labels.i32")
    run(interop, "train", tmp_path / "c.nnm", tmp_path / "inputs.f32", tmp_path / "labels.i32", 300, 2, 3,
        tmp_path / "c.f32")
    model = nncore.Model.load(tmp_path / "c.nnm")
    from_c = np.fromfile(tmp_path / "c.f32", dtype=np.float32).reshape(300, 3)
    assert np.array_equal(model.predict(X), from_c)
    assert model.metadata["written by"] == "interop.c"
    assert model.epochs_trained == 200 and len(model.history) == 200
    assert (model.classify(X) == y).mean() > 0.9
    # Training continues in Python from the state C saved.
    model.fit(X, y, epochs=1, optimizer="adam", lr=0.01)
    assert model.epochs_trained == 201


def _example(name: str) -> Path:
    directory = Path(os.environ.get("NNCORE_C_EXAMPLES", REPOSITORY / ".build" / "c-examples"))
    program = directory / name
    if not program.exists():
        pytest.skip(f"{name} is not built (make c-examples)")
    return program


def test_the_c_spiral_example_model_loads_in_python(tmp_path):
    run(_example("train_spiral"), cwd=tmp_path)
    raw = (tmp_path / "spiral_points.bin").read_bytes()
    X = np.frombuffer(raw[:2400], dtype=np.float32).reshape(300, 2)
    y = np.frombuffer(raw[2400:3600], dtype=np.int32)
    model = nncore.Model.load(tmp_path / "spiral.nnm")
    assert (model.classify(X) == y).mean() >= 0.97


def test_the_c_classify_example_accepts_a_model_saved_in_python(tmp_path, trained_spiral, spiral):
    X, y = spiral
    program = _example("classify")
    with open(tmp_path / "spiral_points.bin", "wb") as f:
        f.write(X.astype(np.float32).tobytes())
        f.write(y.astype(np.int32).tobytes())
    trained_spiral.class_labels = ["zero", "one", "two"]
    trained_spiral.metadata["saved by"] = "python"
    trained_spiral.save(tmp_path / "spiral.nnm")
    result = run(program, "spiral.nnm", cwd=tmp_path)
    assert "saved by = python" in result.stdout and "accuracy" in result.stdout
