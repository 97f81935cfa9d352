"""Properties (hypothesis) of citation markers, reference lists and the store (issue 18, item 6):
what must hold for any input of a kind, not just the examples elsewhere. Each bug they found is
pinned by an example (`@example`) that failed before its fix."""
from __future__ import annotations

import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.datatypes import Notice, Record, Section
from pipeline.documents.citations import (NARRATIVE_REACH, NUMERIC_MARKER, citation_markers, cut_markers, identifiers,
                                          parse_citation, parse_reference_list, without_markers)
from pipeline.records.store import Store

# --- citation markers -------------------------------------------------------------

NUMBER = st.integers(min_value=1, max_value=999)
PART = st.one_of(NUMBER.map(lambda n: (n, n)), st.tuples(NUMBER, NUMBER))  # (low, high): one number or a range
WORDS = st.text(alphabet=string.ascii_letters + " ,.", min_size=0, max_size=40)


def expanded(parts: list[tuple[int, int]]) -> list[str]:
    """What a bracketed list of numbers and ranges cites: a range of up to 100 numbers in full,
    else (a backwards or wider one) its two ends."""
    numbers: list[str] = []
    for low, high in parts:
        if low == high:
            numbers.append(str(low))
        elif low < high <= low + 100:
            numbers += [str(n) for n in range(low, high + 1)]
        else:
            numbers += [str(low), str(high)]
    return numbers


@given(parts=st.lists(PART, min_size=1, max_size=6), separator=st.sampled_from([",", ", ", ";", " , "]),
       dash=st.sampled_from(["-", "–", "—", " - "]), before=WORDS, after=WORDS)
def test_a_numeric_marker_cites_its_numbers_and_ranges_in_order(parts, separator, dash, before, after) -> None:
    marker = "[" + separator.join(str(low) if low == high else f"{low}{dash}{high}" for low, high in parts) + "]"
    text = f"{before} Sertraline inhibits Kir4.1 {marker}{after}"
    found = citation_markers(text)
    assert [ref.marker for _, ref in found] == expanded(parts)
    assert {offset for offset, _ in found} == {text.index(marker)}
    assert NUMERIC_MARKER.search(without_markers(text)) is None


@given(st.text(max_size=300))
@example("[1-2-3]")
@example("(Smith, 2019; (Lee, 2020)")
def test_markers_of_any_text_are_in_order_inside_it_and_taking_them_out_is_idempotent(text: str) -> None:
    found = citation_markers(text)
    assert [offset for offset, _ in found] == sorted(offset for offset, _ in found)
    assert all(0 <= offset < len(text) and ref.marker for offset, ref in found)
    once = without_markers(text)
    assert without_markers(once) == once


@given(st.text(max_size=300))
@example("rhodopsin [1, 2] and insulin[3-5].")
@example("imidazo[1,4]benzodiazepine and c.97GCC[9]+[10]")
def test_cutting_markers_keeps_every_other_character_where_it_stood(text: str) -> None:
    cut, kept = cut_markers(text)
    assert len(cut) == len(kept) and kept == sorted(set(kept))
    assert all(text[i] == c for i, c in zip(kept, cut))
    assert cut_markers(cut)[0] == cut


@pytest.mark.parametrize(("text", "cut"), [
    ("Mitiglinide decreases insulin [245] in rats [3].", "Mitiglinide decreases insulin in rats ."),
    ("channels[4,5], and [Ca2+]i rises [3-6]", "channels, and [Ca2+]i rises"),
    ("imidazo[1,4]benzodiazepine and c.97GCC[9]+[10]", "imidazo[1,4]benzodiazepine and c.97GCC[9]+[10]"),
])
def test_citation_markers_are_cut_but_brackets_in_names_stay(text: str, cut: str) -> None:
    assert cut_markers(text)[0] == cut


@given(pmid=st.integers(min_value=1, max_value=999_999_999), end=st.sampled_from(["", ".", ",", ";", ")"]))
def test_an_inline_pmid_is_its_number(pmid: int, end: str) -> None:
    [(offset, ref)] = citation_markers(f"as shown (PMID: {pmid}{end} here")
    assert (ref.marker, ref.pmid, ref.resolved_by) == (f"PMID:{pmid}", str(pmid), "pmid")


DOI_SUFFIX = st.text(alphabet=string.ascii_letters + string.digits + "._-/()", min_size=1, max_size=30).filter(
    lambda s: s[-1] not in ".,;:)(" and s.count("(") == s.count(")"))


@given(registrant=st.integers(min_value=1000, max_value=999_999_999), suffix=DOI_SUFFIX,
       end=st.sampled_from(["", ".", ",", ";", ")."]),
       prefix=st.sampled_from(["doi:", "doi: ", "https://doi.org/", ""]))
def test_a_doi_is_read_whole_without_the_punctuation_after_it(registrant: int, suffix: str, end: str,
                                                             prefix: str) -> None:
    doi = f"10.{registrant}/{suffix}"
    [(_, raw, kind, value)] = identifiers(f"See {prefix}{doi}{end} for more")
    assert (kind, value) == ("doi", doi.lower())


# --- reference lists --------------------------------------------------------------

ENTRY = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1,
                max_size=80).map(str.strip).filter(bool)


@given(entries=st.dictionaries(st.integers(min_value=1, max_value=999), ENTRY, min_size=1, max_size=12),
       style=st.sampled_from(["{n}. {text}", "[{n}] {text}", "{n}) {text}"]))
def test_a_numbered_list_gives_one_reference_per_number_with_its_text(entries: dict[int, str], style: str) -> None:
    lines = [style.format(n=n, text=text) for n, text in entries.items()]
    references = parse_reference_list(lines)
    assert set(references) == {str(n) for n in entries}
    assert {marker: ref.raw for marker, ref in references.items()} == {str(n): t for n, t in entries.items()}


@given(st.lists(st.text(max_size=120), max_size=20))
def test_any_lines_parse_into_references_keyed_by_what_cites_them(lines: list[str]) -> None:
    for marker, ref in parse_reference_list(lines).items():
        assert ref.marker == marker and marker


# Surnames in any alphabet a reference list writes: Latin with accents (Šimić, Łukasiewicz), Greek, Cyrillic
SURNAME = st.builds(lambda first, rest: first + rest,
                    st.characters(whitelist_categories=("Lu",), max_codepoint=0x052F),
                    st.text(st.characters(whitelist_categories=("Ll",), max_codepoint=0x052F), min_size=2,
                            max_size=12))
TITLE = st.lists(st.from_regex(r"[a-z]{1,10}", fullmatch=True), min_size=2, max_size=10).map(
    lambda words: " ".join(words).capitalize())
JOURNAL = st.lists(st.from_regex(r"[A-Z][a-z]{1,8}", fullmatch=True), min_size=1, max_size=4).map(" ".join)


@given(first=SURNAME, others=st.lists(SURNAME, max_size=30), title=TITLE, journal=JOURNAL,
       year=st.integers(min_value=1900, max_value=2099), volume=st.integers(min_value=1, max_value=999),
       page=st.integers(min_value=1, max_value=9999), issue=st.sampled_from(["", "(3)", "(Suppl 2)"]))
@example(first="Šimić", others=[], title="Sertraline and glia", journal="Glia", year=2019, volume=67, page=1,
         issue="")
def test_a_vancouver_reference_gives_ecitmatch_its_fields(first, others, title, journal, year, volume, page,
                                                          issue) -> None:
    authors = ", ".join(f"{name} {name[0]}J" for name in [first, *others])
    fields = parse_citation(f"{authors}. {title}. {journal}. {year};{volume}{issue}:{page}-{page + 9}.")
    assert (fields["first_author"], fields["title"], fields["journal"], fields["year"], fields["volume"],
            fields["first_page"]) == (first, title, journal, str(year), str(volume), str(page))


@given(particle=st.sampled_from(["", "van ", "van der ", "de ", "di "]), first=SURNAME, title=TITLE, journal=JOURNAL,
       year=st.integers(min_value=1900, max_value=2099), et_al=st.booleans())
@example(particle="", first="Šimić", title="Sertraline and glia", journal="Glia", year=2019, et_al=True)
def test_an_unnumbered_entry_is_keyed_as_its_author_year_markers_cite_it(particle, first, title, journal, year,
                                                                         et_al) -> None:
    entry = f"{particle}{first} J{', Lee K, et al' if et_al else ''}. {title}. {journal}. {year};1:1-9."
    [(_, marker)] = citation_markers(f"Sertraline inhibits Kir4.1 ({particle}{first}{' et al.' if et_al else ''}, "
                                     f"{year}).")
    assert list(parse_reference_list(["Other text first.", entry])) == ["1", marker.marker]


@given(first=SURNAME, other=SURNAME, title=TITLE, journal=JOURNAL, year=st.integers(min_value=1900, max_value=2099),
       volume=st.integers(min_value=1, max_value=999), page=st.integers(min_value=1, max_value=9999))
def test_an_apa_reference_gives_ecitmatch_its_fields(first, other, title, journal, year, volume, page) -> None:
    fields = parse_citation(f"{first}, A. B., & {other}, C. ({year}). {title}. {journal}, {volume}(2), "
                            f"{page}–{page + 9}.")
    assert (fields["first_author"], fields["title"], fields["journal"], fields["year"], fields["volume"],
            fields["first_page"]) == (first, title, journal, str(year), str(volume), str(page))


@given(surname=SURNAME, others=st.sampled_from(["", " et al.", " and Lee", ", Lee and Park"]),
       year=st.integers(min_value=1900, max_value=2099), suffix=st.sampled_from(["", "a", "b"]))
@example(surname="Šimić", others=" et al.", year=2019, suffix="")
@example(surname="Łukasiewicz", others="", year=2001, suffix="a")
def test_an_author_year_citation_cites_its_first_author_and_year(surname: str, others: str, year: int,
                                                                  suffix: str) -> None:
    key = f"{surname}{year}{suffix}"
    parenthetical = citation_markers(f"Sertraline inhibits Kir4.1 ({surname}{others}, {year}{suffix}).")
    narrative = citation_markers(f"As {surname}{others} ({year}{suffix}) showed, sertraline inhibits Kir4.1.")
    assert [ref.marker for _, ref in parenthetical] == [key] == [ref.marker for _, ref in narrative]


@pytest.mark.timeout(60)
def test_a_long_list_of_names_with_no_year_after_it_costs_linear_time() -> None:
    """A narrative citation was looked for from every capitalised word to the end of a list of
    names: 50,000 names took quadratic time (hours). Found back from each "(year)", it is linear."""
    names = ", ".join(f"Author{chr(97 + i % 26)}son" for i in range(50_000))
    assert citation_markers(f"Thanks to {names}.") == []
    text = f"Thanks to {names} and Lee (2019)."
    [(offset, ref)] = citation_markers(text)
    assert offset >= text.index("(2019)") - NARRATIVE_REACH  # a list that long is not read as one citation
    assert ref.marker == text[offset:text.index(",", offset)] + "2019"


# --- the store ----------------------------------------------------------------------

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
IDS = st.from_regex(r"[1-9][0-9]{0,8}", fullmatch=True)
RECORDS = st.builds(
    Record, uid=st.one_of(IDS.map(lambda p: f"pmid:{p}"), TEXT.map(lambda t: f"scifact:{t}")),
    title=TEXT, abstract=TEXT, pmid=st.none() | IDS, pmcid=st.none() | IDS.map(lambda n: f"PMC{n}"),
    doi=st.none() | TEXT.map(lambda t: f"10.1/{t.lower()}"), journal=TEXT,
    year=st.none() | st.integers(min_value=1800, max_value=2100), publication_types=st.lists(TEXT, max_size=3),
    mesh_terms=st.lists(TEXT, max_size=3), sections=st.lists(st.builds(Section, TEXT, TEXT), max_size=3),
    source=st.sampled_from(["pubmed", "pmc", "scifact"]), authors=st.lists(TEXT, max_size=4), volume=TEXT,
    pages=TEXT, notices=st.lists(st.builds(Notice, st.sampled_from(["RetractionIn", "ErratumIn"]), IDS, TEXT),
                                 max_size=2))


@settings(max_examples=60, deadline=None)
@given(record=RECORDS)
def test_a_record_comes_back_from_the_store_as_it_went_in(record: Record) -> None:
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "round-trip.sqlite") as store:
        store.upsert_records([record])
        loaded = store.get(record.uid)
        store.upsert_records([loaded])  # as stored, it is unchanged by storing again
        again = store.get(record.uid)
    loaded.fetched_at = again.fetched_at = record.fetched_at
    assert loaded == record and again == record


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(["pmcid", "doi", "citation"]), key=TEXT, pmid=st.just("") | IDS)
def test_an_id_conversion_comes_back_as_it_went_in(kind: str, key: str, pmid: str) -> None:
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "ids.sqlite") as store:
        assert store.recall_id(kind, key + "\x1f?") is None  # never asked
        store.remember_id(kind, key, pmid)
        assert store.recall_id(kind, key) == pmid
