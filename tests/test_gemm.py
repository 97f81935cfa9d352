"""pipeline.entities.gemm: the compiled product sums as BLIS's generic kernel does, to the bit, and a
spaCy model given it predicts the very same numbers."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.entities import gemm

numba = pytest.importorskip("numba")

SHAPES = [(1, 1, 1), (3, 5, 7), (13, 2 * gemm.KC + 37, 33), (64, 288, 288), (9, 480, 40), (6, 0, 4)]


def sequential(x: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """BLIS's generic kernel in plain numpy: per k-block of KC, products added one at a time
    (each rounded to float32, no fused multiply-add), then the blocks' sums added in order."""
    total = np.zeros((x.shape[0], wt.shape[1]), np.float32)
    for k0 in range(0, x.shape[1], gemm.KC):
        block = np.zeros_like(total)
        for k in range(k0, min(x.shape[1], k0 + gemm.KC)):
            block = block + np.outer(x[:, k], wt[k])
        total = block if k0 == 0 else total + block
    return total


@pytest.fixture(scope="module")
def ops() -> gemm.ExactOps:
    return gemm.ExactOps(numba.njit(boundscheck=False)(gemm._kernel))


@pytest.mark.parametrize("m,k,n", SHAPES)
def test_the_kernel_sums_as_the_generic_kernel(ops, m, k, n):
    rng = np.random.default_rng(m * k + n)
    x, y = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((n, k), dtype=np.float32)
    expected = sequential(x, np.ascontiguousarray(y.T))
    assert np.array_equal(ops.gemm(x, y, trans2=True), expected)
    assert np.array_equal(ops.gemm(x, np.ascontiguousarray(y.T)), expected)
    out = np.full((m + 1, n), 7.0, np.float32)  # as spaCy's precomputed layer writes below a padding row
    ops.gemm(x, y, trans2=True, out=out[1:])
    assert np.array_equal(out[1:], expected) and (out[0] == 7.0).all()


def test_what_it_does_not_compute_goes_to_blis(ops):
    x = np.random.default_rng(0).standard_normal((5, 3))  # float64: BLIS's own error says so
    with pytest.raises(ValueError, match="BLIS gemm requires float32"):
        ops.gemm(x, x, trans1=True)


@pytest.mark.skipif(gemm.blis_kernel() != "generic", reason="BLIS runs an optimized kernel on this CPU")
@pytest.mark.parametrize("m,k,n", SHAPES)
def test_where_blis_runs_its_generic_kernel_the_products_equal_its_own(m, k, n):
    from thinc.api import NumpyOps

    exact = gemm.exact_ops()
    assert exact is not None
    rng = np.random.default_rng(k)
    x, y = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((n, k), dtype=np.float32)
    assert np.array_equal(exact.gemm(x, y, trans2=True), NumpyOps().gemm(x, y, trans2=True))


@pytest.mark.skipif(gemm.blis_kernel() != "generic", reason="BLIS runs an optimized kernel on this CPU")
def test_a_spacy_ner_model_given_the_exact_ops_predicts_the_same_numbers():
    import spacy
    from spacy.training import Example

    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in ("Chemical", "Disease"):
        ner.add_label(label)
    nlp.initialize(lambda: [Example.from_dict(nlp.make_doc("Lidocaine caused seizures."), {})])
    texts = ["Lidocaine-induced seizures were treated with diazepam in 12 of 40 rats.",
             "Naloxone reversed the hypotension that clonidine had caused."] * 20
    tok2vec = ner.model.get_ref("tok2vec")
    before = [a.copy() for a in tok2vec.predict([nlp.make_doc(t) for t in texts])]
    ents = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]
    assert gemm.use_exact_ops(nlp)
    assert all(isinstance(node.ops, gemm.ExactOps) for node in ner.model.walk())
    after = tok2vec.predict([nlp.make_doc(t) for t in texts])
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)] == ents


def test_it_keeps_no_array_it_was_given(ops):
    """Layers hand over a new view of their weights each call: keeping any grew memory without end."""
    import weakref

    weights = np.ones((4, 3), np.float32)
    view = weights.reshape(4, 3)
    given = weakref.ref(view)
    ops.gemm(np.ones((2, 3), np.float32), view, trans2=True)
    del view
    assert given() is None


def test_a_weight_gradient_sums_as_the_generic_kernel(ops):
    rng = np.random.default_rng(5)
    for m, k, n in SHAPES:
        x, y = rng.standard_normal((k, m), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
        assert np.array_equal(ops.gemm(x, y, trans1=True), sequential(np.ascontiguousarray(x.T), y))


def test_weights_changed_in_place_are_read_anew_as_training_changes_them(ops):
    training = ops
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((4, 8), dtype=np.float32), rng.standard_normal((3, 8), dtype=np.float32)
    first = training.gemm(x, w, trans2=True)
    w *= 2  # as an optimizer updates weights
    assert np.array_equal(training.gemm(x, w, trans2=True), 2 * first)


@pytest.mark.skipif(gemm.blis_kernel() != "generic", reason="BLIS runs an optimized kernel on this CPU")
def test_a_spacy_model_trained_on_the_exact_ops_has_blis_weights_to_the_bit():
    import spacy
    from spacy.training import Example

    def trained() -> bytes:
        from thinc.api import fix_random_seed

        fix_random_seed(0)
        nlp = spacy.blank("en")
        nlp.add_pipe("ner")
        examples = [Example.from_dict(nlp.make_doc(text), {"entities": [(0, 9, "Chemical")]})
                    for text in ("Lidocaine caused seizures in rats.", "Clonidine lowered blood pressure.")]
        optimizer = nlp.initialize(lambda: examples)
        for _ in range(5):
            nlp.update(examples, sgd=optimizer)
        return nlp.get_pipe("ner").model.to_bytes()

    blis = trained()
    with gemm.exact_training() as exact:
        assert exact
        same = trained()
    assert same == blis
