"""Checks for the exercises of notebook 02 · Tokenization.

Every check computes the right answer from the tokenizer it is given, so the same exercise
works with the tiny stand-ins and with the real checkpoints.
"""

from __future__ import annotations

from collections import Counter

from ..checks import CheckResult, exercise, fail


def _ids(tokenizer, text: str, *, add_special_tokens: bool = True) -> list[int]:
    return list(tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"])


def _as_count(value, name: str) -> int:
    """An integer answer: a Python int, a NumPy integer or a 0-d tensor."""
    if isinstance(value, bool):
        fail(f"{name} should be a number of tokens (an int), not {value!r}.")
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        hint = " Take its len() to count its elements." if hasattr(value, "__len__") else ""
        fail(f"{name} should be a number (an int), but it is a {type(value).__name__}.{hint}")
    return value


# --------------------------------------------------------------------------- exercise 1


def check_token_count(answer, tokenizer, text: str) -> CheckResult:
    """How many tokens, special tokens included, does ``tokenizer`` make of ``text``?"""
    title = "Exercise 1 · Count the tokens"

    def check(value):
        n = _as_count(value, "n_tokens")
        expected = len(_ids(tokenizer, text))
        without_specials = len(_ids(tokenizer, text, add_special_tokens=False))
        if n == expected:
            return
        if n == without_specials:
            fail(f"{n} is the count without the special tokens. tokenizer(text) also adds "
                 f"{tokenizer.cls_token} at the start and {tokenizer.sep_token} at the end, and "
                 "the model receives them too.")
        if n == len(text.split()):
            fail(f"{n} is the number of words separated by spaces. Tokens are not words: "
                 "punctuation is a token of its own and a rare word becomes several pieces. "
                 "Ask the tokenizer.")
        if n == len(text):
            fail(f"{n} is the number of characters in the text. Count the token ids that "
                 "tokenizer(text) returns instead.")
        fail(f"{n} is not the number of tokens. Hint: tokenizer(text)['input_ids'] is the list "
             "of ids the model receives; count its elements.")

    return exercise(title, answer, check)


# --------------------------------------------------------------------------- exercise 2


def check_ids_without_specials(answer, tokenizer, text: str) -> CheckResult:
    """The token ids of ``text`` without ``[CLS]`` and ``[SEP]``, as a list of ints."""
    title = "Exercise 2 · Ids without special tokens"
    expected = _ids(tokenizer, text, add_special_tokens=False)
    with_specials = _ids(tokenizer, text)

    def check(value):
        if isinstance(value, str):
            fail("ids is a string. Encode the text into a list of token ids (ints).")
        if isinstance(value, dict) or hasattr(value, "keys"):
            fail("ids is the whole encoding (a dict-like BatchEncoding). Take its 'input_ids'.")
        shape = getattr(value, "shape", None)
        if shape is not None and len(shape) == 2:
            fail(f"ids has shape {tuple(shape)}: the first dimension is the batch. Take row 0 "
                 "(ids[0]), or leave out return_tensors to get a plain list.")
        if hasattr(value, "tolist"):
            value = value.tolist()
        if not isinstance(value, (list, tuple)):
            fail(f"ids should be a list of ints, but it is a {type(value).__name__}.")
        value = list(value)
        if len(value) == 1 and isinstance(value[0], (list, tuple)):
            fail("ids is a list inside a list: that outer list is the batch dimension. "
                 "Take ids[0], or encode a single string rather than a list of strings.")
        if value and all(isinstance(v, str) for v in value):
            fail("ids holds tokens (strings), not ids. Convert them with "
                 "tokenizer.convert_tokens_to_ids(...), or let the tokenizer encode the text.")
        if value == with_specials:
            fail(f"These ids start with {tokenizer.cls_token} (id {tokenizer.cls_token_id}) and "
                 f"end with {tokenizer.sep_token} (id {tokenizer.sep_token_id}). Leave the "
                 "special tokens out: add_special_tokens=False.")
        if value == expected:
            return
        if len(value) != len(expected):
            fail(f"ids has {len(value)} ids, but the text has {len(expected)} tokens without "
                 "the special tokens. Did you encode exactly the given text, with this tokenizer?")
        first = next(i for i, (a, b) in enumerate(zip(value, expected, strict=True)) if a != b)
        fail(f"ids has the right length but differs at position {first}. Did you use the same "
             "tokenizer (cased, not uncased) and the same text?")

    return exercise(title, answer, check)


# --------------------------------------------------------------------------- exercise 3


def pieces_per_word(tokenizer, text: str) -> list[tuple[str, int]]:
    """(word, number of tokens) for each word of ``text``, as the tokenizer splits words.

    Words are what the tokenizer's pre-tokenizer makes of the text: it splits at spaces and
    at punctuation, so ``"screenwriter's"`` is three words.
    """
    encoding = tokenizer(text, add_special_tokens=False)
    counts = Counter(w for w in encoding.word_ids() if w is not None)
    result = []
    for word_index in sorted(counts):
        start, end = encoding.word_to_chars(word_index)
        result.append((text[start:end], counts[word_index]))
    return result


def check_most_split_word(answer, tokenizer, text: str) -> CheckResult:
    """Which word of ``text`` does ``tokenizer`` split into the most pieces?"""
    title = "Exercise 3 · The most-split word"
    per_word = pieces_per_word(tokenizer, text)
    most = max(n for _, n in per_word)
    winners = {w for w, n in per_word if n == most}
    by_word = {w.casefold(): n for w, n in per_word}

    def check(value):
        if isinstance(value, (int, float)) or hasattr(value, "item"):
            fail("Answer with the word itself, as a string such as 'example', not a number or "
                 "an index.")
        if isinstance(value, (list, tuple)):
            fail("Answer with one word (a string), not a list. If you listed the pieces, put "
                 "the word they come from.")
        if not isinstance(value, str):
            fail(f"The answer should be a string, but it is a {type(value).__name__}.")
        word = value.strip()
        if word.casefold() in {w.casefold() for w in winners}:
            return
        if word.startswith("##"):
            fail(f"{word!r} is a piece of a word (the ## marks a continuation). Give the whole "
                 "word as it appears in the sentence.")
        if word.casefold() in by_word:
            fail(f"{word!r} is split into {by_word[word.casefold()]} piece(s), but another "
                 f"word is split into {most}. Hint: encoding.word_ids() says which word each "
                 "token comes from.")
        fail(f"{word!r} is not one of the words the tokenizer sees. It splits the sentence at "
             "spaces and at punctuation, so answer with a single word without punctuation.")

    return exercise(title, answer, check)


# --------------------------------------------------------------------------- exercise 4


def check_unk_count(answer, tokenizer, text: str) -> CheckResult:
    """How many unknown tokens does ``tokenizer`` make of ``text``?"""
    title = "Exercise 4 · Count the unknown tokens"
    ids = _ids(tokenizer, text)
    tokens = tokenizer.convert_ids_to_tokens(ids)
    expected = ids.count(tokenizer.unk_token_id)
    n_special = sum(1 for i in ids if i in set(tokenizer.all_special_ids))
    n_continuation = sum(1 for t in tokens if t.startswith("##"))

    def check(value):
        n = _as_count(value, "n_unknown")
        if n == expected:
            return
        if n == n_special:
            fail(f"{n} is the number of all special tokens ({tokenizer.cls_token}, "
                 f"{tokenizer.sep_token} and {tokenizer.unk_token} together). Count only "
                 f"{tokenizer.unk_token}, whose id is tokenizer.unk_token_id.")
        if n == n_continuation:
            fail(f"{n} is the number of continuation pieces (tokens starting with ##). Those are "
                 f"known pieces; count the {tokenizer.unk_token} tokens instead.")
        if n == len(ids):
            fail(f"{n} is the total number of tokens. Count only the {tokenizer.unk_token} ones.")
        fail(f"{n} is not the number of {tokenizer.unk_token} tokens. Hint: count "
             "tokenizer.unk_token_id in tokenizer(text)['input_ids'].")

    return exercise(title, answer, check)
