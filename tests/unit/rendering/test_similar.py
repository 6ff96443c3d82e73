"""Similar posts: TF-IDF ranking is relevant, deterministic, independent of input order, never self."""
import random

from services.rendering import similar

DOCS = {
    "a": ("Water in the Aral basin", ["Water"], "<p>Canals, rivers and dams share the water of the basin.</p>"),
    "b": ("Canal repairs", ["Water"], "<p>Repairs of canals save water for farms.</p>"),
    "c": ("Glaciers and rivers", ["Climate"], "<p>Glaciers feed rivers; rivers feed canals.</p>"),
    "d": ("Rail gauges at borders", ["Trade"], "<p>Trains wait at borders while bogies change.</p>"),
    "e": ("Grain by rail", ["Trade"], "<p>Grain trains cross borders by rail.</p>"),
}


def _run(order):
    docs = {k: similar.term_counts(*DOCS[k]) for k in order}
    return similar.similar_ids(docs, {k: i for i, k in enumerate(sorted(DOCS))}, 3)


def test_ranking_is_relevant_and_excludes_itself():
    result = _run(sorted(DOCS))
    assert result["a"][:2] == ["b", "c"]
    assert result["d"][0] == "e"
    assert all(k not in v for k, v in result.items())
    assert all(len(v) <= 3 for v in result.values())


def test_unrelated_articles_are_not_listed():
    docs = {"x": similar.term_counts("Water canals", [], ""), "y": similar.term_counts("Railway gauges", [], "")}
    assert similar.similar_ids(docs, {"x": 0, "y": 1}) == {"x": [], "y": []}


def test_result_does_not_depend_on_input_order():
    expected = _run(sorted(DOCS))
    for seed in range(5):
        order = sorted(DOCS)
        random.Random(seed).shuffle(order)
        assert _run(order) == expected


def test_tokens_handle_turkish_and_cyrillic():
    assert similar.tokens("Su Diplomasisi: Водная дипломатия, 2022!") == ["su", "diplomasisi", "водная", "дипломатия"]
