"""Socket addresses: in the state dir when they fit, else a private runtime folder."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from ghostrun.ipc import Endpoints, IpcError, endpoints_for, private_dir
from ghostrun.ipc.endpoints import sun_path_limit


def _long_state_dir(root: Path) -> Path:
    folder = root / ("deep-project-folder-" * 8) / ".ghostrun"
    folder.mkdir(parents=True, mode=0o700)
    return folder


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_short_state_dir_holds_the_sockets(tmp_path: Path) -> None:
    state = Path(tempfile.mkdtemp(prefix="gr-"))
    try:
        endpoints = endpoints_for(state)
        assert endpoints == Endpoints(f"ipc://{state}/control.sock", f"ipc://{state}/events.sock")
        assert endpoints.paths() == (state / "control.sock", state / "events.sock")
    finally:
        state.rmdir()


def test_long_state_dir_falls_back_to_xdg_runtime_dir(tmp_path: Path, runtime_dir: Path) -> None:
    state = _long_state_dir(tmp_path)
    assert len(os.fsencode(state / "control.sock")) > sun_path_limit()
    endpoints = endpoints_for(state)
    folders = {path.parent for path in endpoints.paths()}
    assert len(folders) == 1
    folder = folders.pop()
    assert folder.parent == runtime_dir and folder.name.startswith("ghostrun-")
    assert all(len(os.fsencode(p)) <= sun_path_limit() for p in endpoints.paths())
    assert folder.is_dir() and _mode(folder) == 0o700
    assert endpoints_for(state) == endpoints  # stable: clients and daemon agree


def test_two_projects_get_two_fallback_folders(tmp_path: Path, runtime_dir: Path) -> None:
    first = endpoints_for(_long_state_dir(tmp_path / "a"))
    second = endpoints_for(_long_state_dir(tmp_path / "b"))
    assert first.control != second.control


def test_without_xdg_runtime_dir_a_per_user_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp_root = Path(tempfile.mkdtemp(prefix="grt-"))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))
    try:
        endpoints = endpoints_for(_long_state_dir(tmp_path))
        folder = endpoints.paths()[0].parent
        assert folder.parent == temp_root
        assert folder.name.startswith(f"ghostrun-{os.getuid()}-")
        assert _mode(folder) == 0o700
    finally:
        shutil.rmtree(temp_root)


def test_a_loosened_private_dir_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "sockets"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    assert private_dir(folder) == folder
    assert _mode(folder) == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_owned_by_someone_else_is_refused(tmp_path: Path, runtime_dir: Path) -> None:
    state = _long_state_dir(tmp_path)
    planted = endpoints_for(state).paths()[0].parent
    os.chown(planted, 4321, 4321)
    with pytest.raises(IpcError, match="another user"):
        endpoints_for(state)


def test_a_symlink_in_place_of_the_folder_is_refused(tmp_path: Path, runtime_dir: Path) -> None:
    state = _long_state_dir(tmp_path)
    planted = endpoints_for(state).paths()[0].parent
    planted.rmdir()
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    planted.symlink_to(target)
    with pytest.raises(IpcError, match="not a directory"):
        endpoints_for(state)


def test_tcp_endpoints_have_no_socket_files() -> None:
    assert Endpoints("tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556").paths() == ()
