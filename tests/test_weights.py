"""Tests for bench/harness/weights.py: VGG-16 weights found, given, or replaced after a bounded attempt."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.errors import UserError
from bench.harness import weights

PAYLOAD = b"pretend weights " * 64


@pytest.fixture
def fake_genuine(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """Make PAYLOAD count as the genuine file (the real one is 58 MB and cannot be downloaded)."""
    monkeypatch.setattr(weights, "SIZE_BYTES", len(PAYLOAD))
    monkeypatch.setattr(weights, "MD5", hashlib.md5(PAYLOAD, usedforsecurity=False).hexdigest())
    return PAYLOAD


@pytest.fixture
def keras_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Keras home."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras"


@pytest.fixture
def server() -> Iterator[str]:
    """A local HTTP server: /good serves PAYLOAD, /bad other bytes."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PAYLOAD if self.path == "/good" else b"something else"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: the network that hangs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def test_random_mode_never_touches_the_network(keras_home: Path) -> None:
    """--weights random builds VGG-16 with random initialisation and says so."""
    chosen = weights.resolve("random", url="http://127.0.0.1:9/never")
    assert (chosen.kind, chosen.path) == ("random", None)


def test_cached_weights_are_used(keras_home: Path, fake_genuine: bytes) -> None:
    """A genuine file in the Keras cache is used without any download."""
    weights.cache_path().parent.mkdir(parents=True)
    weights.cache_path().write_bytes(fake_genuine)
    chosen = weights.resolve("auto", url="http://127.0.0.1:9/never")
    assert (chosen.kind, chosen.path) == ("imagenet", weights.cache_path())


def test_auto_falls_back_to_random_fast_when_offline(keras_home: Path) -> None:
    """With no route to the file, auto gives random weights and the reason, quickly."""
    start = time.monotonic()
    chosen = weights.resolve("auto", url="http://127.0.0.1:9/refused", timeout_s=2)
    assert time.monotonic() - start < 5
    assert chosen.kind == "random"
    assert "download failed" in chosen.note
    assert not weights.cache_path().exists()


def test_a_hanging_server_is_bounded(keras_home: Path, silent_port: int) -> None:
    """A server that never answers costs the timeout, not a hang."""
    start = time.monotonic()
    chosen = weights.resolve("auto", url=f"http://127.0.0.1:{silent_port}/x", timeout_s=1)
    assert time.monotonic() - start < 5
    assert chosen.kind == "random"
    assert list(weights.cache_path().parent.iterdir()) == []


def test_download_checks_the_file(keras_home: Path, fake_genuine: bytes, server: str) -> None:
    """A good download lands in the cache; a wrong file is refused and leaves nothing behind."""
    chosen = weights.resolve("auto", url=f"{server}/bad")
    assert chosen.kind == "random"
    assert "expected size and MD5" in chosen.note
    assert list(weights.cache_path().parent.iterdir()) == []
    chosen = weights.resolve("auto", url=f"{server}/good")
    assert (chosen.kind, chosen.path) == ("imagenet", weights.cache_path())
    assert weights.cache_path().read_bytes() == fake_genuine


def test_imagenet_mode_fails_clearly_when_unavailable(keras_home: Path) -> None:
    """--weights imagenet without the file is a user error saying what to do."""
    with pytest.raises(UserError, match="--weights-file"):
        weights.resolve("imagenet", url="http://127.0.0.1:9/refused", timeout_s=1)


def test_weights_file_is_checked(tmp_path: Path, fake_genuine: bytes) -> None:
    """A given weights file must exist and be the genuine one."""
    with pytest.raises(UserError, match="does not exist"):
        weights.resolve("auto", tmp_path / "missing.h5")
    wrong = tmp_path / "wrong.h5"
    wrong.write_bytes(b"x" * len(fake_genuine))
    with pytest.raises(UserError, match="not the VGG-16 no-top ImageNet weights"):
        weights.resolve("auto", wrong)
    right = tmp_path / "right.h5"
    right.write_bytes(fake_genuine)
    assert weights.resolve("random", right).kind == "imagenet"
