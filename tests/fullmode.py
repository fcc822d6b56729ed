"""Make full mode testable offline: the stand-ins, registered under their real ids.

In a throwaway HF_HOME (under build/, never the user's), each tiny stand-in is stored in the
hub cache as if ``from_pretrained("distilbert/...")`` had downloaded it, and the bundled
reviews are stored in the datasets cache as ``stanfordnlp/imdb``. With HF_HUB_OFFLINE=1 and
LECTURE_MODE=full the notebooks then load the real ids through the standard caches, exactly
as they will on a student's machine that has the real files.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THROWAWAY_ROOT = ROOT / "build"


def _commit_hash(folder: Path) -> str:
    h = hashlib.sha1()
    for f in sorted(folder.iterdir()):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _refuse_real_cache(hf_home: Path) -> Path:
    hf_home = Path(hf_home).resolve()
    if THROWAWAY_ROOT.resolve() not in hf_home.parents:
        raise ValueError(
            f"Refusing to register stand-ins under real ids in {hf_home}: they would shadow "
            f"the real checkpoints. Use a folder under {THROWAWAY_ROOT}."
        )
    return hf_home


def register_model(hf_home: Path, real_id: str, source: Path) -> Path:
    """Store ``source`` in the hub cache of ``hf_home`` as the main revision of ``real_id``."""
    hf_home = _refuse_real_cache(hf_home)
    repo = hf_home / "hub" / ("models--" + real_id.replace("/", "--"))
    commit = _commit_hash(source)
    snapshot = repo / "snapshots" / commit
    if not snapshot.exists():
        tmp = snapshot.with_name(commit + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(source, tmp)
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
    data_hash = _commit_hash(source / "plain_text")[:16]
    if (final / "plain_text" / "0.0.0" / data_hash).is_dir():
        return final
    shutil.rmtree(final, ignore_errors=True)  # an older copy of the data: replace it
    files = {p.name.split("-")[0]: str(p) for p in sorted((source / "plain_text").glob("*.parquet"))}
    local = load_dataset_builder(str(source))  # reads the features from the dataset card
    features = Features(local.info.features)
    staging = cache_dir / f"staging-{name}"
    shutil.rmtree(staging, ignore_errors=True)
    builder = Parquet(cache_dir=str(staging), dataset_name=name, config_name="plain_text",
                      config_id="plain_text", hash=data_hash,
                      data_files=files, features=features)
    builder.download_and_prepare()
    (staging / name).rename(final)  # the cache folder of a namespaced repo: owner___name
    shutil.rmtree(staging, ignore_errors=True)
    return final


def register_standins_under_real_ids(hf_home: Path) -> None:
    from filelock import FileLock

    from lecture_utils import quiet_progress
    from lecture_utils.data import IMDB, bundled_reviews
    from lecture_utils.standins import STANDINS, build_standin

    hf_home = _refuse_real_cache(hf_home)
    hf_home.mkdir(parents=True, exist_ok=True)
    with FileLock(str(hf_home / ".register.lock")), quiet_progress():
        for real_id in STANDINS:
            register_model(hf_home, real_id, build_standin(real_id))
        register_dataset(hf_home, IMDB, bundled_reviews())
