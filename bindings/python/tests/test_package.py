"""Installation and loading: the bundled library, the loader's order and its errors, versions."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nncore
from nncore import _capi, _loader

from conftest import child_environment


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=child_environment(**env), cwd="/", timeout=60)


def test_package_version_matches_the_c_library():
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert f'version = "{nncore.__version__}"' in pyproject
    assert nncore.__version__ == nncore.library_version()


def test_library_major_version_matches_the_binding():
    number = nncore._lib().nn_version_number()
    assert number // 10000 == _capi.VERSION_MAJOR
    assert number >= _capi.VERSION_NUMBER


def test_installed_package_uses_its_bundled_library():
    package = Path(nncore.__file__).parent
    if "site-packages" not in str(package) and "dist-packages" not in str(package):
        pytest.skip("running from the source tree, not an installed package")
    if "NNCORE_LIBRARY" in __import__("os").environ:
        pytest.skip("NNCORE_LIBRARY overrides the bundled copy")
    assert Path(nncore.library_path()) == package / "libnncore.so"


def test_loader_tries_environment_then_bundled_then_build_tree_then_system(monkeypatch):
    monkeypatch.delenv("NNCORE_LIBRARY", raising=False)
    order = [where for where, _ in _loader.candidates()]
    ranks = {"bundled": 0, "build tree": 1, "system": 2}
    assert order[0] == "bundled"
    assert [ranks[w] for w in order] == sorted(ranks[w] for w in order)
    assert "system" in order


def test_nncore_library_variable_is_the_only_place_looked_at_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv("NNCORE_LIBRARY", str(tmp_path / "libnncore.so"))
    assert _loader.candidates() == [("NNCORE_LIBRARY", str(tmp_path / "libnncore.so"))]
    monkeypatch.setenv("NNCORE_LIBRARY", str(tmp_path))
    assert [p for _, p in _loader.candidates()] == [str(tmp_path / "libnncore.so.0"), str(tmp_path / "libnncore.so")]


def test_nncore_library_variable_selects_the_library():
    path = nncore.library_path()
    result = run_python("import nncore; print(nncore.library_path())", NNCORE_LIBRARY=path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == path


def test_a_missing_library_is_reported_with_the_path_tried():
    result = run_python("""
        import nncore
        try:
            nncore.Model(2)
        except nncore.LibraryError as error:
            assert isinstance(error, ImportError)
            print(error)
    """, NNCORE_LIBRARY="/nonexistent/libnncore.so")
    assert result.returncode == 0, result.stderr
    assert "/nonexistent/libnncore.so: no such file" in result.stdout
    assert "NNCORE_LIBRARY" in result.stdout


def test_the_error_lists_every_path_tried_and_why():
    result = run_python("""
        import nncore
        from nncore import _loader
        _loader.candidates = lambda: [("bundled", "/nowhere/libnncore.so"),
                                      ("build tree", "libm.so.6"),
                                      ("system", "libdoes-not-exist.so.0")]
        try:
            nncore.library_path()
        except nncore.LibraryError as error:
            print(error)
    """)
    assert result.returncode == 0, result.stderr
    lines = result.stdout
    assert "bundled: /nowhere/libnncore.so: no such file" in lines
    assert "build tree: libm.so.6: not an nncore library" in lines
    assert "system: libdoes-not-exist.so.0:" in lines


def test_a_library_of_another_major_version_is_refused(monkeypatch):
    monkeypatch.setattr(_capi, "VERSION_MAJOR", _capi.VERSION_MAJOR + 1)
    library, reason = _loader._try(nncore.library_path())
    assert library is None
    assert f"needs major version {_capi.VERSION_MAJOR}" in reason


def test_thread_count_can_be_read_and_set():
    before = nncore.get_thread_count()
    nncore.set_thread_count(1)
    assert nncore.get_thread_count() == 1
    nncore.set_thread_count(before)
    with pytest.raises(nncore.InvalidArgumentError):
        nncore.set_thread_count(0)


def test_runtime_dependency_is_numpy_only():
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    dependencies = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert [d.strip().strip('"').split(">")[0] for d in dependencies.split(",") if d.strip()] == ["numpy"]
    result = run_python("""
        import sys
        import nncore
        nncore.Model(2).dense(3)
        print(sorted(m for m in ("sklearn", "tqdm", "pandas", "scipy") if m in sys.modules))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

