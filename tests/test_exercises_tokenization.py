"""The exercise checks of notebook 02 · Tokenization, on the tiny stand-in tokenizers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lecture_utils as lu
from lecture_utils.checks import ExerciseError
from lecture_utils.exercises import tokenization as ex

TEXT = "Tokenizers turn sentences into numbers, one piece at a time."
SPLIT_TEXT = "The screenwriter's unpredictability kept the audience spellbound."
UNK_TEXT = "Great film 🎬, terrible popcorn 🍿, lovely people 😃"


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(lu.checkpoint("distilbert/distilbert-base-cased"))


def ids(tokenizer, text, add_special_tokens=True):
    return tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"]


# --------------------------------------------------------------------------- exercise 1


def test_token_count_right(tokenizer):
    n = len(ids(tokenizer, TEXT))
    assert ex.check_token_count(n, tokenizer, TEXT)
    assert ex.check_token_count(np.int64(n), tokenizer, TEXT)
    assert ex.check_token_count(torch.tensor(n), tokenizer, TEXT)


def test_token_count_unanswered(tokenizer, capsys):
    assert not ex.check_token_count(..., tokenizer, TEXT)
    assert "not answered yet" in capsys.readouterr().out


def test_token_count_without_specials(tokenizer):
    n = len(ids(tokenizer, TEXT, add_special_tokens=False))
    with pytest.raises(ExerciseError, match="without the special tokens"):
        ex.check_token_count(n, tokenizer, TEXT)


def test_token_count_words(tokenizer):
    text = "Hello, how are you?"  # 4 words, 6 tokens without specials, 8 with
    assert len(text.split()) not in (len(ids(tokenizer, text)),
                                     len(ids(tokenizer, text, add_special_tokens=False)))
    with pytest.raises(ExerciseError, match="number of words"):
        ex.check_token_count(len(text.split()), tokenizer, text)


def test_token_count_characters(tokenizer):
    with pytest.raises(ExerciseError, match="number of characters"):
        ex.check_token_count(len(TEXT), tokenizer, TEXT)


def test_token_count_not_a_number(tokenizer):
    with pytest.raises(ExerciseError, match=r"len\(\)"):
        ex.check_token_count(ids(tokenizer, TEXT), tokenizer, TEXT)
    with pytest.raises(ExerciseError, match="should be a number"):
        ex.check_token_count(True, tokenizer, TEXT)


def test_token_count_other_wrong(tokenizer):
    with pytest.raises(ExerciseError, match="is not the number of tokens"):
        ex.check_token_count(len(ids(tokenizer, TEXT)) + 7, tokenizer, TEXT)


# --------------------------------------------------------------------------- exercise 2


def test_ids_right(tokenizer):
    expected = ids(tokenizer, TEXT, add_special_tokens=False)
    assert ex.check_ids_without_specials(expected, tokenizer, TEXT)
    assert ex.check_ids_without_specials(tuple(expected), tokenizer, TEXT)
    assert ex.check_ids_without_specials(torch.tensor(expected), tokenizer, TEXT)
    assert ex.check_ids_without_specials(
        tokenizer.encode(TEXT, add_special_tokens=False), tokenizer, TEXT)


def test_ids_unanswered(tokenizer):
    assert not ex.check_ids_without_specials(..., tokenizer, TEXT)


def test_ids_with_specials(tokenizer):
    with pytest.raises(ExerciseError, match="add_special_tokens=False"):
        ex.check_ids_without_specials(ids(tokenizer, TEXT), tokenizer, TEXT)


def test_ids_batch_dimension(tokenizer):
    batched = tokenizer(TEXT, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with pytest.raises(ExerciseError, match="batch"):
        ex.check_ids_without_specials(batched, tokenizer, TEXT)
    with pytest.raises(ExerciseError, match="batch dimension"):
        ex.check_ids_without_specials([ids(tokenizer, TEXT, False)], tokenizer, TEXT)


def test_ids_whole_encoding(tokenizer):
    with pytest.raises(ExerciseError, match="'input_ids'"):
        ex.check_ids_without_specials(tokenizer(TEXT, add_special_tokens=False), tokenizer, TEXT)


def test_ids_tokens_not_ids(tokenizer):
    with pytest.raises(ExerciseError, match="convert_tokens_to_ids"):
        ex.check_ids_without_specials(tokenizer.tokenize(TEXT), tokenizer, TEXT)


def test_ids_one_id_off(tokenizer):
    wrong = list(ids(tokenizer, TEXT, add_special_tokens=False))
    wrong[2] += 1
    with pytest.raises(ExerciseError, match="differs at position 2.*same tokenizer"):
        ex.check_ids_without_specials(wrong, tokenizer, TEXT)


def test_ids_wrong_text(tokenizer):
    with pytest.raises(ExerciseError, match="exactly the given text"):
        ex.check_ids_without_specials(ids(tokenizer, "Hello", False), tokenizer, TEXT)


# --------------------------------------------------------------------------- exercise 3


def test_pieces_per_word(tokenizer):
    per_word = ex.pieces_per_word(tokenizer, SPLIT_TEXT)
    assert [w for w, _ in per_word][:4] == ["The", "screenwriter", "'", "s"]
    assert sum(n for _, n in per_word) == len(ids(tokenizer, SPLIT_TEXT, False))


def most_split(tokenizer, text):
    per_word = ex.pieces_per_word(tokenizer, text)
    return max(per_word, key=lambda pair: pair[1])[0]


def test_most_split_right(tokenizer):
    word = most_split(tokenizer, SPLIT_TEXT)
    assert ex.check_most_split_word(word, tokenizer, SPLIT_TEXT)
    assert ex.check_most_split_word(f" {word.upper()} ", tokenizer, SPLIT_TEXT)


def test_most_split_unique_in_notebook_sentence(tokenizer):
    # The notebook's sentence should have one clear answer (ties are accepted, but are a worse
    # exercise).
    counts = sorted((n for _, n in ex.pieces_per_word(tokenizer, SPLIT_TEXT)), reverse=True)
    assert counts[0] > counts[1]


def test_most_split_accepts_any_tie(tokenizer):
    text = "The film"
    assert [n for _, n in ex.pieces_per_word(tokenizer, text)] == [1, 1]
    assert ex.check_most_split_word("The", tokenizer, text)
    assert ex.check_most_split_word("film", tokenizer, text)


def test_most_split_unanswered(tokenizer):
    assert not ex.check_most_split_word(..., tokenizer, SPLIT_TEXT)


def test_most_split_other_word(tokenizer):
    per_word = ex.pieces_per_word(tokenizer, SPLIT_TEXT)
    most = max(n for _, n in per_word)
    word, n = next((w, n) for w, n in per_word if n < most and w.isalpha())
    with pytest.raises(ExerciseError, match=rf"'{word}' is split into {n} piece\(s\), but another"):
        ex.check_most_split_word(word, tokenizer, SPLIT_TEXT)


def test_most_split_piece(tokenizer):
    piece = next(t for t in tokenizer.tokenize(SPLIT_TEXT) if t.startswith("##"))
    with pytest.raises(ExerciseError, match="piece of a word"):
        ex.check_most_split_word(piece, tokenizer, SPLIT_TEXT)


def test_most_split_with_punctuation(tokenizer):
    with pytest.raises(ExerciseError, match="without punctuation"):
        ex.check_most_split_word("screenwriter's", tokenizer, SPLIT_TEXT)


def test_most_split_not_a_string(tokenizer):
    with pytest.raises(ExerciseError, match="not a number or an index"):
        ex.check_most_split_word(4, tokenizer, SPLIT_TEXT)
    with pytest.raises(ExerciseError, match="not a list"):
        ex.check_most_split_word(["un", "##p"], tokenizer, SPLIT_TEXT)


# --------------------------------------------------------------------------- exercise 4


def test_unk_count_right(tokenizer):
    expected = ids(tokenizer, UNK_TEXT).count(tokenizer.unk_token_id)
    assert expected >= 3  # one per emoji at least
    assert ex.check_unk_count(expected, tokenizer, UNK_TEXT)


def test_unk_count_zero(tokenizer):
    assert ex.check_unk_count(0, tokenizer, "Hello, how are you?")


def test_unk_count_unanswered(tokenizer):
    assert not ex.check_unk_count(..., tokenizer, UNK_TEXT)


def test_unk_count_all_specials(tokenizer):
    n_special = sum(1 for i in ids(tokenizer, UNK_TEXT) if i in tokenizer.all_special_ids)
    with pytest.raises(ExerciseError, match="all special tokens"):
        ex.check_unk_count(n_special, tokenizer, UNK_TEXT)


def test_unk_count_continuation_pieces(tokenizer):
    text = "unbelievably antidisestablishmentarianism 😃"
    n = sum(1 for t in tokenizer.tokenize(text) if t.startswith("##"))
    n_special = sum(1 for i in ids(tokenizer, text) if i in tokenizer.all_special_ids)
    assert n not in (n_special, ids(tokenizer, text).count(tokenizer.unk_token_id))
    with pytest.raises(ExerciseError, match="continuation pieces"):
        ex.check_unk_count(n, tokenizer, text)


def test_unk_count_total(tokenizer):
    with pytest.raises(ExerciseError, match="total number of tokens"):
        ex.check_unk_count(len(ids(tokenizer, UNK_TEXT)), tokenizer, UNK_TEXT)


def test_unk_count_other_wrong(tokenizer):
    with pytest.raises(ExerciseError, match=r"unk_token_id"):
        ex.check_unk_count(1000, tokenizer, UNK_TEXT)
