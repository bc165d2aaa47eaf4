"""End-to-end tests of srgan_lib.plumbing.download against a small HTTP server on 127.0.0.1.

The server (``http.server`` in a thread, ephemeral port, loopback only) serves archives built in the
test, honours ``Range`` requests, and can be told to misbehave per request: close the connection
half-way through, answer 503/500/404, or ignore ``Range``. Every test checks that a failure leaves
the data root without a dataset folder and without temporary files.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan_lib.plumbing import download as dl
from srgan_lib.plumbing.download import DatasetSpec, DownloadError, RemoteFile, download_spec


def _png(seed: int, size: tuple[int, int] = (12, 10)) -> bytes:
    buf = io.BytesIO()
    rgb = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


NAMES = ("a.png", "b.png", "c.png")


def _zip(names=NAMES, folder="Tiny_HR", extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, n in enumerate(names):
            zf.writestr(f"{folder}/{n}", _png(k))
        for n, body in (extra or {}).items():
            zf.writestr(n, body)
    return buf.getvalue()


def _targz(names=NAMES, folder="Tiny_HR") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for k, n in enumerate(names):
            body = _png(k)
            info = tarfile.TarInfo(f"{folder}/{n}")
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
    return buf.getvalue()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.plans: dict[str, list[str]] = {}  # path -> actions for successive requests (last repeats)
        self.log: list[tuple[str, str | None, str]] = []
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _Handler(BaseHTTPRequestHandler):
    timeout = 10  # socket timeout: a stuck client can never hang the server thread

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        srv: _Server = self.server  # type: ignore[assignment]
        with srv.lock:
            plan = srv.plans.get(self.path, ["ok"])
            action = plan.pop(0) if len(plan) > 1 else plan[0]
            srv.log.append((self.path, self.headers.get("Range"), action))
        body = srv.files.get(self.path)
        if action in ("500", "503", "404") or body is None:
            code = 404 if body is None else int(action)
            self.send_error(code)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and action != "no-range" and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
        if start:
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        part = body[start:]
        if action == "drop":  # promise everything, send half, hang up
            self.wfile.write(part[: len(part) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(part)


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def _spec(srv: _Server, body: bytes, *, name="Tiny", path="/tiny.zip", sha256: str | None = "auto",
          expected=NAMES, count=3, subdir="Tiny_HR", filename="tiny.zip", size: int | None = None) -> DatasetSpec:
    srv.files[path] = body
    digest = hashlib.sha256(body).hexdigest() if sha256 == "auto" else sha256
    return DatasetSpec(name=name, kind="archive", subdir=subdir, image_count=count, expected_files=expected,
                       files=(RemoteFile((srv.url(path),), filename, size=size, sha256=digest),))


def _fast(**kw):
    return dict(progress=False, retries=2, backoff=0.01, timeout=5, **kw)


def _assert_clean(root: Path, name: str = "Tiny") -> None:
    """No dataset folder, no temporary files: nothing half-written."""
    leftovers = sorted(p.name for p in root.iterdir()) if root.exists() else []
    assert leftovers == [], f"left behind in {root}: {leftovers}"
    assert not (root / name).exists()


def test_success_zip(server: _Server, tmp_path: Path) -> None:
    spec = _spec(server, _zip())
    folder = download_spec(spec, tmp_path, **_fast())
    assert folder == tmp_path / "Tiny"
    assert sorted(p.name for p in folder.glob("*.png")) == list(NAMES)
    assert (folder / "a.png").read_bytes() == _png(0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Tiny"]  # no temporary folders left
    record = (folder / dl.SOURCE_FILE).read_text()
    assert hashlib.sha256(server.files["/tiny.zip"]).hexdigest() in record
    # present: returned without another request
    n = len(server.log)
    assert download_spec(spec, tmp_path, **_fast()) == folder and len(server.log) == n


def test_success_targz_without_subdir_and_env_root(server: _Server, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec(server, _targz(folder="some/other/place"), path="/t.tar.gz", filename="t.tar.gz", sha256=None)
    monkeypatch.setenv(dl.DATA_ENV, str(tmp_path / "envroot"))
    folder = download_spec(spec, None, **_fast())
    assert folder == tmp_path / "envroot" / "Tiny" and len(list(folder.glob("*.png"))) == 3


def test_resume_after_connection_drop(server: _Server, tmp_path: Path) -> None:
    body = _zip(extra={"Tiny_HR/readme.txt": b"x" * 5000})
    spec = _spec(server, body, size=len(body))
    server.plans["/tiny.zip"] = ["drop", "ok"]
    folder = download_spec(spec, tmp_path, **_fast())
    assert len(list(folder.glob("*.png"))) == 3
    (first, r1, a1), (second, r2, a2) = server.log
    assert (r1, a1) == (None, "drop")
    assert a2 == "ok" and r2 is not None and r2.startswith("bytes=") and int(r2[6:-1]) > 0  # resumed, not restarted


def test_restart_when_server_ignores_range(server: _Server, tmp_path: Path) -> None:
    spec = _spec(server, _zip())
    server.plans["/tiny.zip"] = ["drop", "no-range"]
    folder = download_spec(spec, tmp_path, **_fast())
    assert (folder / "c.png").read_bytes() == _png(2)  # the full answer replaced the partial file


def test_retry_after_503(server: _Server, tmp_path: Path) -> None:
    spec = _spec(server, _zip())
    server.plans["/tiny.zip"] = ["503", "503", "ok"]
    download_spec(spec, tmp_path, **_fast())
    assert [a for _, _, a in server.log] == ["503", "503", "ok"]


@pytest.mark.parametrize("code, retried", [("500", True), ("404", False)])
def test_server_errors(server: _Server, tmp_path: Path, code: str, retried: bool) -> None:
    spec = _spec(server, _zip())
    server.plans["/tiny.zip"] = [code]
    with pytest.raises(DownloadError, match=f"HTTP {code}") as info:
        download_spec(spec, tmp_path, **_fast())
    assert "tiny.zip" in str(info.value)
    assert len(server.log) == (3 if retried else 1)  # 5xx: retries + 1 attempts; 4xx: fails at once
    _assert_clean(tmp_path)


def test_connection_refused_is_retried_then_clear(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = DatasetSpec(name="Tiny", kind="archive", image_count=1,
                       files=(RemoteFile((f"http://127.0.0.1:{port}/x.zip",), "x.zip"),))
    with pytest.raises(DownloadError, match="could not download x.zip"):
        download_spec(spec, tmp_path, **_fast())
    _assert_clean(tmp_path)


def test_wrong_checksum(server: _Server, tmp_path: Path) -> None:
    spec = _spec(server, _zip(), sha256="0" * 64)
    with pytest.raises(DownloadError, match="SHA-256 mismatch"):
        download_spec(spec, tmp_path, **_fast())
    _assert_clean(tmp_path)


def test_wrong_size_after_resume_is_not_accepted(server: _Server, tmp_path: Path) -> None:
    body = _zip()
    spec = _spec(server, body, size=len(body) + 10, sha256=None)
    with pytest.raises(DownloadError, match="expected"):
        download_spec(spec, tmp_path, **_fast())
    _assert_clean(tmp_path)


@pytest.mark.parametrize("kind", ["not_an_archive", "truncated_zip", "bad_crc"])
def test_corrupt_archive(server: _Server, tmp_path: Path, kind: str) -> None:
    body = _zip()
    if kind == "not_an_archive":
        body = b"<html>rate limited</html>"
    elif kind == "truncated_zip":
        body = body[: len(body) // 2]
    else:  # flip a byte inside a stored member: the CRC check fails on extraction
        blob = _png(1)
        i = body.index(blob) + len(blob) // 2
        body = body[:i] + bytes([body[i] ^ 0xFF]) + body[i + 1 :]
    spec = _spec(server, body)  # the checksum matches these bytes: the archive itself is bad
    with pytest.raises(DownloadError, match="corrupt|not a zip or tar"):
        download_spec(spec, tmp_path, **_fast())
    _assert_clean(tmp_path)


def test_missing_file_in_archive(server: _Server, tmp_path: Path) -> None:
    spec = _spec(server, _zip(names=("a.png", "c.png")))
    with pytest.raises(DownloadError, match=r"1 expected file\(s\) missing: b\.png"):
        download_spec(spec, tmp_path, **_fast())
    _assert_clean(tmp_path)


def test_wrong_image_count_and_unreadable_image(server: _Server, tmp_path: Path) -> None:
    spec = _spec(server, _zip(names=NAMES + ("d.png",)), expected=())
    with pytest.raises(DownloadError, match="expected 3 images, found 4"):
        download_spec(spec, tmp_path, **_fast())
    _assert_clean(tmp_path)
    spec = _spec(server, _zip(names=("a.png", "b.png"), extra={"Tiny_HR/c.png": b""}), path="/z.zip")
    with pytest.raises(DownloadError, match="unreadable image c.png"):
        download_spec(spec, tmp_path, **_fast())
    _assert_clean(tmp_path)


def test_unsafe_archive_member_refused(server: _Server, tmp_path: Path) -> None:
    spec = _spec(server, _zip(extra={"../evil.png": _png(9)}))
    with pytest.raises(DownloadError, match="refusing archive member"):
        download_spec(spec, tmp_path / "root", **_fast())
    assert not (tmp_path / "evil.png").exists()
    _assert_clean(tmp_path / "root")


def test_files_kind_and_force_replace(server: _Server, tmp_path: Path) -> None:
    for k, n in enumerate(NAMES):
        server.files[f"/{n}"] = _png(k)
    spec = DatasetSpec(name="Loose", kind="files", image_count=3, expected_files=NAMES,
                       image_sizes={"a.png": (12, 10)},
                       files=tuple(RemoteFile((server.url(f"/{n}"),), n) for n in NAMES))
    folder = download_spec(spec, tmp_path, **_fast())
    assert sorted(p.name for p in folder.glob("*.png")) == list(NAMES)
    # force: a failing re-download leaves the old folder in place
    server.plans["/b.png"] = ["404"]
    with pytest.raises(DownloadError):
        download_spec(spec, tmp_path, force=True, **_fast())
    assert sorted(p.name for p in folder.glob("*.png")) == list(NAMES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Loose"]
    # a wrong image size is caught
    bad = DatasetSpec(name="Loose2", kind="files", image_count=3, image_sizes={"a.png": (99, 99)},
                      files=spec.files)
    server.plans["/b.png"] = ["ok"]
    with pytest.raises(DownloadError, match="a.png is 12x10, expected 99x99"):
        download_spec(bad, tmp_path, **_fast())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Loose"]


def test_incomplete_existing_folder_is_not_silently_used_or_replaced(server: _Server, tmp_path: Path) -> None:
    (tmp_path / "Tiny").mkdir()
    (tmp_path / "Tiny" / "a.png").write_bytes(_png(0))
    spec = _spec(server, _zip())
    with pytest.raises(DownloadError, match="holds 1 of 3 images; pass force=True"):
        download_spec(spec, tmp_path, **_fast())
    assert download_spec(spec, tmp_path, force=True, **_fast()) == tmp_path / "Tiny"
    assert len(list((tmp_path / "Tiny").glob("*.png"))) == 3


def test_registry_and_offline_message(tmp_path: Path) -> None:
    assert set(dl.dataset_names()) == {"DIV2K-train", "DIV2K-valid", "Set5", "Set14", "BSD100", "Urban100", "Kodak24"}
    assert dl.resolve_name("b100") == "BSD100" and dl.resolve_name("div2k_valid") == "DIV2K-valid"
    with pytest.raises(ValueError, match="unknown dataset 'Set6'"):
        dl.resolve_name("Set6")
    for spec in dl.REGISTRY.values():
        assert spec.files and all(f.urls and all(u.startswith(("https://", "http://")) for u in f.urls)
                                  for f in spec.files)
        assert spec.checksums and spec.licence and spec.image_count > 0
        assert not spec.expected_files or len(spec.expected_files) == spec.image_count
        for f in spec.files:
            assert f.sha256 is None or len(f.sha256) == 64
    assert dl.REGISTRY["DIV2K-valid"].files[0].urls[0] == "https://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_valid_HR.zip"
    assert len(dl.REGISTRY["Kodak24"].files) == 24
    with pytest.raises(dl.DatasetNotFound) as info:
        dl.find_dataset("Set14", tmp_path)
    msg = str(info.value)
    assert str(tmp_path / "Set14") in msg and "Set14_HR.tar.gz" in msg and "python -m srgan_lib.plumbing.download Set14" in msg


def test_known_datasets_match_the_shared_copies(shared_datasets: Path) -> None:
    """The registry's file lists and sizes agree with the maintainers' copies."""
    for name in ("Set5", "BSD100", "Kodak24"):
        spec = dl.REGISTRY[name]
        files = sorted(p.name for p in (shared_datasets / name).glob("*.png"))
        assert files == sorted(spec.expected_files), name
        assert dl.is_downloaded(name, shared_datasets)
    for fname, size in dl.REGISTRY["Kodak24"].image_sizes.items():
        with Image.open(shared_datasets / "Kodak24" / fname) as im:
            assert im.size == size, fname


def test_command_line_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dl.main(["--list", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "BSD100" in out and "missing" in out and str(tmp_path) in out
    assert dl.main(["Set6", "--root", str(tmp_path)]) == 1
    assert "unknown dataset" in capsys.readouterr().err


# -- finding datasets in the data roots --------------------------------------------------------------


def _fill(folder: Path, names=("baby.png", "bird.png", "butterfly.png", "head.png", "woman.png")) -> Path:
    folder.mkdir(parents=True)
    for k, n in enumerate(names):
        (folder / n).write_bytes(_png(k))
    return folder


@pytest.fixture()
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """An isolated set of data roots: $SRGAN_DATA, a home whose ~/.cache/srgan is searched, and a fake
    repository checkout with ../shared/datasets beside it."""
    paths = {"env": tmp_path / "env", "cache": tmp_path / "home" / ".cache" / "srgan",
             "shared": tmp_path / "work" / "shared" / "datasets"}
    (tmp_path / "work" / "repo").mkdir(parents=True)
    (tmp_path / "work" / "repo" / "pyproject.toml").write_text("")
    paths["shared"].mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(dl.DATA_ENV, str(paths["env"]))
    monkeypatch.setattr(dl, "_REPO", tmp_path / "work" / "repo")
    return paths


def test_data_roots_order(roots: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert dl.data_roots() == [roots["env"], roots["cache"], roots["shared"]]
    assert dl.repository_datasets() == roots["shared"]
    assert dl.data_roots(tmp_path / "only") == [tmp_path / "only"]
    monkeypatch.delenv(dl.DATA_ENV)
    assert dl.data_roots() == [roots["cache"], roots["shared"]]
    (tmp_path / "work" / "repo" / "pyproject.toml").unlink()  # not a checkout (a pip install): no shared
    assert dl.data_roots() == [roots["cache"]] and dl.repository_datasets() is None


def test_find_dataset_searches_every_root_in_order(roots: dict[str, Path]) -> None:
    from srgan_lib.data import load_eval_set

    with pytest.raises(dl.DatasetNotFound) as info:
        dl.find_dataset("Set5")
    msg = str(info.value)
    assert all(str(roots[k] / "Set5") in msg for k in roots) and "python -m srgan_lib.plumbing.download Set5" in msg
    _fill(roots["shared"] / "Set5")
    assert dl.find_dataset("set5") == roots["shared"] / "Set5"
    assert load_eval_set("Set5").folder == roots["shared"] / "Set5"  # load_eval_set goes through it
    _fill(roots["cache"] / "Set5")  # where `srgan download` puts it comes first
    assert dl.find_dataset("Set5") == roots["cache"] / "Set5"
    _fill(roots["env"] / "Set5", names=("a.png", "b.png"))  # incomplete: skipped
    assert dl.find_dataset("Set5") == roots["cache"] / "Set5"
    with pytest.raises(dl.DatasetNotFound, match="incomplete Set5"):
        dl.find_dataset("Set5", roots["env"])  # an explicit root is the only place looked


def test_find_dataset_downloads_into_the_data_root(roots: dict[str, Path], server: _Server,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    spec = dataclasses.replace(_spec(server, _targz(), name="Set5"), image_count=3, expected_files=NAMES)
    monkeypatch.setitem(dl.REGISTRY, "Set5", spec)
    folder = dl.find_dataset("Set5", download=True, progress=False)
    assert folder == roots["env"] / "Set5" and sorted(p.name for p in folder.glob("*.png")) == list(NAMES)
    n_requests = len(server.log)
    assert dl.find_dataset("Set5", download=True) == folder and len(server.log) == n_requests  # found, not fetched


def test_is_online_probe(server: _Server, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import time

    assert dl.is_online(server.url("/"), timeout=5)
    with socket.socket() as s:  # a port that nothing listens on: refused at once
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert not dl.is_online(f"http://127.0.0.1:{closed}/", timeout=5)

    def hangs(*args, **kwargs):  # a name server or route that never answers
        time.sleep(3)
        raise OSError("too late")

    monkeypatch.setattr(dl.socket, "create_connection", hangs)
    t0 = time.perf_counter()
    assert not dl.is_online("https://example.invalid/", timeout=0.2)
    assert time.perf_counter() - t0 < 1.5


# -- the fault probe of issue 28 ------------------------------------------------------------------------


def test_failed_attempts_name_the_url_once_and_are_counted(server: _Server, tmp_path: Path) -> None:
    """Weak: each attempt's message repeated the URL (five times with the default retries)."""
    spec = _spec(server, _zip())
    server.plans["/tiny.zip"] = ["503"]
    with pytest.raises(DownloadError) as info:
        download_spec(spec, tmp_path, **_fast())
    msg = str(info.value)
    url = server.url("/tiny.zip")
    assert msg == f"could not download tiny.zip from {url} (3 attempts; last: HTTP 503 Service Unavailable)"
    server.plans["/tiny.zip"] = ["404"]  # not retried: one attempt
    with pytest.raises(DownloadError, match=r"from http://.*/tiny.zip \(1 attempt; last: HTTP 404 Not Found\)$"):
        download_spec(spec, tmp_path, **_fast())
    _assert_clean(tmp_path)


@pytest.mark.parametrize("where", ["file", "below_a_file"])
def test_a_root_that_cannot_be_a_folder_is_one_line(server: _Server, tmp_path: Path, where: str) -> None:
    """Weak: `download --root` on a file gave `[Errno 17] File exists`, below one `[Errno 20]`."""
    (tmp_path / "f").write_text("a file")
    root = tmp_path / "f" if where == "file" else tmp_path / "f" / "data"
    with pytest.raises(OSError) as info:
        download_spec(_spec(server, _zip()), root, **_fast())
    msg = str(info.value)
    assert msg.startswith(f"{root}: ") and "f is a file, not a folder" in msg and "--root" in msg
    assert "[Errno" not in msg and "\n" not in msg and server.log == []


def test_a_full_disk_during_the_download_is_one_line(server: _Server, tmp_path: Path, monkeypatch) -> None:
    """Weak: a full data root showed `[Errno 28] No space left on device: '.../download/tiny.zip'`."""
    import errno

    class Full(io.BytesIO):
        def write(self, b):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(dl, "open", lambda *a, **k: Full(), raising=False)  # the module's open, not Python's
    with pytest.raises(DownloadError) as info:
        download_spec(_spec(server, _zip()), tmp_path, **_fast())
    msg = str(info.value)
    assert msg.startswith(f"{tmp_path}: ") and "disk is full" in msg and "[Errno" not in msg
    _assert_clean(tmp_path)
