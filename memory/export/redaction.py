"""PII redaction for exports: presidio-analyzer's pattern recognisers, offline, with no NLP model,
and Hearth's own secrets detector (`memory.secrets`) for passwords, PINs, keys and tokens.

presidio's `AnalyzerEngine` would load a spaCy model (downloaded at run time), so the
recognisers are called directly: each is a regex or a checksum (Luhn for cards, phonenumbers'
metadata for phones) and needs no model. The email recogniser validates domains with
tldextract, whose default fetches the public suffix list from the network; ours uses the
snapshot shipped inside tldextract instead, so redaction never opens a connection.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from memory.secrets import find_secrets

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

# The kinds of PII found and replaced, each by "<KIND>".
ENTITIES = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "CRYPTO",
)
# Keys whose values are labels, not text anyone wrote.
_LABEL_KEYS = frozenset({"role", "from"})


def _recognizers() -> list[EntityRecognizer]:
    # Imported here: presidio imports spaCy (seconds), and only --redact needs it.
    import tldextract
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        CryptoRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )

    offline_tlds = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):  # type: ignore[misc]
        def validate_result(self, pattern_text: str) -> bool:
            return offline_tlds(pattern_text).fqdn != ""

    return [
        OfflineEmailRecognizer(),
        PhoneRecognizer(),
        CreditCardRecognizer(),
        IbanRecognizer(),
        UsSsnRecognizer(),
        IpRecognizer(),
        CryptoRecognizer(),
    ]


class Redactor:
    """Replaces PII in text with its kind, e.g. "<EMAIL_ADDRESS>", and counts what it replaced."""

    def __init__(self) -> None:
        self._recognizers = _recognizers()
        self.counts: Counter[str] = Counter()
        # The same context messages recur in many rows; each distinct text is analysed once.
        self._done: dict[str, tuple[str, Counter[str]]] = {}

    def text(self, text: str) -> str:
        """The text with every PII span found replaced."""
        if text not in self._done:
            self._done[text] = self._redact(text)
        out, found = self._done[text]
        self.counts.update(found)
        return out

    def _redact(self, text: str) -> tuple[str, Counter[str]]:
        spans: list[tuple[float, int, int, str]] = []
        for recognizer in self._recognizers:
            entities = [e for e in recognizer.supported_entities if e in ENTITIES]
            # Pattern recognisers use no NLP artifacts (they exist for model-based ones).
            for found in recognizer.analyze(text, entities, None):  # type: ignore[arg-type]
                if found.score > 0:
                    spans.append((found.score, found.start, found.end, found.entity_type))
        # Passwords, PINs, keys and tokens, which presidio has no recogniser for (and cards
        # again): Hearth's own detector, sure of what it finds.
        spans += [(1.0, f.start, f.end, f.kind) for f in find_secrets(text)]
        # Overlaps (a card number that also parses as a phone number): the surest, then the
        # longest span wins.
        spans.sort(key=lambda s: (-s[0], -(s[2] - s[1]), s[1]))
        kept: list[tuple[int, int, str]] = []
        for _score, start, end, kind in spans:
            if all(end <= s or start >= e for s, e, _k in kept):
                kept.append((start, end, kind))
        out = text
        for start, end, kind in sorted(kept, reverse=True):
            out = out[:start] + f"<{kind}>" + out[end:]
        return out, Counter(kind for _s, _e, kind in kept)

    def value(self, value: Any) -> Any:
        """Every string in a JSON-like value redacted, except labels such as `role`."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: v if k in _LABEL_KEYS else self.value(v) for k, v in value.items()}
        return value
