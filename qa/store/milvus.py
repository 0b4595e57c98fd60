"""Milvus as the vector store (QA_STORE=milvus, QA_MILVUS_URI): a Milvus server, or a milvus-lite file (*.db).

The vectors live outside the generation folder, so generations stay immutable by versioning rows instead of files.
One collection per index holds rows (id = chunk id, vector, gen = the generation that added it, removed = the
generation that removed it, or NEVER). Generation G sees ``gen <= G and removed > G``; its folder keeps only
``milvus.json`` (collection, G, the row count it must see), checksummed by the manifest like any other file.

A writer stages its changes in memory and writes them in save(), before its generation is published:
  1. repair: rows a killed writer left (gen >= N, the number this writer publishes) are deleted, and rows it marked
     removed (N <= removed < NEVER) are unmarked; no live generation can see either, since N was never published;
  2. rows removed by this transaction are marked removed = N (upsert: the vector stays for older generations);
  3. new rows are inserted with gen = N (durable once acknowledged: Milvus logs them before it answers);
  4. rows no kept generation can see (removed <= the oldest generation folder) are deleted, and collections of this
     index no generation names any more (left by `qa index --rebuild`) are dropped.
So a kill -9 at any point leaves the live generation's view untouched, and the next sync repairs the collection in
step 1. Opening a generation counts its rows: a view with missing rows (a server that lost data, a dropped
collection) is a damaged generation, which the next `qa index` repairs by re-embedding into a new collection.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.errors import ConfigError, StoreUnavailable, generation_damaged
from qa.store.vectors import check_new

if TYPE_CHECKING:
    from qa.settings import Settings

NEVER = 2**62  # 'removed' of a row no generation has removed
BATCH = 1000  # rows per insert/upsert/query request (keeps gRPC messages well under their size limit)
MAX_TOPK = 16384  # Milvus's limit on k
CONNECT_ATTEMPTS = 3
# HNSW on a server (segments under ~1k rows are searched exactly anyway); milvus-lite builds what it supports.
SERVER_INDEX = {"index_type": "HNSW", "metric_type": "IP", "params": {"M": 16, "efConstruction": 128}}
SERVER_SEARCH = {"metric_type": "IP", "params": {"ef": 64}}
# Strong reads wait for the server's next time tick (~0.2 s each on Milvus 2.3); Bounded reads see everything older
# than the server's graceful time (5 s by default). A reader uses Bounded once its generation is older than this.
FRESH_S = 30.0


class MilvusStore:
    name = "milvus"
    filename = "milvus.json"
    per_segment = False  # one collection for the whole index; the generation folder records which rows it sees

    def __init__(self, dimension: int, uri: str, *, collection: str | None = None, view: int = 0, count: int = 0):
        if not uri:
            raise ConfigError("the milvus store needs QA_MILVUS_URI (http://host:19530, or a milvus-lite file *.db)")
        self.dimension = dimension
        self.uri = uri
        self.collection = collection  # None until the first save names and creates it
        self.view = view  # the generation whose rows this store sees (0: none yet)
        self._count = count  # rows the view holds
        self._added_ids = np.zeros(0, np.int64)
        self._added = np.zeros((0, dimension), np.float32)
        self._removed: set[int] = set()  # ids of the view removed by this (writer's) store
        self._client = None
        self.written = 0.0  # when the generation was saved (writer's clock); 0: not a published generation

    # -- construction ------------------------------------------------------------------------------------------
    @classmethod
    def create(cls, dimension: int, settings: "Settings") -> "MilvusStore":
        return cls(dimension, settings.milvus_uri.strip())

    @classmethod
    def load(cls, path: Path, dimension: int, settings: "Settings | None" = None) -> "MilvusStore":
        try:
            record = json.loads((path / cls.filename).read_text())
            collection, view, count = str(record["collection"]), int(record["generation"]), int(record["count"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise generation_damaged(path, f"{cls.filename}: unreadable, {exc}") from exc
        # The configured server first (it may have moved); else the one the generation was written to.
        uri = (settings.milvus_uri.strip() if settings else "") or os.environ.get("QA_MILVUS_URI", "") or record.get("uri", "")
        store = cls(dimension, uri, collection=collection, view=view, count=count)
        store.written = float(record.get("written", 0.0))
        client = store._connect()
        exists = store._call(lambda: client.has_collection(collection))
        if exists:
            store._ensure_loaded()
        held = store._visible_count() if exists else 0
        if held != count:
            raise generation_damaged(
                path, f"{cls.filename}: collection {collection} at {uri} holds {held} rows for this generation, "
                f"expected {count}"
            )
        return store

    def _connect(self):
        if self._client is None:
            from pymilvus import MilvusClient
            from pymilvus.exceptions import MilvusException

            # Every failure becomes one StoreUnavailable line; pymilvus would also log each one with a traceback.
            logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
            for attempt in range(1, CONNECT_ATTEMPTS):  # a busy server may miss a handshake: try again first
                try:
                    self._client = MilvusClient(uri=self.uri, timeout=10)
                    return self._client
                except MilvusException:
                    time.sleep(0.5 * attempt)
            self._client = self._call(lambda: MilvusClient(uri=self.uri, timeout=10))
        return self._client

    def _ensure_loaded(self) -> None:
        """A collection is searchable only while loaded: milvus-lite forgets that between processes, and a server
        may have released it. Loading a loaded collection is a no-op."""
        state = self._call(lambda: self._client.get_load_state(self.collection))
        if "Loaded" not in str(state.get("state", "")) or "NotLoad" in str(state.get("state", "")):
            self._call(lambda: self._client.load_collection(self.collection))

    def _call(self, request):
        """One Milvus request; a server that is down or refuses it is one clean error, not a gRPC traceback."""
        from pymilvus.exceptions import MilvusException

        try:
            return request()
        except MilvusException as exc:
            raise StoreUnavailable(
                f"the Milvus store at {self.uri} failed a request ({getattr(exc, 'message', exc)}); check that the "
                "server is running and QA_MILVUS_URI points at it"
            ) from exc

    def _visible(self, view: int | None = None) -> str:
        view = self.view if view is None else view
        return f"gen <= {view} and removed > {view}"

    @property
    def consistency(self) -> str:
        """Strong for a writer's store and for a generation saved moments ago; Bounded (no wait) for the rest."""
        settled = self.written and time.time() - self.written > FRESH_S
        return "Bounded" if settled and not self._removed and not len(self._added_ids) else "Strong"

    def _visible_count(self) -> int:
        rows = self._call(
            lambda: self._client.query(
                self.collection, filter=self._visible(), output_fields=["count(*)"], consistency_level="Strong"
            )
        )
        return int(rows[0]["count(*)"])

    def _on_server(self) -> bool:
        return self.collection is not None and self.view > 0

    # -- the VectorStore contract ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._count - len(self._removed) + len(self._added_ids)

    def _server_rows(self, ids: np.ndarray, fields: list[str], *, staged_removals: bool = False) -> list[dict]:
        """Rows of these ids in the view; those this store removed since it was loaded only with staged_removals."""
        wanted = [int(i) for i in ids if staged_removals or int(i) not in self._removed]
        if not wanted or not self._on_server():
            return []
        client, rows = self._connect(), []
        for start in range(0, len(wanted), BATCH):
            part = wanted[start : start + BATCH]
            where = f"id in {part} and {self._visible()}"
            rows += self._call(
                lambda: client.query(self.collection, filter=where, output_fields=fields, consistency_level=self.consistency)
            )
        return rows

    def _present(self, ids: np.ndarray) -> np.ndarray:
        on_server = {int(row["id"]) for row in self._server_rows(ids, ["id"])}
        return np.isin(ids, self._added_ids) | np.isin(ids, list(on_server))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = check_new(ids, vectors, self.dimension, self._present)
        if self._removed.intersection(ids.tolist()):
            raise ValueError("a removed chunk id cannot be added again (chunk ids are never reused)")
        self._added_ids = np.concatenate([self._added_ids, ids])
        self._added = np.vstack([self._added, vectors])

    def remove(self, ids: np.ndarray) -> int:
        ids = np.unique(np.asarray(ids, dtype=np.int64).reshape(-1))
        pending = np.isin(self._added_ids, ids)
        removed = int(pending.sum())
        self._added_ids, self._added = self._added_ids[~pending], self._added[~pending]
        for row in self._server_rows(ids, ["id"]):
            self._removed.add(int(row["id"]))
            removed += 1
        return removed

    def search(self, queries: np.ndarray, k: int, exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        hidden = sorted(set(self._removed) | set(np.asarray(exclude if exclude is not None else [], np.int64).tolist()))
        width = max(0, min(k, len(self), MAX_TOPK))
        scores = np.full((len(queries), width), -np.inf, np.float32)
        found = np.full((len(queries), width), -1, np.int64)
        if width == 0:
            return scores, found
        candidates = [([], []) for _ in queries]
        if self._on_server() and self._count > len(self._removed):
            where = self._visible()
            if hidden:  # a writer's staged removals hide rows until save(); ``exclude`` hides what it names
                where += f" and id not in {hidden}"
            client = self._connect()
            hits = self._call(
                lambda: client.search(
                    self.collection, data=queries.tolist(), filter=where, limit=width, output_fields=["id"],
                    search_params=SERVER_SEARCH if self._is_server else {"metric_type": "IP"},
                    consistency_level=self.consistency,
                )
            )
            for row, row_hits in enumerate(hits):
                candidates[row][0].extend(float(h["distance"]) for h in row_hits)
                candidates[row][1].extend(int(h["id"]) for h in row_hits)
        if len(self._added_ids):
            local = queries @ self._added.T
            keep = ~np.isin(self._added_ids, hidden)
            for row in range(len(queries)):
                candidates[row][0].extend(local[row][keep].tolist())
                candidates[row][1].extend(self._added_ids[keep].tolist())
        for row, (row_scores, row_ids) in enumerate(candidates):
            order = np.argsort(-np.asarray(row_scores, np.float32), kind="stable")[:width]
            scores[row, : len(order)] = np.asarray(row_scores, np.float32)[order]
            found[row, : len(order)] = np.asarray(row_ids, np.int64)[order]
        return scores, found

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        by_id = dict(zip(self._added_ids.tolist(), self._added))
        for row in self._server_rows(np.asarray([i for i in ids if int(i) not in by_id], np.int64), ["id", "vector"]):
            by_id[int(row["id"])] = np.asarray(row["vector"], np.float32)
        out = np.zeros((len(ids), self.dimension), np.float32)
        for row, chunk_id in enumerate(ids.tolist()):
            if chunk_id not in by_id:
                raise KeyError(f"chunk id {chunk_id} is not in the vector store")
            out[row] = by_id[chunk_id]
        return out

    def save(self, path: Path) -> None:
        from qa.store.generations import generation_number, published_generations

        number = generation_number(path.name.removesuffix(".tmp"))
        index_dir = path.parent
        client = self._connect()
        if self.collection is None:
            self.collection = f"qa_{_index_key(index_dir)}_{uuid.uuid4().hex[:12]}"
        if not self._call(lambda: client.has_collection(self.collection)):
            self._create_collection()
        self._ensure_loaded()
        self._repair(number)
        self._mark_removed(number)
        rows = [
            {"id": int(i), "vector": v.tolist(), "gen": number, "removed": NEVER}
            for i, v in zip(self._added_ids, self._added)
        ]
        for start in range(0, len(rows), BATCH):
            self._call(lambda: client.insert(self.collection, rows[start : start + BATCH]))
        count = len(self)
        record = {
            "collection": self.collection, "generation": number, "count": count, "uri": _safe_uri(self.uri),
            "written": time.time(),
        }
        (path / self.filename).write_text(json.dumps(record, indent=2))
        self.view, self._count, self.written = number, count, record["written"]
        self._added_ids, self._added, self._removed = np.zeros(0, np.int64), self._added[:0], set()
        kept = [generation_number(p.name) for p in published_generations(index_dir)]
        self._collect_garbage(index_dir, min(kept, default=number))

    # -- writing ---------------------------------------------------------------------------------------------------
    @property
    def _is_server(self) -> bool:
        return not self.uri.endswith(".db")

    def _create_collection(self) -> None:
        from pymilvus import DataType

        client = self._client
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dimension)
        schema.add_field("gen", DataType.INT64)
        schema.add_field("removed", DataType.INT64)
        index = client.prepare_index_params()
        if self._is_server:
            index.add_index(field_name="vector", **SERVER_INDEX)
        else:
            index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
        # Strong: a generation published right after its rows were written must see them from any process.
        self._call(
            lambda: client.create_collection(self.collection, schema=schema, index_params=index, consistency_level="Strong")
        )

    def _repair(self, number: int) -> None:
        """Undo what a writer killed before publishing generation ``number`` (or a later one) left behind."""
        client = self._client
        self._call(lambda: client.delete(self.collection, filter=f"gen >= {number}"))
        marked = f"removed >= {number} and removed < {NEVER}"
        while rows := self._call(
            lambda: client.query(
                self.collection, filter=marked, output_fields=["id", "vector", "gen"], limit=BATCH,
                consistency_level="Strong",
            )
        ):
            self._upsert(rows, NEVER)  # unmarked rows drop out of the filter: the loop ends

    def _mark_removed(self, number: int) -> None:
        removed = np.asarray(sorted(self._removed), np.int64)
        self._upsert(self._server_rows(removed, ["id", "vector", "gen"], staged_removals=True), number)

    def _upsert(self, rows: list[dict], removed: int) -> None:
        rows = [{"id": int(r["id"]), "vector": list(r["vector"]), "gen": int(r["gen"]), "removed": removed} for r in rows]
        for start in range(0, len(rows), BATCH):
            self._call(lambda: self._client.upsert(self.collection, rows[start : start + BATCH]))

    def _collect_garbage(self, index_dir: Path, oldest: int) -> None:
        """Rows no kept generation sees, and this index's collections no generation names (after --rebuild)."""
        client = self._client
        self._call(lambda: client.delete(self.collection, filter=f"removed <= {oldest}"))
        named = {self.collection}
        for folder in index_dir.glob("gen-*"):
            try:
                named.add(json.loads((folder / self.filename).read_text())["collection"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
        prefix = f"qa_{_index_key(index_dir)}_"
        for name in self._call(client.list_collections):
            if name.startswith(prefix) and name not in named:
                self._call(lambda: client.drop_collection(name))


def _index_key(index_dir: Path) -> str:
    """Names this index's collections, so that several indexes can share one server. The host is part of it: two
    machines with an index at the same path must not collect each other's collections as garbage."""
    where = f"{socket.gethostname()}:{Path(index_dir).resolve()}"
    return hashlib.sha256(where.encode()).hexdigest()[:10]


def _safe_uri(uri: str) -> str:
    """The URI without credentials (user:password@), fit to be written into the generation folder."""
    scheme, sep, rest = uri.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}" if sep else str(Path(uri).resolve())
