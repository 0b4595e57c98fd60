"""Exact vectors read from a vectors.faiss file by position (qa/store/flat_file.py): the same vectors FAISS holds,
or no reader at all when the file is not laid out as expected."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.store.flat_file import FlatFileRows


def written(tmp_path, ids, dimension=8, seed=0):
    import faiss

    vectors = np.random.default_rng(seed).standard_normal((len(ids), dimension)).astype(np.float32)
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    index.add_with_ids(vectors, np.asarray(ids, np.int64))
    path = tmp_path / "vectors.faiss"
    faiss.write_index(index, str(path))
    return path, faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC), dict(zip(ids, vectors))


@settings(max_examples=25, deadline=None)
@given(ids=st.lists(st.integers(0, 2**40), min_size=1, max_size=60, unique=True), dimension=st.integers(1, 40),
       data=st.data())
def test_rows_are_the_vectors_faiss_holds_in_the_order_asked(tmp_path_factory, ids, dimension, data):
    path, index, expected = written(tmp_path_factory.mktemp("rows"), ids, dimension)
    rows = FlatFileRows.open(path, index)
    assert rows is not None
    asked = data.draw(st.lists(st.sampled_from(ids), max_size=30))
    got = rows.read(np.asarray(asked, np.int64))
    assert got.shape == (len(asked), dimension)
    for chunk_id, vector in zip(asked, got):
        assert np.array_equal(vector, expected[chunk_id])
        assert np.array_equal(vector, index.reconstruct(chunk_id))


def test_an_unknown_id_is_a_key_error_naming_it(tmp_path):
    path, index, _ = written(tmp_path, [3, 9, 27])
    with pytest.raises(KeyError, match="chunk id 10 "):
        FlatFileRows.open(path, index).read(np.asarray([9, 10]))


@pytest.mark.parametrize("damage", ["appended", "truncated", "other-values"])
def test_a_file_not_laid_out_as_expected_gets_no_reader(tmp_path, damage):
    import faiss

    path, _, _ = written(tmp_path, list(range(20)))
    index = faiss.read_index(str(path))  # in memory: what the file held before the damage
    if damage == "other-values":  # the same layout, other numbers: the rows checked against FAISS disagree
        written(tmp_path, list(range(20)), seed=1)
    else:
        data = path.read_bytes()
        path.write_bytes(data + b"\0" * 8 if damage == "appended" else data[:-8])
    assert FlatFileRows.open(path, index) is None
    assert FlatFileRows.open(tmp_path / "missing.faiss", index) is None
    empty = faiss.IndexIDMap2(faiss.IndexFlatIP(4))
    faiss.write_index(empty, str(tmp_path / "empty.faiss"))
    assert FlatFileRows.open(tmp_path / "empty.faiss", empty) is None
