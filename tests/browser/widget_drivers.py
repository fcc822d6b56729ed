"""Use the course's widgets in the page as a student would, and check that the page responds.

One driver per widget factory of ``lecture_utils.widgets``. Each finds its widget by the CSS
class that widgets.py gives it (``lecture-tokenizer-playground``...), works its real
controls (types into the text box, moves a slider with the arrow keys, clicks a button or a
checkbox) and asserts on what the page shows afterwards. A driver raises
:class:`WidgetDidNotRespond` when the page does not change as it should.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .lab import _wait, cell_locator, kernel_output
from .notebook_checks import WidgetCall


class WidgetDidNotRespond(AssertionError):
    """A widget rendered, but working its controls did not change the page as it should."""


def _widget(page, index: int, css_class: str, nth: int = 0, timeout: float = 20):
    root = cell_locator(page, index).locator(f".{css_class}").nth(nth)
    try:
        root.wait_for(state="visible", timeout=timeout * 1000)
    except Exception as error:  # playwright's TimeoutError
        raise WidgetDidNotRespond(
            f"cell {index + 1}: no visible .{css_class} in the page after {timeout:.0f} s"
        ) from error
    return root


def _slider(root, label: str):
    """The slider whose description is exactly ``label`` (ipywidgets' .widget-slider)."""
    return root.locator(".widget-slider").filter(
        has=root.page.locator(".widget-label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")))


def _shot(root, shots: Path | None, name: str) -> None:
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        root.page.wait_for_timeout(150)
        root.screenshot(path=str(shots / name), animations="disabled")


def _argument(call: WidgetCall, position: int, name: str) -> str:
    if len(call.args) > position:
        return call.args[position]
    for key, value in call.kwargs:
        if key == name:
            return value
    raise WidgetDidNotRespond(f"{call.factory}(...) is called without {name!r}")


# --------------------------------------------------------------------------- tokenizer


_TOKEN_TABLE = """el => {
  const html = el.querySelector('.widget-html-content');
  if (!html) return null;
  const header = html.querySelector('div');
  const rows = [...html.querySelectorAll('td')].map(td => {
    const small = td.querySelector('small');
    return [td.firstChild ? td.firstChild.textContent : '', small ? Number(small.textContent) : null];
  });
  return {header: header ? header.innerText : '', rows};
}"""

NEW_TEXT = "Typing here re-tokenizes everything: unbelievably quick, 42 times!"


def drive_tokenizer_playground(page, index: int, call: WidgetCall, shots: Path | None = None,
                               *, nth: int = 0, timeout: float = 20) -> dict:
    """Type into the playground's text box; the tokens and ids shown must follow the text.

    They must change, the count line must match the table, and the (token, id) pairs shown
    must be exactly what ``token_rows`` gives for the typed text with the same tokenizer
    (asked of the notebook's kernel).
    """
    root = _widget(page, index, "lecture-tokenizer-playground", nth, timeout)
    before = root.evaluate(_TOKEN_TABLE)
    if not before or not before["rows"]:
        raise WidgetDidNotRespond(f"cell {index + 1}: the tokenizer playground shows no tokens")
    _shot(root, shots, f"cell-{index + 1:03d}-widget-before.png")
    tokenizer = _argument(call, 0, "tokenizer")
    expected = json.loads(kernel_output(
        page, "print(__import__('json').dumps(__import__('lecture_utils.widgets', "
              f"fromlist=['token_rows']).token_rows({tokenizer}, {NEW_TEXT!r})))"))
    expected = [[token, token_id] for token, token_id in expected]
    root.locator(".widget-text input").first.fill(NEW_TEXT)
    after = _wait(page, lambda: (t := root.evaluate(_TOKEN_TABLE)) and t["rows"] == expected
                  and t, timeout) or root.evaluate(_TOKEN_TABLE)
    _shot(root, shots, f"cell-{index + 1:03d}-widget-after.png")
    if after["rows"] == before["rows"]:
        raise WidgetDidNotRespond(
            f"cell {index + 1}: typing {NEW_TEXT!r} into the tokenizer playground did not change "
            f"the tokens shown after {timeout:.0f} s (still {before['header']!r})")
    if after["rows"] != expected:
        raise WidgetDidNotRespond(
            f"cell {index + 1}: after typing {NEW_TEXT!r} the playground shows the tokens "
            f"{after['rows']}, but the tokenizer gives {expected}")
    if not after["header"].startswith(f"{len(expected)} tokens"):
        raise WidgetDidNotRespond(
            f"cell {index + 1}: the playground says {after['header']!r} above a table of "
            f"{len(expected)} tokens")
    return {"typed": NEW_TEXT, "tokens_before": len(before["rows"]), "tokens_after": len(expected)}


# --------------------------------------------------------------------------- attention


_PLOT_SRC = """el => { const img = el.querySelector('.widget-output img');
                       return img && img.complete && img.naturalWidth > 0 ? img.src : null; }"""


def _move(root, label: str, key: str, shows, timeout: float, what: str):
    """Press ``key`` on the slider labelled ``label``; wait until the page has responded.

    ``shows(value)`` gets the slider's new reading and returns what the page shows once it
    has responded to that value (anything falsy while it has not). Returns ``(value, shown)``,
    or None if nothing came within ``timeout`` seconds.
    """
    slider = _slider(root, label)
    if slider.count() != 1:
        raise WidgetDidNotRespond(f"{what}: found {slider.count()} sliders labelled {label!r}")
    readout = slider.locator(".widget-readout")

    def reading():
        try:
            return float(readout.inner_text(timeout=1000).strip())
        except ValueError:
            return None

    before = reading()
    slider.locator(".noUi-handle").press(key)

    def done():
        value = reading()
        if value is None or value == before:
            return None
        shown = shows(value)
        return shown and (value, shown)

    return _wait(root.page, done, timeout)


def drive_attention_explorer(page, index: int, call: WidgetCall, shots: Path | None = None,
                             *, nth: int = 0, timeout: float = 20) -> dict:
    """Move the explorer's head and layer sliders; the heatmap shown must follow them.

    Head 0 -> 1 must show a different image, back to 0 exactly the first image again (the
    plot depends on the sliders and nothing else), and layer 0 -> 1 a third image.
    """
    what = f"cell {index + 1}, attention explorer"
    root = _widget(page, index, "lecture-attention-explorer", nth, timeout)
    first = _wait(page, lambda: root.evaluate(_PLOT_SRC), timeout)
    if not first:
        raise WidgetDidNotRespond(f"{what}: shows no heatmap")
    _shot(root, shots, f"cell-{index + 1:03d}-widget-before.png")
    notes = {}
    heads = float(_slider(root, "head").locator(".noUi-handle").get_attribute("aria-valuemax"))
    layers = float(_slider(root, "layer").locator(".noUi-handle").get_attribute("aria-valuemax"))
    if heads < 1 and layers < 1:
        raise WidgetDidNotRespond(f"{what}: one layer and one head, nothing to move")
    seen = [first]
    if heads >= 1:
        moved = _move(root, "head", "ArrowRight",
                      lambda v: v == 1 and (s := root.evaluate(_PLOT_SRC)) and s != first and s,
                      timeout, what)
        if not moved:
            raise WidgetDidNotRespond(f"{what}: moving 'head' from 0 to 1 did not change the "
                                      f"heatmap within {timeout:.0f} s")
        _shot(root, shots, f"cell-{index + 1:03d}-widget-head1.png")
        head1 = moved[1]
        back = _move(root, "head", "ArrowLeft",
                     lambda v: v == 0 and root.evaluate(_PLOT_SRC) == first, timeout, what)
        if not back:
            raise WidgetDidNotRespond(f"{what}: moving 'head' back to 0 did not show the first "
                                      "heatmap again")
        seen.append(head1)
        notes["head"] = "0 -> 1 -> 0"
    if layers >= 1:
        moved = _move(root, "layer", "ArrowRight",
                      lambda v: v == 1 and (s := root.evaluate(_PLOT_SRC)) and s not in seen,
                      timeout, what)
        if not moved:
            raise WidgetDidNotRespond(f"{what}: moving 'layer' from 0 to 1 did not show a new "
                                      f"heatmap within {timeout:.0f} s")
        _shot(root, shots, f"cell-{index + 1:03d}-widget-layer1.png")
        notes["layer"] = "0 -> 1"
    return notes


# --------------------------------------------------------------------------- generation


_GENERATED = """el => { const o = el.querySelectorAll('.widget-html-content');
                        return o.length ? o[o.length - 1].innerText : ''; }"""


def _number(pattern: str, text: str, what: str) -> float:
    match = re.search(pattern, text)
    if not match:
        raise WidgetDidNotRespond(f"{what}: no {pattern!r} in what the playground shows: {text!r}")
    return float(match.group(1))


def drive_generation_playground(page, index: int, call: WidgetCall, shots: Path | None = None,
                                *, nth: int = 0, timeout: float = 30) -> dict:
    """Move the playground's sliders, draw a new sample, switch to greedy; the text must follow.

    - max_new_tokens one step down: the call shown says so, and (same seed) the new text is
      the old one cut short;
    - temperature one step up: the call shown says so;
    - "New sample": the seed shown goes up by one;
    - untick "sample": the call says ``do_sample=False``; the sampling sliders and "New sample"
      are disabled.
    """
    what = f"cell {index + 1}, generation playground"
    root = _widget(page, index, "lecture-generation-playground", nth, timeout)

    def shown():
        return root.evaluate(_GENERATED)

    first = _wait(page, lambda: "model.generate" in shown() and shown(), timeout)
    if not first:
        raise WidgetDidNotRespond(f"{what}: shows no generated text ({shown()!r})")
    _shot(root, shots, f"cell-{index + 1:03d}-widget-before.png")
    length = int(_number(r"max_new_tokens=(\d+)", first, what))
    temperature = _number(r"temperature=([0-9.]+)", first, what)
    seed = int(_number(r"seed (\d+)", first, what))
    text_before = first.split("\n")[0]

    moved = _move(root, "max_new_tokens", "ArrowLeft",
                  lambda v: v == length - 1 and f"max_new_tokens={length - 1}," in (s := shown())
                  and s, timeout, what)
    if not moved:
        raise WidgetDidNotRespond(f"{what}: moving 'max_new_tokens' from {length} to "
                                  f"{length - 1} did not change the output ({shown()!r})")
    text_after = moved[1].split("\n")[0]
    if not text_before.startswith(text_after.rstrip()):
        raise WidgetDidNotRespond(
            f"{what}: with the same seed and one token fewer the text should be cut short, "
            f"but {text_before!r} became {text_after!r}")

    moved = _move(root, "temperature", "ArrowRight",
                  lambda v: v > temperature
                  and (m := re.search(r"temperature=([0-9.]+)", s := shown()))
                  and abs(float(m.group(1)) - v) < 1e-6 and s, timeout, what)
    if not moved:
        raise WidgetDidNotRespond(f"{what}: moving 'temperature' up from {temperature} did not "
                                  f"change the output ({shown()!r})")
    hotter = moved[0]
    _shot(root, shots, f"cell-{index + 1:03d}-widget-sliders.png")

    root.get_by_role("button", name="New sample").click()
    if not _wait(page, lambda: f"seed {seed + 1}:" in shown(), timeout):
        raise WidgetDidNotRespond(f"{what}: 'New sample' did not draw with seed {seed + 1} "
                                  f"({shown()!r})")

    root.locator(".widget-checkbox input[type=checkbox]").first.click()

    def greedy():
        disabled = root.evaluate("""el => [...el.querySelectorAll('.widget-slider')]
            .filter(s => /temperature|top_k|top_p/.test(s.innerText))
            .map(s => s.querySelector('.slider').hasAttribute('disabled'))""")
        return ("do_sample=False" in shown() and len(disabled) == 3 and all(disabled)
                and root.get_by_role("button", name="New sample").is_disabled())

    if not _wait(page, greedy, timeout):
        raise WidgetDidNotRespond(f"{what}: unticking 'sample' did not switch to greedy "
                                  f"decoding with the sampling sliders and 'New sample' disabled ({shown()!r})")
    _shot(root, shots, f"cell-{index + 1:03d}-widget-after.png")
    return {"max_new_tokens": f"{length} -> {length - 1}",
            "temperature": f"{temperature} -> {hotter}", "seed": f"{seed} -> {seed + 1}",
            "greedy": True}


DRIVERS = {
    "tokenizer_playground": drive_tokenizer_playground,
    "attention_explorer": drive_attention_explorer,
    "generation_playground": drive_generation_playground,
}
