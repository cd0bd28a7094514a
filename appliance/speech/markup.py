"""Markup in text to be spoken: piper reads plain text, so tags are dropped, not read out.

Someone trying `appliance say` with SSML (`<speak>`, `<break time="1s"/>`) or
pasting HTML expects the words, not "less than speak greater than". Only
something shaped like a tag is removed (`<` then a letter, `/` or `!`), so
"3 < 5" or "3<5" stay as written; character entities (`&amp;`) are decoded.
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<(?:[/!]?[A-Za-z][\w:.-]*)(?:\s[^<>]*)?/?>")
_NAME = re.compile(r"<[/!]?([A-Za-z][\w:.-]*)")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?])")


def strip_markup(text: str) -> tuple[str, list[str]]:
    """The text without tags, entities decoded; and the sorted names of the tags dropped."""
    names = sorted({_NAME.match(tag).group(1).lower() for tag in _TAG.findall(text)})
    if not names:
        return text, []
    # A tag may separate words (<break/>, </p><p>) or sit against them (<b>Welcome</b>.).
    plain = " ".join(html.unescape(_TAG.sub(" ", text)).split())
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", plain), names
