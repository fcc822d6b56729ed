import sys
from pathlib import Path

import pytest
from datasets import ClassLabel, Value, load_dataset

import lecture_utils as lu
from lecture_utils.data import IMDB, bundled_reviews

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def generate_reviews():
    """The generator script (scripts/ is not a package)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import generate_reviews
    finally:
        sys.path.pop(0)
    return generate_reviews


@pytest.fixture(scope="module")
def reviews():
    with lu.quiet_progress():
        return load_dataset(str(bundled_reviews()))


def test_dataset_path_by_mode(mode):
    mode("full")
    assert lu.dataset_path(IMDB) == IMDB
    mode("tiny")
    assert Path(lu.dataset_path(IMDB)) == bundled_reviews()
    assert lu.dataset_path() == lu.dataset_path(IMDB)


@pytest.mark.parametrize("bad", ["imdb", "", None, "a/b/c"])
def test_bad_dataset_names(mode, bad):
    mode("tiny")
    with pytest.raises(ValueError, match="owner/name"):
        lu.dataset_path(bad)


def test_unknown_dataset_in_tiny_mode_lists_known(mode):
    mode("tiny")
    with pytest.raises(ValueError) as err:
        lu.dataset_path("rotten/tomatoes")
    assert IMDB in str(err.value) and "LECTURE_MODE=full" in str(err.value)


def test_same_splits_and_features_as_imdb(reviews):
    assert set(reviews) == {"train", "test", "unsupervised"}
    for split in reviews.values():
        assert split.features["text"] == Value("string")
        label = split.features["label"]
        assert isinstance(label, ClassLabel) and label.names == ["neg", "pos"]
    assert set(reviews["unsupervised"]["label"]) == {-1}


def test_labelled_splits_are_balanced_and_sorted_by_label_like_imdb(reviews):
    for name in ("train", "test"):
        labels = list(reviews[name]["label"])
        assert labels == sorted(labels)  # all negatives, then all positives
        assert labels.count(0) == labels.count(1)


def test_imdb_quirks(reviews):
    texts = list(reviews["train"]["text"])
    assert sum("<br /><br />" in t for t in texts) > len(texts) / 2
    words = sorted(len(t.split()) for t in texts)
    assert words[0] < 30  # some short reviews
    assert words[-1] > 500  # and some very long ones
    assert len(set(texts)) > 0.99 * len(texts)  # varied, not copies


def test_some_reviews_exceed_the_model_limit(reviews, mode):
    from transformers import AutoTokenizer

    mode("tiny")
    tok = AutoTokenizer.from_pretrained(lu.checkpoint("distilbert/distilbert-base-uncased"))
    lengths = [len(ids) for ids in tok(list(reviews["test"]["text"]))["input_ids"]]
    over = sum(n > 512 for n in lengths) / len(lengths)
    assert 0.03 < over < 0.4, over


def _rows(folder: Path, split: str):
    import pyarrow.parquet as pq  # read the files themselves, not a datasets cache entry

    table = pq.read_table(folder / "plain_text" / f"{split}-00000-of-00001.parquet")
    return table.column("text").to_pylist(), table.column("label").to_pylist()


def test_the_generator_reproduces_the_bundled_files(tmp_path, generate_reviews):
    with lu.quiet_progress():
        generate_reviews.write(tmp_path)
    for split in ("train", "test", "unsupervised"):
        assert _rows(tmp_path, split) == _rows(bundled_reviews(), split), split
    assert (tmp_path / "README.md").read_text() == (bundled_reviews() / "README.md").read_text()


def test_changed_data_gets_a_new_cache_entry(tmp_path, generate_reviews):
    """datasets keys a local folder's cache on its name and dataset card, not on the files'
    contents; the card records split sizes, so regenerated data is never served stale."""
    seen = []
    for seed in (1, 2):
        folder = tmp_path / f"seed{seed}" / "reviews"  # same folder name both times
        with lu.quiet_progress():
            generate_reviews.write(folder, seed=seed)
            loaded = load_dataset(str(folder), split="test")
        assert list(loaded["text"]) == _rows(folder, "test")[0]
        seen.append(list(loaded["text"]))
    assert seen[0] != seen[1]
