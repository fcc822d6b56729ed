"""Full mode, tested offline at full size against the real checkpoints' files.

A student's Hugging Face cache holds, for each checkpoint, its small files (configs,
tokenizer files, generation config) and its weights. The Hub cannot be reached here, so this
module builds the closest thing: in a throwaway HF_HOME (under build/, never the user's),
each course checkpoint is stored in the hub cache as ``from_pretrained("distilbert/...")``
would have downloaded it, with

- the real small files, verbatim (``lecture_utils/data/hub``), and
- full-size weights, randomly initialised from the real ``config.json`` (seeded, so every
  run gets the same ones): the real architecture and sizes, not the real training.

The bundled reviews are stored in the datasets cache as ``stanfordnlp/imdb``. With
``HF_HUB_OFFLINE=1`` and ``LECTURE_MODE=full`` the notebooks then load the real ids through
the standard caches, as on a student's machine, and see the files a student sees. Only
checks that need *trained* weights differ; they go through ``lecture_utils.checks``, which
asserts on the stand-ins and only reports in full mode.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THROWAWAY_ROOT = ROOT / "build"
WEIGHTS_SEED = 0


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _folder_hash(folder: Path) -> str:
    h = hashlib.sha1()
    for f in sorted(folder.iterdir()):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _refuse_real_cache(hf_home: Path) -> Path:
    hf_home = Path(hf_home).resolve()
    if THROWAWAY_ROOT.resolve() not in hf_home.parents:
        raise ValueError(
            f"Refusing to register test checkpoints under real ids in {hf_home}: they would "
            f"shadow the real checkpoints. Use a folder under {THROWAWAY_ROOT}."
        )
    return hf_home


def register_model(hf_home: Path, real_id: str, source: Path) -> Path:
    """Store the files of ``source`` in the hub cache of ``hf_home`` as the ``main``
    revision of ``real_id``, laid out as huggingface_hub lays out a download: contents in
    ``blobs/``, named links in ``snapshots/<commit>/``, the commit in ``refs/main``.
    Returns the snapshot folder."""
    hf_home = _refuse_real_cache(hf_home)
    repo = hf_home / "hub" / ("models--" + real_id.replace("/", "--"))
    commit = _folder_hash(source)
    snapshot = repo / "snapshots" / commit
    if not snapshot.exists():
        (repo / "blobs").mkdir(parents=True, exist_ok=True)
        tmp = snapshot.with_name(commit + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for f in sorted(source.iterdir()):
            blob = repo / "blobs" / _sha256(f.read_bytes())
            if not blob.exists():
                try:  # a hard link: the weights are hundreds of MB, and never modified
                    os.link(f.resolve(), blob)
                except OSError:
                    shutil.copyfile(f, blob)
            (tmp / f.name).symlink_to(os.path.relpath(blob, snapshot))
        tmp.rename(snapshot)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot


def register_dataset(hf_home: Path, real_name: str, source: Path) -> Path:
    """Prepare the bundled parquet files in the datasets cache of ``hf_home`` as ``real_name``,
    where ``load_dataset(real_name)`` finds it when offline."""
    from datasets import Features, load_dataset_builder
    from datasets.packaged_modules.parquet.parquet import Parquet

    hf_home = _refuse_real_cache(hf_home)
    cache_dir = hf_home / "datasets"
    owner, name = real_name.split("/")
    final = cache_dir / f"{owner}___{name}"
    data_hash = _folder_hash(source / "plain_text")[:16]
    if (final / "plain_text" / "0.0.0" / data_hash).is_dir():
        return final
    shutil.rmtree(final, ignore_errors=True)  # an older copy of the data: replace it
    local = load_dataset_builder(str(source))  # reads the features from the dataset card
    features = Features(local.info.features)
    # The splits in the card's order (train, test, unsupervised), as on the Hub.
    found = {p.name.split("-")[0]: str(p) for p in (source / "plain_text").glob("*.parquet")}
    files = {split: found[split] for split in local.info.splits if split in found}
    staging = cache_dir / f"staging-{name}"
    shutil.rmtree(staging, ignore_errors=True)
    builder = Parquet(cache_dir=str(staging), dataset_name=name, config_name="plain_text",
                      config_id="plain_text", hash=data_hash,
                      data_files=files, features=features)
    builder.download_and_prepare()
    (staging / name).rename(final)  # the cache folder of a namespaced repo: owner___name
    shutil.rmtree(staging, ignore_errors=True)
    return final


def full_size_checkpoint(real_id: str, root: Path = THROWAWAY_ROOT / "full-size") -> Path:
    """A folder with ``real_id``'s real small files and random full-size weights.

    The model class is the one the real ``config.json`` names in ``architectures``, built
    from that config with seed :data:`WEIGHTS_SEED`. Cached under ``root`` by the files'
    content and the library versions (the weights are hundreds of MB; building one takes
    seconds). Safe to call from several processes at once: one builds, the others wait."""
    import torch
    import transformers
    from filelock import FileLock

    from lecture_utils.standins import hub_files

    source = hub_files(real_id)
    key = _folder_hash(source)[:12] + f"-{transformers.__version__}-{torch.__version__}"
    target = Path(root) / key / real_id.replace("/", "--")
    if (target / "model.safetensors").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # One builder at a time: test processes start together on a fresh clone, and a second
    # build replacing the folder would pull it away from under the first one's caller.
    with FileLock(str(target) + ".lock"):
        if not (target / "model.safetensors").is_file():
            _build_full_size(source, target)
    return target


def _build_full_size(source: Path, target: Path) -> None:
    import torch
    import transformers

    config = transformers.AutoConfig.from_pretrained(source)
    model_class = getattr(transformers, config.architectures[0])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(WEIGHTS_SEED)
        model = model_class(config)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
    try:
        with tempfile.TemporaryDirectory(dir=target.parent) as saved:
            model.save_pretrained(saved)  # writes its own config too: keep only the weights
            shutil.move(Path(saved) / "model.safetensors", tmp / "model.safetensors")
        for f in sorted(source.iterdir()):
            shutil.copyfile(f, tmp / f.name)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def register_real_files_at_full_size(hf_home: Path) -> None:
    """Fill the throwaway ``hf_home`` with every course checkpoint (real small files, random
    full-size weights) and the bundled reviews as ``stanfordnlp/imdb``."""
    from filelock import FileLock

    from lecture_utils import quiet_progress
    from lecture_utils.data import IMDB, bundled_reviews
    from lecture_utils.standins import STANDINS

    hf_home = _refuse_real_cache(hf_home)
    hf_home.mkdir(parents=True, exist_ok=True)
    with FileLock(str(hf_home / ".register.lock")), quiet_progress():
        for real_id in STANDINS:
            register_model(hf_home, real_id, full_size_checkpoint(real_id))
        register_dataset(hf_home, IMDB, bundled_reviews())
