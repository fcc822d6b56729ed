"""The full-size registration that `make test-full-size` relies on (the parts that need no
full-size weights; tests/full_size/ has the rest)."""


import pytest

from tests.fullmode import (
    ROOT,
    THROWAWAY_ROOT,
    register_model,
    register_real_files_at_full_size,
)


def test_refuses_to_register_in_a_real_cache(tmp_path):
    with pytest.raises(ValueError, match="would shadow the real checkpoints"):
        register_model(tmp_path / "hf-home", "distilbert/distilbert-base-cased", tmp_path)
    with pytest.raises(ValueError, match="would shadow"):
        register_real_files_at_full_size(ROOT.parent / "somewhere-else")


def test_register_model_lays_out_the_cache_like_a_download(tmp_path):
    source = tmp_path / "files"
    source.mkdir()
    (source / "config.json").write_text("{}")
    (source / "vocab.txt").write_text("[PAD]\n")
    hf_home = THROWAWAY_ROOT / "hf-home-layout-test"
    snapshot = register_model(hf_home, "someone/something", source)
    repo = hf_home / "hub" / "models--someone--something"
    assert (repo / "refs" / "main").read_text() == snapshot.name
    for name in ("config.json", "vocab.txt"):
        link = snapshot / name
        assert link.is_symlink() and link.resolve().parent == (repo / "blobs").resolve()
        assert link.read_text() == (source / name).read_text()


@pytest.mark.slow
def test_registered_dataset_follows_the_bundled_data(tmp_path):
    """New bundled data replaces the registered copy instead of being shadowed by it."""
    import shutil

    from lecture_utils.data import bundled_reviews
    from tests.fullmode import register_dataset

    hf_home = THROWAWAY_ROOT / "hf-home-fullmode-data-test"
    shutil.rmtree(hf_home, ignore_errors=True)
    source = tmp_path / "reviews"
    shutil.copytree(bundled_reviews(), source)
    first = {p.name for p in register_dataset(hf_home, "stanfordnlp/imdb", source).rglob("*")
             if p.parent.name == "0.0.0" and p.is_dir()}
    assert len(first) == 1
    victim = source / "plain_text" / "test-00000-of-00001.parquet"
    shutil.copy(source / "plain_text" / "train-00000-of-00001.parquet", victim)  # new data
    second = {p.name for p in register_dataset(hf_home, "stanfordnlp/imdb", source).rglob("*")
              if p.parent.name == "0.0.0" and p.is_dir()}
    assert len(second) == 1 and second != first
    shutil.rmtree(hf_home)
