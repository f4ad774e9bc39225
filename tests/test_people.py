"""Finding the people a query names, as the store's search does."""

from __future__ import annotations

from memory.graph.people import find, name_tokens

NAMES = {
    "Fahim": {"Fahim Khan", "user"},
    "Khan": {"Fahim Khan", "user"},
    "Muhhamed": {"Muhhamed"},
    "elise": {"elise"},
    "Jo": {"Jo"},
}


def test_a_named_person_is_found_and_taken_out_of_the_question() -> None:
    found = find("What does Muhhamed think of his job?", NAMES)
    assert found.subjects == {"Muhhamed"}
    assert found.rest == "What does think of his job?"


def test_names_are_matched_as_loosely_as_they_are_spelled() -> None:
    # A close spelling, a possessive, and a label written in lower case.
    assert find("How does Muhammad's boss treat him?", NAMES).subjects == {"Muhhamed"}
    assert find("Where did Elise go?", NAMES).subjects == {"elise"}
    # First letters must agree, and short names must match exactly.
    assert find("What did Kevin say?", NAMES).subjects == set()
    assert find("What did Nuhhamed say?", NAMES).subjects == set()
    assert find("Did Jon call?", NAMES).subjects == set()
    assert find("Did Jo call?", NAMES).subjects == {"Jo"}
    # A letter doubled or not is the same name, however short.
    assert find("What does Anna drink?", {"Ana": {"Ana"}}).subjects == {"Ana"}
    assert find("Did Joe call?", NAMES).subjects == set()


def test_common_words_are_not_names_even_when_someone_is_called_that() -> None:
    names = {n: {n} for n in ("Walt", "Mary", "Theo", "Will", "Mabel", "Justin", "Alison")}
    for query in (
        "What am I allergic to?",  # What ~ Walt
        "Many thanks. Then what?",  # Many ~ Mary, Then ~ Theo
        "Will you remind me?",  # the verb, not Will
        "Maybe tomorrow. Just checking. Also, hi!",  # a sentence's first word: exact only
    ):
        found = find(query, names)
        assert found.subjects == set(), query
        assert found.rest == query
    assert find("Did Walt call? Mabel did.", names).subjects == {"Walt", "Mabel"}


def test_one_person_called_two_ways() -> None:
    found = find("Fahim Khan and Muhhamed: what do they both like?", NAMES)
    assert found.subjects == {"Fahim Khan", "user", "Muhhamed"}
    assert found.rest == "and : what do they both like?"
    # "elise" and "Elise" are one name: neither's subjects are lost.
    merged = find("Where did Elise go?", {"elise": {"elise"}, "Elise": {"Elise B"}})
    assert merged.subjects == {"elise", "Elise B"}


def test_a_query_that_is_only_a_name_leaves_nothing_to_search_with() -> None:
    found = find("Muhhamed?", NAMES)
    assert found.subjects == {"Muhhamed"} and found.rest == ""
    assert find("How's Muhhamed?", NAMES).rest == ""


def test_lower_case_words_are_names_only_for_writers_who_never_capitalise() -> None:
    names = {"Will": {"Will"}, "Rose": {"Rose"}, "Ana": {"Ana"}}
    found = find("will the rose bloom?", names)
    assert found.subjects == set() and found.rest == "will the rose bloom?"
    assert find("Did the ana plant bloom?", names).subjects == set()
    # Someone who writes everything in lower case names people in lower case too: exactly.
    assert find("did ana call back?", names).subjects == {"Ana"}
    assert find("did anna call back?", names).subjects == {"Ana"}
    assert find("did ann call back?", {"Anne": {"Anne"}}).subjects == set()


def test_where_a_sentence_starts() -> None:
    names = {"Sally": {"Sally"}, "Reilly": {"Reilly"}, "Hope": {"Hope"}, "Ana": {"Ana"}}
    # A close spelling never counts for a sentence's first word, whatever ended the last one.
    for query in ("ugh\nSadly she never called", "ok\nReally weird day", "She said: Sadly, no."):
        assert find(query, names).subjects == set(), query
    assert find("Hope you're well!", names).subjects == set()
    assert find("I asked Hope.", names).subjects == {"Hope"}
    # A doubled letter does, and a known name always does.
    assert find("Anna called me today", names).subjects == {"Ana"}


def test_words_capitalised_for_other_reasons_are_not_names() -> None:
    names = {n: {n} for n in ("Christian", "Frida", "June", "Mark", "Will")}
    for query in ("What am I doing for Christmas?", "See you Friday", "I start in June",
                  "Mark my words", "Will you call?"):  # fmt: skip
        assert find(query, names).subjects == set(), query
    assert find("Did Will call?", names).subjects == {"Will"}


def test_names_in_any_alphabet() -> None:
    assert name_tokens("Émile Łukasz") == ["Émile", "Łukasz"]
    assert find("What did Émile cook?", {"Émile": {"Émile"}}).subjects == {"Émile"}
    # Decomposed accents are the same name; scripts without capitals have names too.
    assert find("Did Zoe\u0308 call?", {"Zoë": {"Zoë"}}).subjects == {"Zoë"}
    assert find("ماذا قال محمد؟", {"محمد": {"محمد"}}).subjects == {"محمد"}


def test_a_persons_name_words() -> None:
    assert name_tokens("Fahim Khan") == ["Fahim", "Khan"]
    assert name_tokens("elise") == ["elise"]
    assert name_tokens("Liam O'Brien") == ["Liam", "O'Brien"]
    # A relation is not the person it is a relation of.
    assert name_tokens("Sam's mom") == []
    assert name_tokens("James' dog") == []
    # Nor is the user, or an id.
    assert name_tokens("user") == []
    assert name_tokens("Chat_10_Fahim") == []
    assert name_tokens("c1") == name_tokens("c") == []
