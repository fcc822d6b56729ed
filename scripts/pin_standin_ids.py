"""Re-pin tests/data/standin_ids.json: the token ids the tiny stand-ins give a few texts.

The stand-in vocabularies are built deterministically, so every machine gets the same ids;
the test that reads this file proves it. Re-pin only after a deliberate change to the
recipe, the bundled data or the locked library versions:

    LECTURE_MODE=tiny python scripts/pin_standin_ids.py
"""

import json
from pathlib import Path

from transformers import AutoTokenizer

import lecture_utils as lu

TEXTS = ["Hello, how are you?", "The acting is superb, but the plot is a mess.",
         "Tokenization splits unbelievable words."]
OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "standin_ids.json"


def main() -> None:
    pinned = {}
    for real_id in lu.known_checkpoints():
        tok = AutoTokenizer.from_pretrained(lu.checkpoint(real_id))
        pinned[real_id] = {text: tok(text)["input_ids"] for text in TEXTS}
    lines = ["{"]
    for i, (real_id, cases) in enumerate(pinned.items()):
        lines.append(f"  {json.dumps(real_id)}: {{")
        rows = [f"    {json.dumps(t)}: {json.dumps(ids)}" for t, ids in cases.items()]
        lines.append(",\n".join(rows))
        lines.append("  }" + ("," if i < len(pinned) - 1 else ""))
    lines.append("}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
