"""A memory's text as a prompt quotes it: one line that cannot close its quote or its block."""

from __future__ import annotations

# The notes blocks' markers are bracketed lines and each note is a double-quoted line, so
# stored text written with brackets or double quotes could end a quote or forge a marker
# ("[End of notes]" then new "rules"). In a note they become their look-alikes: parentheses
# and single quotes, so no text a person or a file stored can ever read as Hearth's own.
_UNFORGEABLE = str.maketrans({"[": "(", "]": ")", '"': "'"})


def quoted(text: str) -> str:
    """`text` as it stands inside a note: on one line, without brackets or double quotes.
    Forgetting looks for this form in stored prompts, so it must stay deterministic."""
    return " ".join(text.split()).translate(_UNFORGEABLE)
