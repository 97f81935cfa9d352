"""litmine's one abbreviation finder, on raw text and as the entity pipeline's component."""
import spacy

import pipeline.entities.nlp  # noqa: F401  (registers litmine.Tokenizer.v1)
from pipeline.entities.abbreviations import definitions, find_abbreviations

TEXT = ("Puromycin aminonucleoside (PAN; 50 mg/kg) and 5-fluorouracil (5-FU) were given. "
        "PAN raised proteinuria; 5-FU did not. Valproic acid (VPA) and VPA alone.")


def test_short_forms_closed_by_a_semicolon_or_split_at_a_hyphen_are_found():
    """What scispaCy's detector misses (benchmarks/abbreviations.py): "(PAN; " and "5-FU"."""
    assert find_abbreviations(TEXT) == {"PAN": "Puromycin aminonucleoside", "5-FU": "5-fluorouracil",
                                        "VPA": "Valproic acid"}
    assert [d.short for d in definitions(TEXT)] == ["PAN", "5-FU", "VPA"]  # each defined once


def test_the_component_sets_what_scispacys_detector_sets():
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "litmine.Tokenizer.v1"}}})
    nlp.add_pipe("litmine_abbreviations")
    doc = nlp(TEXT)
    assert [(short.text, short._.long_form.text) for short in doc._.abbreviations] == [
        ("PAN", "Puromycin aminonucleoside"), ("PAN", "Puromycin aminonucleoside"),
        ("5-FU", "5-fluorouracil"), ("5-FU", "5-fluorouracil"),
        ("VPA", "Valproic acid"), ("VPA", "Valproic acid")]
    assert nlp("No abbreviation here.")._.abbreviations == []
