"""Generate the bundled review dataset used in tiny mode.

The reviews are written by this script from templates: invented films, invented people,
opinions about the story, acting, direction and so on. The dataset is shaped like
`stanfordnlp/imdb`: config `plain_text`, splits `train`/`test`/`unsupervised`, features
`text` (string) and `label` (ClassLabel `neg`/`pos`, -1 for the unlabeled split), and it
keeps IMDB's quirks: `<br /><br />` between paragraphs, a long tail of very long reviews,
mixed opinions, and train/test splits sorted by label.

Run from the repository root:

    python scripts/generate_reviews.py            # writes lecture_utils/data/imdb_tiny
    python scripts/generate_reviews.py --out DIR  # writes somewhere else

The output depends only on the seed, so every machine produces the same rows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lecture_utils.reviewgen import SEED, generate

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "lecture_utils" / "data" / "imdb_tiny"

README = """---
pretty_name: Tiny IMDB-shaped reviews
language:
- en
license: cc0-1.0
task_categories:
- text-classification
dataset_info:
  config_name: plain_text
  features:
  - name: text
    dtype: string
  - name: label
    dtype:
      class_label:
        names:
          '0': neg
          '1': pos
  splits:
{splits}
configs:
- config_name: plain_text
  data_files:
{data_files}
  default: true
---

# Tiny IMDB-shaped reviews

Film reviews written by `scripts/generate_reviews.py` (seed {seed}) from templates, about
invented films and people. Same config, splits and features as `stanfordnlp/imdb`, at a
size that loads in a blink. Used by the course in tiny mode; regenerate with

    python scripts/generate_reviews.py
"""


def write(out: Path, seed: int = SEED) -> Path:
    """Write the dataset as parquet files plus a dataset card that `load_dataset` reads."""
    from datasets import ClassLabel, Dataset, Features, Value

    features = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    out = Path(out)
    (out / "plain_text").mkdir(parents=True, exist_ok=True)
    data = generate(seed)
    split_lines, file_lines = [], []
    for split, columns in data.items():
        name = f"plain_text/{split}-00000-of-00001.parquet"
        dataset = Dataset.from_dict(columns, features=features)
        dataset.to_parquet(out / name)
        # Split sizes in the card also key the datasets cache: new data, new cache entry.
        split_lines.append(f"  - name: {split}\n    num_bytes: {dataset.data.nbytes}\n"
                           f"    num_examples: {len(dataset)}")
        file_lines.append(f"  - split: {split}\n    path: {name}")
    readme = README.format(splits="\n".join(split_lines), data_files="\n".join(file_lines),
                           seed=seed)
    (out / "README.md").write_text(readme, encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    path = write(args.out, args.seed)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
