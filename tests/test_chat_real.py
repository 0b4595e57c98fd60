"""The chat with the real models: the seed's arrests among the stories of "who was arrested?" over every BBC
article that mentions an arrest, and the seed conversation followed turn by turn. Prints its figures (pytest -s)."""

from __future__ import annotations

import shutil

import pytest

from qa.embedders import SentenceTransformerEmbedder
from qa.engine import Engine
from qa.settings import Settings
from tests.conftest import BBC, SEED

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not BBC.is_dir(), reason="../shared/corpora/bbc not present")]


@pytest.fixture(scope="module")
def arrests(tmp_path_factory):
    """The seed and every BBC article that says "arrest" in some form: all the stories "who was arrested?" can
    gather, so the ranking among them is the one the whole corpus gives."""
    folder = tmp_path_factory.mktemp("arrests")
    shutil.copy(SEED, folder / SEED.name)
    for path in sorted(BBC.glob("*/*.txt")):
        text = path.read_bytes().decode("utf-8", errors="replace").lower()
        if "arrest" in text:
            (folder / path.parent.name).mkdir(exist_ok=True)
            shutil.copy(path, folder / path.parent.name / path.name)
    engine = Engine(settings=Settings(index_dir=folder.parent / "arrests-index"), embedder=SentenceTransformerEmbedder())
    engine.sync(folder, progress=False)
    yield engine
    engine.close()


def test_the_seed_is_among_the_stories_of_who_was_arrested(arrests):
    answer = arrests.ask("who was arrested?")
    texts = [s.text for s in answer.stories]
    print(f"\n{len(answer.stories)} stories: {texts}")
    assert answer.text == f"Several stories answer this ({len(answer.stories)})." and len(answer.stories) >= 5
    seed = [s for s in answer.stories if SEED.name in s.article_ids]
    assert seed, f"the seed's story is not among {texts}"
    assert "suspected members" in seed[0].text
    (citation,) = seed[0].citations[:1]
    assert arrests.article(SEED.name).text[citation.start : citation.end] == seed[0].text


def test_the_seed_conversation_stays_with_the_seed(arrests):
    first = arrests.ask("who was arrested for selling drugs online?")
    assert first.focus == (SEED.name,)  # answered or declined, the chat is now about the seed
    cities = arrests.ask("in which cities?", history=[first])
    assert cities.follow_up and cities.found and "Astana and Almaty" in cities.text
    agency = arrests.ask("which agency announced the arrests?", history=[first, cities])
    assert agency.follow_up and agency.focus == (SEED.name,)
    assert "KNB" in (agency.text if agency.found else agency.alternatives[0].text)
    # a question that names another story releases the focus
    tycoon = arrests.ask("which Japanese tycoon, once ranked the world's richest man, was arrested?",
                         history=[first, cities, agency])
    assert not tycoon.follow_up and tycoon.found and "Tsutsumi" in tycoon.text
