"""The data layer on small files these tests generate in the real formats."""

import gzip
import hashlib
import io
import struct
import tarfile

import numpy as np
import pytest

from checker import datasets
from checker.datasets import DataError, RemoteFile


def idx_bytes(array: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C}[array.dtype]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def test_read_idx_reads_gzipped_images_and_labels(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "imgs-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(images)))
    np.testing.assert_array_equal(datasets.read_idx(path), images)
    labels = np.array([7, -3, 100000], dtype=np.int32)
    (tmp_path / "l.idx").write_bytes(idx_bytes(labels))
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "l.idx"), labels)


def test_read_idx_names_a_truncated_file(tmp_path):
    data = idx_bytes(np.zeros((5, 28, 28), dtype=np.uint8))[:-100]
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(data))
    with pytest.raises(DataError, match="truncated or corrupt"):
        datasets.read_idx(path)


def test_read_idx_names_a_cut_gzip_stream(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.ones((50, 28, 28), dtype=np.uint8)))[:60])
    with pytest.raises(DataError, match="truncated download"):
        datasets.read_idx(path)


def test_read_idx_rejects_other_files(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(DataError, match="not an IDX file"):
        datasets.read_idx(path)


def fake_opener(payloads: dict):
    def opener(url, timeout=None):
        if isinstance(payloads[url], Exception):
            raise payloads[url]
        return io.BytesIO(payloads[url])

    return opener


def remote(content: bytes, *urls: str) -> RemoteFile:
    return RemoteFile("demo/file.bin", hashlib.sha256(content).hexdigest(), len(content), urls)


def test_fetch_verifies_and_moves_into_place(tmp_path):
    content = b"x" * 1000
    f = remote(content, "http://a/f")
    path = datasets.fetch(f, tmp_path, opener=fake_opener({"http://a/f": content}))
    assert path.read_bytes() == content
    assert list(path.parent.iterdir()) == [path], "no partial files may be left behind"


def test_fetch_refuses_a_truncated_download_and_tries_the_next_mirror(tmp_path):
    content = b"0123456789" * 50
    f = remote(content, "http://a/f", "http://b/f")
    opener = fake_opener({"http://a/f": content[:-7], "http://b/f": content})
    assert datasets.fetch(f, tmp_path, opener=opener).read_bytes() == content


def test_fetch_reports_every_mirror_and_leaves_no_file(tmp_path):
    content = b"abc" * 10
    f = remote(content, "http://a/f", "http://b/f")
    opener = fake_opener({"http://a/f": b"wrong", "http://b/f": OSError("no route to host")})
    with pytest.raises(DataError) as info:
        datasets.fetch(f, tmp_path, opener=opener)
    assert "http://a/f" in str(info.value) and "no route to host" in str(info.value)
    assert not (tmp_path / f.path).exists()
    assert list((tmp_path / "demo").iterdir()) == []


def test_check_file_tells_missing_truncated_and_corrupt_apart(tmp_path):
    content = b"hello world"
    f = remote(content, "http://a/f")
    assert datasets.check_file(f, tmp_path) == "missing"
    (tmp_path / "demo").mkdir()
    (tmp_path / f.path).write_bytes(content[:5])
    assert datasets.check_file(f, tmp_path).startswith("truncated")
    (tmp_path / f.path).write_bytes(b"HELLO WORLD")
    assert datasets.check_file(f, tmp_path).startswith("corrupt")
    (tmp_path / f.path).write_bytes(content)
    assert datasets.check_file(f, tmp_path) == "ok"


def test_mnist_falls_back_to_the_real_offline_sample(tmp_path):
    data = datasets.load_mnist(root=tmp_path)
    assert not data.full and "offline MNIST sample" in data.source
    assert data.x_train.shape == (4000, 28, 28) and data.x_test.shape == (1000, 28, 28)
    assert data.x_train.dtype == np.uint8 and data.x_train.max() > 200
    assert np.bincount(data.y_test).tolist() == [100] * 10


def test_corrupt_cached_mnist_is_named_when_the_full_set_is_required(tmp_path):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").write_bytes(b"partial")
    with pytest.raises(DataError, match="truncated"):
        datasets.load_mnist(root=tmp_path, allow_sample=False)


# ----------------------------------------------------------------------------- CIFAR-10

RECORD = 1 + 3 * 32 * 32


def test_cifar10_is_registered_as_the_official_binary_archive():
    title, (f,) = datasets.DATASETS["cifar10"]
    assert f.urls == ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)
    assert f.size == 170052171 and len(f.sha256) == 64 and int(f.sha256, 16) >= 0
    assert f.path == "cifar10/cifar-10-binary.tar.gz" and "CIFAR-10" in title


def test_rt_polarity_is_registered_with_its_published_checksum():
    title, (f,) = datasets.DATASETS["rt-polarity"]
    assert f.path == "rt-polarity/rt-polaritydata.tar.gz" and f.size == 487770
    assert f.sha256 == "a05befe52aafda71d458d188a1c54506a998b1308613ba76bbda2e5029409ce9"
    assert "rt-polarity" in datasets.UNPACK


def test_minilm_is_registered_file_by_file():
    title, files = datasets.DATASETS["all-MiniLM-L6-v2"]
    names = {f.path.split("/", 1)[1] for f in files}
    assert {"config.json", "vocab.txt", "model.safetensors"} <= names
    assert all(len(f.sha256) == 64 and f.size > 0 and f.urls for f in files)


def tar_gz(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def member(name: str, data: bytes | None = None, kind=tarfile.REGTYPE, link: str = ""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = len(data) if data is not None else 0
    return info, data


def cifar_members(records: int = 2, skip: str = "") -> list:
    """A miniature cifar-10-batches-bin: six batches of `records` records, and the meta file."""
    out = [member("cifar-10-batches-bin", kind=tarfile.DIRTYPE)]
    for i, name in enumerate(datasets.CIFAR10_BATCHES):
        if name != skip:
            out.append(member(f"cifar-10-batches-bin/{name}", bytes([i]) * (records * RECORD)))
    return out + [member("cifar-10-batches-bin/batches.meta.txt", b"airplane\nautomobile\n")]


@pytest.fixture
def tiny_cifar(monkeypatch, tmp_path):
    """Registers a generated archive, served from a file:// URL, as 'cifar10'."""

    def register(content: bytes) -> RemoteFile:
        served = tmp_path / "served" / "cifar-10-binary.tar.gz"
        served.parent.mkdir(exist_ok=True)
        served.write_bytes(content)
        f = RemoteFile(
            "cifar10/cifar-10-binary.tar.gz",
            hashlib.sha256(content).hexdigest(),
            len(content),
            (served.as_uri(),),
        )
        monkeypatch.setitem(datasets.DATASETS, "cifar10", ("tiny CIFAR-10", (f,)))
        monkeypatch.setattr(datasets, "CIFAR10_BATCH_BYTES", 2 * RECORD)
        return f

    return register


def test_cifar10_downloads_from_a_url_verifies_and_unpacks(tiny_cifar, tmp_path):
    tiny_cifar(tar_gz(cifar_members()))
    cache = tmp_path / "cache"
    assert datasets.cifar10_folder(cache) is None, "not downloaded yet: None, not an error"
    paths_ = datasets.download("cifar10", cache)  # urllib's own opener reads the file:// URL
    folder = cache / "cifar10" / "cifar-10-batches-bin"
    assert paths_ == [cache / "cifar10" / "cifar-10-binary.tar.gz", folder]
    assert (folder / "test_batch.bin").read_bytes() == bytes([5]) * (2 * RECORD)
    assert datasets.cifar10_folder(cache) == folder
    assert sorted(p.name for p in (cache / "cifar10").iterdir()) == [
        "cifar-10-batches-bin",
        "cifar-10-binary.tar.gz",
    ], "no temporary folders may be left behind"


def test_cifar10_folder_unpacks_a_verified_archive_on_first_use(tiny_cifar, tmp_path):
    content = tar_gz(cifar_members())
    tiny_cifar(content)
    (tmp_path / "cifar10").mkdir()
    (tmp_path / "cifar10" / "cifar-10-binary.tar.gz").write_bytes(content)
    folder = datasets.cifar10_folder(tmp_path)
    assert folder is not None and (folder / "data_batch_3.bin").stat().st_size == 2 * RECORD


def test_a_corrupt_cached_cifar10_archive_is_named(tiny_cifar, tmp_path):
    content = tar_gz(cifar_members())
    tiny_cifar(content)
    (tmp_path / "cifar10").mkdir()
    (tmp_path / "cifar10" / "cifar-10-binary.tar.gz").write_bytes(
        content[:-1] + bytes([content[-1] ^ 0xFF])
    )
    with pytest.raises(DataError, match="corrupt.*checker data cifar10"):
        datasets.cifar10_folder(tmp_path)


def test_an_archive_without_all_six_batches_is_refused(tiny_cifar, tmp_path):
    tiny_cifar(tar_gz(cifar_members(skip="data_batch_4.bin")))
    with pytest.raises(DataError, match="data_batch_4.bin is missing"):
        datasets.download("cifar10", tmp_path / "cache")
    assert not (tmp_path / "cache" / "cifar10" / "cifar-10-batches-bin").exists()


@pytest.mark.parametrize(
    "bad, why",
    [
        (member("/tmp/dlkatas-evil.txt", b"x"), "absolute path"),
        (member("../evil.txt", b"x"), "climbs out"),
        (member("cifar-10-batches-bin/../../evil.txt", b"x"), "climbs out"),
        (member("cifar-10-batches-bin/link", kind=tarfile.SYMTYPE, link="/etc/passwd"), "link"),
        (member("cifar-10-batches-bin/hard", kind=tarfile.LNKTYPE, link="../x"), "link"),
        (member("cifar-10-batches-bin/fifo", kind=tarfile.FIFOTYPE), "special file"),
    ],
)
def test_unpacking_refuses_members_that_escape_the_cache(tiny_cifar, tmp_path, bad, why):
    tiny_cifar(tar_gz(cifar_members() + [bad]))
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match=why):
        datasets.download("cifar10", cache)
    assert sorted(p.name for p in (cache / "cifar10").iterdir()) == ["cifar-10-binary.tar.gz"]
    assert not (tmp_path / "evil.txt").exists() and not (cache / "evil.txt").exists()
