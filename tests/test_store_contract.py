"""The VectorStore contract (qa/store/vectors.py), as mixins every backend inherits (as Haystack tests its document stores):
add, remove, search, persistence through generation folders, ids, vectors(), the empty store, k larger than the
store, duplicate and unknown ids. A new backend gets the whole suite by subclassing StoreContract and saying how to
make its Settings. Backend-specific checks (the ANN switch, Milvus crash repair) follow the suite."""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from qa.errors import ConfigError, IndexCorrupt
from qa.settings import Settings
from qa.store.vectors import STORE_NAMES, VectorStore, load_store, new_store

DIM = 32


def unit_vectors(n: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


class StoreContract:
    """Subclasses set ``settings_for(tmp_path)``; everything else is the contract."""

    def settings_for(self, tmp_path: Path) -> Settings:
        raise NotImplementedError

    @pytest.fixture
    def folder(self, tmp_path: Path) -> Path:
        return tmp_path / "index"

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return self.settings_for(tmp_path)

    @pytest.fixture
    def store(self, settings: Settings) -> VectorStore:
        return new_store(settings.store, DIM, settings)

    def save(self, store: VectorStore, folder: Path, number: int) -> Path:
        """Save as generation ``number`` of the index folder, as a writer does (staging name, then rename)."""
        staging = folder / f"gen-{number:06d}.tmp"
        staging.mkdir(parents=True)
        store.save(staging)
        final = folder / f"gen-{number:06d}"
        staging.rename(final)
        return final

    def reopen(self, store: VectorStore, folder: Path, settings: Settings, number: int = 1) -> VectorStore:
        return load_store(store.name, self.save(store, folder, number), DIM, settings)

    def filled(self, store: VectorStore, n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        ids = np.arange(n, dtype=np.int64) * 3 + 5  # not 0..n-1: ids are chunk ids, not positions
        vectors = unit_vectors(n, seed)
        store.add(ids, vectors)
        return ids, vectors


class EmptyStoreTests(StoreContract):
    def test_empty_store_is_empty(self, store):
        assert isinstance(store, VectorStore) and len(store) == 0 and store.dimension == DIM
        scores, ids = store.search(unit_vectors(2), 5)
        assert scores.shape == ids.shape and ids.shape[0] == 2 and not (ids >= 0).any()
        assert store.remove(np.asarray([1, 2])) == 0
        with pytest.raises(KeyError):
            store.vectors(np.asarray([1]))

    def test_empty_store_survives_save_and_load(self, store, folder, settings):
        loaded = self.reopen(store, folder, settings)
        assert len(loaded) == 0 and not (loaded.search(unit_vectors(1), 3)[1] >= 0).any()


class AddAndSearchTests(StoreContract):
    def test_each_vector_finds_itself_first(self, store):
        ids, vectors = self.filled(store)
        assert len(store) == len(ids)
        scores, found = store.search(vectors, 1)
        assert found[:, 0].tolist() == ids.tolist()
        assert np.allclose(scores[:, 0], 1.0, atol=1e-4)

    def test_search_ranks_by_inner_product_best_first(self, store):
        ids, vectors = self.filled(store, 80)
        queries = unit_vectors(4, seed=9)
        scores, found = store.search(queries, 10)
        assert found.shape == (4, 10)
        exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
        for row in range(4):
            assert set(found[row].tolist()) == set(ids[exact[row]].tolist())
            assert np.all(np.diff(scores[row]) <= 1e-5)
            assert np.allclose(scores[row], vectors[np.searchsorted(ids, found[row])] @ queries[row], atol=1e-4)

    def test_k_larger_than_the_store_returns_every_vector_once(self, store):
        ids, _ = self.filled(store, 5)
        _, found = store.search(unit_vectors(1, seed=3), 50)
        real = [i for i in found[0].tolist() if i >= 0]
        assert sorted(real) == ids.tolist() and found.shape[1] <= 50

    def test_ids_are_the_chunk_ids_given(self, store):
        ids = np.asarray([7, 10**12 + 3, 123_456, 0], dtype=np.int64)
        vectors = unit_vectors(4, seed=4)
        store.add(ids, vectors)
        assert store.search(vectors, 1)[1][:, 0].tolist() == ids.tolist()

    def test_adds_accumulate(self, store):
        store.add(np.asarray([1, 2]), unit_vectors(2, seed=1))
        store.add(np.asarray([3]), unit_vectors(1, seed=2))
        assert len(store) == 3
        assert sorted(store.search(unit_vectors(1, seed=5), 10)[1][0].tolist()) == [1, 2, 3]

    def test_an_id_already_stored_is_refused(self, store):
        ids, vectors = self.filled(store, 4)
        with pytest.raises(ValueError, match="already in the store"):
            store.add(ids[:1], vectors[:1])
        with pytest.raises(ValueError, match="twice"):
            store.add(np.asarray([900, 900]), unit_vectors(2, seed=6))
        assert len(store) == 4

    def test_wrong_shapes_and_negative_ids_are_refused(self, store):
        with pytest.raises(ValueError, match="shape"):
            store.add(np.asarray([1, 2]), unit_vectors(2, dim=DIM + 1))
        with pytest.raises(ValueError, match="negative"):
            store.add(np.asarray([-1]), unit_vectors(1))
        assert len(store) == 0


class VectorsTests(StoreContract):
    def test_vectors_returns_the_stored_vectors_in_the_order_asked(self, store):
        ids, vectors = self.filled(store, 20)
        order = np.asarray([4, 0, 19, 4])
        assert np.allclose(store.vectors(ids[order]), vectors[order], atol=1e-6)
        assert store.vectors(np.zeros(0, np.int64)).shape == (0, DIM)

    def test_vectors_of_an_unknown_id_is_a_key_error(self, store):
        ids, _ = self.filled(store, 3)
        with pytest.raises(KeyError, match="999"):
            store.vectors(np.asarray([ids[0], 999]))


class RemoveTests(StoreContract):
    def test_removed_ids_are_gone_everywhere(self, store):
        ids, vectors = self.filled(store, 30)
        gone = ids[[0, 7, 29]]
        assert store.remove(gone) == 3
        assert len(store) == 27
        _, found = store.search(vectors, 30)
        assert not set(found.ravel().tolist()) & set(gone.tolist())
        with pytest.raises(KeyError):
            store.vectors(gone[:1])
        assert np.allclose(store.vectors(ids[1:2]), vectors[1:2], atol=1e-6)

    def test_removing_unknown_or_already_removed_ids_counts_only_real_removals(self, store):
        ids, _ = self.filled(store, 5)
        assert store.remove(np.asarray([ids[0], 4242])) == 1
        assert store.remove(np.asarray([ids[0]])) == 0
        assert store.remove(np.zeros(0, np.int64)) == 0
        assert len(store) == 4


    def test_excluded_ids_are_skipped_and_k_results_still_come_back(self, store):
        # How a segment's tombstones are applied: inside the search, so excluding some never returns fewer.
        ids, vectors = self.filled(store, 40)
        hidden = ids[::2]
        _, found = store.search(vectors[:3], 10, exclude=hidden)
        assert found.shape == (3, 10) and (found >= 0).all()
        assert not set(found.ravel().tolist()) & set(hidden.tolist())
        assert found[1, 0] == ids[1]  # a kept vector still finds itself first
        _, all_found = store.search(vectors[:1], 40, exclude=np.zeros(0, np.int64))
        assert len(set(all_found[0].tolist())) == 40


class PersistenceTests(StoreContract):
    def test_save_and_load_keep_ids_vectors_and_rankings(self, store, folder, settings):
        ids, vectors = self.filled(store, 50)
        queries = unit_vectors(3, seed=8)
        before = store.search(queries, 5)
        loaded = self.reopen(store, folder, settings)
        assert len(loaded) == 50 and loaded.name == store.name
        after = loaded.search(queries, 5)
        assert after[1].tolist() == before[1].tolist()
        assert np.allclose(after[0], before[0], atol=1e-4)
        assert np.allclose(loaded.vectors(ids), vectors, atol=1e-6)

    def test_a_loaded_store_searches_removes_and_serves_vectors(self, store, folder, settings):
        """The same checks as above on a store read back from a generation (for Milvus: served by the server)."""
        ids, vectors = self.filled(store, 80)
        loaded = self.reopen(store, folder, settings)
        queries = unit_vectors(3, seed=14)
        scores, found = loaded.search(queries, 10)
        exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
        for row in range(3):
            assert set(found[row].tolist()) == set(ids[exact[row]].tolist())
            assert np.all(np.diff(scores[row]) <= 1e-5)
        assert sorted(i for i in loaded.search(queries[:1], 500)[1][0].tolist() if i >= 0) == ids.tolist()
        assert loaded.remove(np.asarray([ids[3], 99_999])) == 1 and len(loaded) == 79
        assert ids[3] not in loaded.search(vectors[3:4], 80)[1][0].tolist()
        with pytest.raises(KeyError):
            loaded.vectors(ids[3:4])
        with pytest.raises(ValueError, match="already in the store"):
            loaded.add(ids[4:5], vectors[4:5])
        assert np.allclose(loaded.vectors(ids[[5, 1]]), vectors[[5, 1]], atol=1e-6)

    def test_a_saved_generation_never_changes(self, store, folder, settings):
        """Generations are immutable: a writer that loads gen 1, changes it and saves gen 2 leaves gen 1 as it was
        (readers keep answering from it during a sync)."""
        ids, vectors = self.filled(store, 40)
        first = self.save(store, folder, 1)
        writer = load_store(store.name, first, DIM, settings)
        writer.remove(ids[:10])
        writer.add(np.asarray([1000, 1001]), unit_vectors(2, seed=11))
        second = self.save(writer, folder, 2)
        old, new = load_store(store.name, first, DIM, settings), load_store(store.name, second, DIM, settings)
        assert (len(old), len(new)) == (40, 32)
        assert old.search(vectors[:1], 1)[1][0, 0] == ids[0]
        assert np.allclose(old.vectors(ids[:10]), vectors[:10], atol=1e-6)
        assert ids[0] not in new.search(vectors[:1], 40)[1][0].tolist()
        assert new.search(unit_vectors(2, seed=11), 1)[1][:, 0].tolist() == [1000, 1001]
        with pytest.raises(KeyError):
            old.vectors(np.asarray([1000]))

    def test_a_loaded_store_can_be_changed_and_saved_again(self, store, folder, settings):
        ids, _ = self.filled(store, 12)
        loaded = self.reopen(store, folder, settings, 1)
        loaded.remove(ids[:2])
        loaded.add(np.asarray([500]), unit_vectors(1, seed=12))
        again = load_store(store.name, self.save(loaded, folder, 2), DIM, settings)
        assert len(again) == 11
        assert sorted(again.search(unit_vectors(1, seed=13), 20)[1][0].tolist()) == sorted(ids[2:].tolist() + [500])


class StoreContractTests(EmptyStoreTests, AddAndSearchTests, VectorsTests, RemoveTests, PersistenceTests):
    """The whole contract: what a backend subclasses."""


# -- backends ------------------------------------------------------------------------------------------------------
class TestFaissFlat(StoreContractTests):
    def settings_for(self, tmp_path):
        return Settings(store="faiss-flat")


class TestFaissAnn(StoreContractTests):
    """Approximate at every size (threshold 0): the contract holds because small IVFs are probed whole."""

    def settings_for(self, tmp_path):
        return Settings(store="faiss-ann")

    def test_nprobe_is_measured_to_reach_the_recall_asked(self, folder, settings):
        # Clustered vectors (text embeddings) need few lists probed; vectors without structure need many. The
        # writer measures it per IVF and saves it with the file, so readers probe what the data needs.
        centres = unit_vectors(40, 3)

        def clustered(n, seed):
            r = np.random.default_rng(seed)
            x = centres[r.integers(0, 40, n)] + 0.08 * r.standard_normal((n, DIM)).astype(np.float32)
            return x / np.linalg.norm(x, axis=1, keepdims=True)

        probes = {}
        for kind, make in (("clustered", clustered), ("uniform", lambda n, seed: unit_vectors(n, seed))):
            data = make(6000, 5)
            store = new_store("faiss-ann", DIM, settings.replace(ann_recall=0.9))
            store.add(np.arange(len(data)), data)
            loaded = self.reopen(store, folder / kind, settings)
            probes[kind] = loaded._ann.nprobe
            queries = make(100, 6)
            _, found = loaded.search(queries, 10)
            truth = np.argsort(-(queries @ data.T), axis=1)[:, :10]
            recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found.tolist(), truth.tolist())])
            assert recall >= 0.85, (kind, recall, probes[kind])
        assert probes["clustered"] * 2 <= probes["uniform"] <= loaded._ann.nlist

    def test_saved_file_is_an_ivf_opened_memory_mapped(self, store, folder, settings):
        self.filled(store, 400)
        loaded = self.reopen(store, folder, settings)
        assert loaded.approximate and loaded._path is not None  # mapped, read-only until a write
        assert type(loaded._ann).__name__ == "IndexIVFScalarQuantizer"
        assert type(faiss_lists(loaded)).__name__ == "ArrayInvertedLists"  # mapped zero-copy, not OnDisk lists
        assert (folder / "gen-000001" / "ann.faiss").is_file() and (folder / "gen-000001" / "vectors.faiss").is_file()
        assert loaded._rows is not None  # exact vectors are read with pread, not paged in through the map
        loaded.remove(np.asarray([5]))  # the first write reads the file into memory
        assert loaded._path is None and loaded._rows is None and len(loaded) == 399


def test_an_ivf_flat_file_from_before_ann_faiss_still_loads_and_is_saved_in_todays_form(tmp_path):
    import faiss

    from qa.store.faiss_ann import FaissAnnStore

    vectors = unit_vectors(500, seed=30)
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, 8, faiss.METRIC_INNER_PRODUCT)
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    ivf.train(vectors)
    ivf.add_with_ids(vectors, np.arange(500) * 3)
    ivf.nprobe = 8
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    faiss.write_index(ivf, str(old / "vectors.faiss"))
    store = FaissAnnStore.load(old, DIM, Settings(store="faiss-ann"))
    assert store.approximate and len(store) == 500
    assert store.search(vectors[:1], 1)[1][0, 0] == 0 and np.allclose(store.vectors(np.asarray([3])), vectors[1:2])
    store.add(np.asarray([9999]), unit_vectors(1, seed=31))
    store.save(new)
    again = FaissAnnStore.load(new, DIM, Settings(store="faiss-ann"))
    assert hasattr(again._index, "id_map") and again.approximate and len(again) == 501


def faiss_lists(store):
    import faiss

    return faiss.downcast_InvertedLists(store._ann.invlists)


class TestFaissAuto(StoreContractTests):
    """Exact below ann_threshold, IVF at or above it (the threshold a setting), with hysteresis on the way down."""

    def settings_for(self, tmp_path):
        return Settings(store="auto", ann_threshold=100)

    def test_switches_to_ivf_above_the_threshold_and_back_below_half(self, store, folder, settings):
        ids, vectors = self.filled(store, 99)
        below = self.reopen(store, folder, settings, 1)
        assert not below.approximate
        below.add(np.asarray([10_000]), unit_vectors(1, seed=20))
        above = load_store(store.name, self.save(below, folder, 2), DIM, settings)
        assert above.approximate and len(above) == 100
        above.remove(ids[:40])  # 60 left: above half the threshold, stays approximate
        still = load_store(store.name, self.save(above, folder, 3), DIM, settings)
        assert still.approximate
        still.remove(ids[40:60])  # 40 left: below half, exact again
        exact = load_store(store.name, self.save(still, folder, 4), DIM, settings)
        assert not exact.approximate and len(exact) == 40
        assert np.allclose(exact.vectors(ids[60:]), vectors[60:], atol=1e-6)

    def test_recall_against_exact_search_at_a_few_thousand(self, store, folder, settings):
        ids, vectors = self.filled(store, 4000, seed=21)
        ann = self.reopen(store, folder, settings)
        queries = unit_vectors(50, seed=22)
        truth = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
        found = ann.search(queries, 10)[1]
        recall = np.mean([len(set(found[r]) & set(ids[truth[r]])) / 10 for r in range(50)])
        assert recall >= 0.8, recall  # 4000 vectors, 100 lists, 32 probed; uniform random data is the worst case


# -- Milvus: milvus-lite in-process, and a real standalone server ------------------------------------------------
class MilvusContract(StoreContractTests):
    def test_a_killed_writer_is_repaired_by_the_next_save(self, store, folder, settings):
        ids, vectors = self.filled(store, 20)
        first = self.save(store, folder, 1)
        crashed = load_store(store.name, first, DIM, settings)
        crashed.remove(ids[:5])
        crashed.add(np.asarray([700, 701]), unit_vectors(2, seed=30))
        staging = folder / "gen-000002.tmp"
        staging.mkdir()
        crashed.save(staging)  # rows written, then "kill -9" before the rename and CURRENT swap
        shutil.rmtree(staging)  # what clean_leftovers does next time
        live = load_store(store.name, first, DIM, settings)
        assert len(live) == 20 and np.allclose(live.vectors(ids[:5]), vectors[:5], atol=1e-6)
        retry = load_store(store.name, first, DIM, settings)
        retry.add(np.asarray([701]), unit_vectors(1, seed=31))  # the same chunk id again, another vector
        second = load_store(store.name, self.save(retry, folder, 2), DIM, settings)
        assert len(second) == 21  # the crashed writer's removals undone, its rows gone
        assert np.allclose(second.vectors(np.asarray([701])), unit_vectors(1, seed=31), atol=1e-6)
        with pytest.raises(KeyError):
            second.vectors(np.asarray([700]))

    def test_a_released_collection_is_loaded_again_on_open(self, store, folder, settings):
        """milvus-lite forgets loaded collections between processes; a server may release one."""
        ids, vectors = self.filled(store, 6)
        first = self.save(store, folder, 1)
        loaded = load_store(store.name, first, DIM, settings)
        loaded._connect().release_collection(loaded.collection)
        again = load_store(store.name, first, DIM, settings)
        assert again.search(vectors[:1], 1)[1][0, 0] == ids[0]

    def test_a_generation_whose_rows_are_gone_is_damaged(self, store, folder, settings):
        self.filled(store, 5)
        first = self.save(store, folder, 1)
        loaded = load_store(store.name, first, DIM, settings)
        loaded._connect().drop_collection(loaded.collection)
        with pytest.raises(IndexCorrupt, match="holds 0 rows for this generation, expected 5"):
            load_store(store.name, first, DIM, settings)


@pytest.fixture(scope="module")
def lite_uri(tmp_path_factory) -> str:
    pytest.importorskip("pymilvus", reason="pymilvus is not installed: bash scripts/setup.sh test")
    pytest.importorskip("milvus_lite", reason="milvus-lite is not installed: bash scripts/setup.sh test")
    return str(tmp_path_factory.mktemp("milvus-lite") / "store.db")


class TestMilvusLite(MilvusContract):
    @pytest.fixture(autouse=True)
    def _uri(self, lite_uri):
        self.uri = lite_uri

    def settings_for(self, tmp_path):
        return Settings(store="milvus", milvus_uri=self.uri)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def milvus_server():
    """A real Milvus 2.3 standalone server (PyPI package ``milvus``) on a free port, stopped at the end."""
    pytest.importorskip("pymilvus", reason="pymilvus is not installed: bash scripts/setup.sh test")
    server_module = pytest.importorskip("milvus", reason="the milvus server package is not installed")
    data = tempfile.mkdtemp(prefix="qa-milvus-")
    server = server_module.MilvusServer()
    server.set_base_dir(data)
    server.listen_port = _free_port()
    # Strong reads wait for the next time tick: a shorter tick (200 ms by default) keeps the tests quick.
    server.config.set("proxy.timeTickInterval", 50)
    try:
        server.start()
    except Exception as exc:  # a binary that cannot run here: say why, run everything else
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
        pytest.skip(f"the Milvus server could not start on this machine: {exc}")
    yield f"http://127.0.0.1:{server.listen_port}"
    server.stop()
    shutil.rmtree(data, ignore_errors=True)


@pytest.mark.slow
class TestMilvusServer(MilvusContract):
    @pytest.fixture(autouse=True)
    def _uri(self, milvus_server):
        self.uri = milvus_server

    def settings_for(self, tmp_path):
        return Settings(store="milvus", milvus_uri=self.uri)


# -- settings ------------------------------------------------------------------------------------------------------
def test_every_store_setting_is_a_backend():
    assert set(STORE_NAMES) == {"faiss-flat", "faiss-ann", "auto", "milvus"}
    assert Settings().store == "faiss-flat"


@pytest.mark.parametrize(
    "values, message",
    [
        ({"QA_STORE": "chroma"}, "store must be one of faiss-flat, faiss-ann, auto, milvus"),
        ({"QA_STORE": "milvus"}, "needs QA_MILVUS_URI"),
        ({"QA_STORE": "milvus", "QA_MILVUS_URI": "localhost"}, "neither a server address"),
        ({"QA_ANN_THRESHOLD": "-5"}, "ann_threshold must be 0 or more"),
        ({"QA_ANN_NPROBE": "-1"}, "ann_nprobe must be 0"),
        ({"QA_ANN_RECALL": "1.5"}, "ann_recall must be above 0"),
        ({"QA_ANN_MMAP": "maybe"}, "QA_ANN_MMAP='maybe' is not a valid bool"),
    ],
)
def test_bad_store_settings_say_what_to_set(values, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(values)


# -- through the engine: sync, search, edit, delete, verify with each store -----------------------------------------
FLOOD = "Floods hit the valley\n\nHeavy rain flooded the valley on Tuesday. Two hundred families left home."
MARKET = "Markets rally\n\nShares rose sharply in London. The FTSE gained three percent."


def _engine_round_trip(tmp_path: Path, **store_settings) -> None:
    from qa.embedders import HashingEmbedder
    from qa.engine import Engine

    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "flood.txt").write_text(FLOOD)
    (articles / "market.txt").write_text(MARKET)
    settings = Settings(index_dir=tmp_path / "index", articles_dir=articles, embedder="hashing", **store_settings)
    embedder = HashingEmbedder(dimension=64)
    with Engine(settings=settings, embedder=embedder) as engine:
        engine.sync(articles)
        assert engine.search("rain flooded valley", k=1)[0].article_id == "flood.txt"
        first = engine.generation()
        (articles / "market.txt").write_text(MARKET.replace("three", "four"))
        (articles / "flood.txt").unlink()
        report = engine.sync(articles)
        assert report.updated == ["market.txt"] and report.removed == ["flood.txt"]
        hits = engine.search("rain flooded valley FTSE gained percent", k=10)
        assert {p.article_id for p in hits} == {"market.txt"} and any("four" in p.text for p in hits)
        assert engine.status().chunks == len(engine.generation().store)
        # The previous generation still answers as it was (readers keep it during a sync).
        question = embedder.embed(["rain flooded valley"])
        old = first.hybrid_search("rain flooded valley", question, 1, mode="dense", weights=(1, 0), depth=50)
        assert old[0].article_id == "flood.txt"
        _, checks = engine.verify(full=True)
        assert checks and all(c.ok for c in checks), checks
        assert engine.generation().manifest["store"] == ("faiss-ann" if store_settings["store"] == "auto" else store_settings["store"])


@pytest.mark.parametrize("store", ["faiss-flat", "faiss-ann", "auto"])
def test_engine_syncs_searches_and_verifies_with_faiss_stores(tmp_path, store):
    _engine_round_trip(tmp_path, store=store)


def test_engine_syncs_searches_and_verifies_with_milvus_lite(tmp_path, lite_uri):
    _engine_round_trip(tmp_path, store="milvus", milvus_uri=lite_uri)


@pytest.mark.slow
def test_engine_syncs_searches_and_verifies_with_a_milvus_server(tmp_path, milvus_server):
    _engine_round_trip(tmp_path, store="milvus", milvus_uri=milvus_server)


def test_an_unreachable_milvus_server_is_one_clean_error(tmp_path):
    pytest.importorskip("pymilvus", reason="pymilvus is not installed: bash scripts/setup.sh test")
    from qa.embedders import HashingEmbedder
    from qa.engine import Engine
    from qa.errors import StoreUnavailable

    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "flood.txt").write_text(FLOOD)
    uri = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    settings = Settings(index_dir=tmp_path / "index", embedder="hashing", store="milvus", milvus_uri=uri)
    with Engine(settings=settings, embedder=HashingEmbedder(dimension=64)) as engine:
        with pytest.raises(StoreUnavailable, match=f"the Milvus store at {uri} failed a request.*QA_MILVUS_URI"):
            engine.sync(articles)
    assert not list((tmp_path / "index").glob("gen-*"))  # nothing published, no staging folder left


@pytest.mark.slow
def test_sigkill_during_a_milvus_sync_leaves_the_index_usable_and_the_next_sync_repairs(tmp_path, milvus_server):
    """`qa index` killed with SIGKILL at random moments while it writes to a real Milvus server."""
    import os
    import random
    import signal
    import subprocess
    import sys

    from qa.embedders import HashingEmbedder
    from qa.engine import Engine

    rng = random.Random(7)
    folder, index_dir = tmp_path / "articles", tmp_path / "index"
    folder.mkdir()
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, QA_EMBEDDER="hashing", PYTHONPATH=str(root), QA_STORE="milvus", QA_MILVUS_URI=milvus_server)
    settings = Settings(index_dir=index_dir, embedder="hashing", store="milvus", milvus_uri=milvus_server)

    def write_some(round_: int) -> None:
        for i in rng.sample(range(60), 20):
            text = " ".join(f"The river valley report {i} says sentence {j} happened in round {round_}." for j in range(12))
            (folder / f"a{i:02d}.txt").write_text(f"Report {i}\n\n{text}")

    def index() -> subprocess.Popen:
        command = [sys.executable, "-m", "qa", "index", str(folder), "--index", str(index_dir)]
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def consistent() -> int:
        with Engine(settings=settings, embedder=HashingEmbedder()) as engine:
            generation = engine.generation()
            articles, chunks = generation.counts()
            assert len(generation.store) == chunks
            assert engine.search("river valley report", k=3)
            return articles

    write_some(0)
    assert index().wait(120) == 0
    write_some(1)
    started = time.monotonic()
    assert index().wait(120) == 0
    duration = time.monotonic() - started  # of one uninterrupted incremental sync like those below
    kills = 0
    for round_ in range(2, 7):
        write_some(round_)
        process = index()
        time.sleep(rng.uniform(0.1, duration * 0.9))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(60)
        consistent()
    assert kills >= 4  # (nearly) every round really was interrupted
    final = index()
    assert final.wait(120) == 0, final.stderr.read()
    assert consistent() == len(list(folder.glob("*.txt")))
