"""An index folder as readers see it: which generation is live, opening it, its status and its checks. The Engine
asks this, and never reads CURRENT or a manifest itself."""

from __future__ import annotations

import logging
from pathlib import Path

from qa.errors import IndexCorrupt, IndexNotFound
from qa.store.generations import Live, damage_detail, locate, read_manifest
from qa.store.index import LoadedGeneration, check_embedder
from qa.store.integrity import FileCheck, check_files
from qa.types import IndexStatus

log = logging.getLogger("qa.store")


class IndexFolder:
    def __init__(self, path: Path, settings=None):
        self.path = Path(path)
        self.settings = settings  # how to open stores (QA_ANN_NPROBE, QA_ANN_MMAP, QA_MILVUS_URI)

    def live(self) -> Live:
        """The generation to read; IndexNotFound when there is none, IndexCorrupt when CURRENT is lost and no
        complete generation is left."""
        live = locate(self.path)
        if live.name is not None:
            return live
        if live.note:
            raise IndexCorrupt(f"the index at {self.path} cannot be used: {live.note}; rebuild it with "
                               f"`qa index ARTICLES_DIR --index {self.path} --rebuild`")
        raise IndexNotFound(f"no index at {self.path}; build one with `qa index ARTICLES_DIR --index {self.path}`")

    def open_live(self, identity: dict, loaded: LoadedGeneration | None = None) -> LoadedGeneration:
        """The live generation: ``loaded`` when it still is, else the live one opened (after checking that it was
        built with this embedder)."""
        live = self.live()
        if loaded is not None and loaded.path.name == live.name:
            return loaded
        path = self.path / live.name
        check_embedder(read_manifest(path), identity, path)
        if live.note:  # said once per load, not per question
            log.warning("%s; the next `qa index` points CURRENT at it again", live.note)
        return LoadedGeneration.open(path, self.settings)

    def status(self) -> IndexStatus:
        try:
            live = self.live()
        except IndexNotFound:
            return IndexStatus(index_dir=str(self.path), exists=False)
        manifest = read_manifest(self.path / live.name)
        return IndexStatus(
            index_dir=str(self.path),
            exists=True,
            generation=manifest["generation"],
            articles=manifest["articles"],
            chunks=manifest["chunks"],
            last_sync=manifest["created"],
            embedder=manifest["embedder"]["name"],
            dimension=manifest["embedder"]["dimension"],
            store=manifest["store"],
            segments=len(manifest.get("segments", [])) or 1,
        )

    def verify(self, *, full: bool = False) -> tuple[Live, list[FileCheck]]:
        """The live generation and one check per file: present and of its recorded size; with ``full``, also its
        recorded sha256. When the files pass, the generation is also opened and read, as a search would."""
        live = self.live()
        path = self.path / live.name
        checks = check_files(path, read_manifest(path), full=full)
        if all(c.ok for c in checks):
            try:
                generation = LoadedGeneration.open(path, self.settings)
                try:
                    generation.counts()
                    generation.lexical
                finally:
                    generation.close()
            except IndexCorrupt as exc:
                checks.append(FileCheck("(reading it)", False, damage_detail(exc)))
        return live, checks
