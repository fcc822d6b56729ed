"""How long the tiny stand-ins take to build from nothing and to load from the cache.

    python scripts/benchmark_standins.py

Builds every stand-in into a fresh temporary cache (each in a new process, so imports are
counted separately), then loads each one with AutoTokenizer + AutoModel from the cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

BUILD = """
import sys, time
t0 = time.perf_counter()
import torch, transformers, tokenizers  # imports timed apart from the build itself
from lecture_utils.standins import build_standin
t1 = time.perf_counter()
build_standin(sys.argv[1])
print(f"{t1 - t0:.2f} {time.perf_counter() - t1:.2f}")
"""

LOAD = """
import sys, time
import torch
from transformers import AutoModel, AutoTokenizer
from transformers.utils import logging
from lecture_utils.standins import standin_dir
logging.set_verbosity_error()
path = standin_dir(sys.argv[1])
t0 = time.perf_counter()
# transformers imports a model's code on first use; the real checkpoint pays this too
from transformers import DistilBertModel, DistilBertTokenizer, GPT2Model, GPT2Tokenizer
t1 = time.perf_counter()
AutoTokenizer.from_pretrained(path); AutoModel.from_pretrained(path)
t2 = time.perf_counter()
AutoTokenizer.from_pretrained(path); AutoModel.from_pretrained(path)
print(f"{t1 - t0:.2f} {t2 - t1:.3f} {time.perf_counter() - t2:.3f}")
"""


def run(code: str, real_id: str, env: dict) -> list[float]:
    out = subprocess.run([sys.executable, "-c", code, real_id], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return [float(x) for x in out]


def main() -> None:
    from lecture_utils.standins import STANDINS

    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "LECTURE_CACHE": cache, "LECTURE_MODE": "tiny"}
        print("build: from an empty cache, after importing torch and transformers; "
              "model code: transformers' one-time import of the model classes (real "
              "checkpoints pay it too); load: tokenizer + model from the cache, first and "
              "second time in one process")
        print(f"{'stand-in':62} {'build s':>8} {'model code s':>13} {'load s':>7} "
              f"{'again s':>8}")
        total = time.perf_counter()
        for real_id in STANDINS:  # in order: the classifier's base is built before it
            _, build = run(BUILD, real_id, env)
            code, first, again = run(LOAD, real_id, env)
            print(f"{real_id:62} {build:8.2f} {code:13.2f} {first:7.3f} {again:8.3f}")
        print(f"all four, cold, including imports: {time.perf_counter() - total:.1f} s")


if __name__ == "__main__":
    main()
