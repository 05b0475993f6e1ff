"""The examples in examples/python run and print what they promise."""
import subprocess
import sys

import pytest

from conftest import REPOSITORY, child_environment

EXAMPLES = REPOSITORY / "examples" / "python"


def run_example(name, tmp_path, *args):
    script = EXAMPLES / name
    if not script.exists():
        pytest.skip(f"{script} not found (not running from the nncore repository)")
    result = subprocess.run([sys.executable, str(script), *map(str, args)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env=child_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_spiral_example(tmp_path):
    result = run_example("spiral.py", tmp_path, tmp_path / "spiral.nnm")
    assert "2-layer net (100 ReLU units): training accuracy 9" in result.stdout
    assert (tmp_path / "spiral.nnm").exists()


def test_digits_example_shows_a_progress_bar(tmp_path):
    pytest.importorskip("sklearn")
    result = run_example("digits.py", tmp_path)
    assert "held-out accuracy 9" in result.stdout
    assert "epoch" in result.stderr  # the progress bar (tqdm or the plain line) goes to stderr


def test_graph_example(tmp_path):
    result = run_example("graph.py", tmp_path)
    assert "f = (x + y) * z = -12.0; df/dx = -4.0, df/dy = -4.0, df/dz = 3.0" in result.stdout
