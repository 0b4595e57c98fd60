"""Loading articles from files: formats, titles, encodings and bad input never abort a sync."""

from __future__ import annotations

import json

import pytest

from qa.ingest.articles import SkipFile, guess_title_and_author, parse_source
from tests.conftest import BBC, SEED


def test_seed_title_skips_the_section_label_and_finds_the_byline():
    parsed = parse_source("seed.txt", SEED.read_bytes())
    (article,) = parsed.articles
    assert article.title == "Kazakhstan busts suspects accused of trafficking drugs on 'dark web'"
    assert article.author == "Alexander Bogatik"
    assert article.text == SEED.read_text()  # stored exactly as in the file


def test_first_line_is_the_title_for_plain_news():
    assert guess_title_and_author("Ad sales boost Time Warner profit\n\nQuarterly profits rose.")[0] == (
        "Ad sales boost Time Warner profit"
    )


def test_markdown_heading_becomes_the_title():
    (article,) = parse_source("a.md", b"# Big news today\n\nSomething happened.").articles
    assert article.title == "Big news today"


def test_latin1_file_is_decoded_and_reported():
    data = "Caf\xe9 owners protest\n\nThe caf\xe9 owners of Paris protested on Monday against new taxes on coffee.".encode(
        "latin-1"
    )
    parsed = parse_source("sport/199.txt", data)
    assert "Café" in parsed.articles[0].text
    assert any("sport/199.txt" in note and "UTF-8" in note for note in parsed.notes)


@pytest.mark.skipif(not (BBC / "sport" / "199.txt").exists(), reason="BBC corpus not present")
def test_the_real_latin1_bbc_file_loads():
    parsed = parse_source("sport/199.txt", (BBC / "sport" / "199.txt").read_bytes())
    assert parsed.notes == ["sport/199.txt: not UTF-8, decoded as cp1252 (Latin-1)"]
    assert "a £15.8m signing" in parsed.articles[0].text


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n \t\n", "empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("bad.json", b"{not json", "invalid JSON"),
    ],
)
def test_bad_files_are_skipped_with_a_reason(name, data, reason):
    with pytest.raises(SkipFile, match=reason):
        parse_source(name, data)


def test_jsonl_gives_one_article_per_object_and_skips_bad_lines():
    lines = [
        json.dumps({"id": "x1", "title": "First", "text": "Alpha beta.", "url": "http://e/1", "author": "Ann"}),
        "{broken",
        json.dumps({"title": "No text"}),
        json.dumps({"text": "Gamma delta.", "date": "2024-01-02"}),
        json.dumps({"id": "x1", "text": "Duplicate id."}),
    ]
    parsed = parse_source("feed.jsonl", "\n".join(lines).encode())
    assert [a.id for a in parsed.articles] == ["feed.jsonl#x1", "feed.jsonl#4"]
    first = parsed.articles[0]
    assert (first.title, first.url, first.author) == ("First", "http://e/1", "Ann")
    assert parsed.articles[1].date == "2024-01-02" and parsed.articles[1].title == "Gamma delta."
    reasons = sorted(reason for _, reason in parsed.skipped)
    assert len(reasons) == 3 and any("duplicate id" in r for r in reasons) and any("invalid JSON" in r for r in reasons)


def test_json_list_of_articles():
    data = json.dumps([{"text": "One."}, {"text": "Two.", "title": "T"}]).encode()
    assert [a.title for a in parse_source("list.json", data).articles] == ["One.", "T"]


def test_html_article_text_title_and_author_come_from_trafilatura():
    html = """<html><head><title>Site | Rain floods the valley</title>
    <meta name="author" content="Jane Reporter"><meta name="date" content="2024-03-01"></head>
    <body><nav>Home | News | Sport</nav><article><h1>Rain floods the valley</h1>
    <p>Heavy rain flooded the valley on Tuesday, forcing two hundred families from their homes.</p>
    <p>Emergency crews worked through the night to rescue people stranded by the rising water levels.</p>
    </article><footer>Copyright 2024</footer></body></html>"""
    (article,) = parse_source("flood.html", html.encode()).articles
    assert "two hundred families" in article.text
    assert "Home | News" not in article.text
    assert "Rain floods the valley" in article.title
    assert article.author == "Jane Reporter"
