"""The web chat without a browser or models: HTML rendering and escaping, upload checks, the service behind the
page (with the hashing embedder and a phrase-finding reader), and the API through gradio_client."""

from __future__ import annotations

import html
import json
import re
import shutil
import socket
import threading
import time
from dataclasses import replace
from typing import ClassVar

import pytest

from qa.embedders import HashingEmbedder
from qa.engine import Engine
from qa.errors import IndexBusy, QAError
from qa.types import Answer, Article, Citation, IndexStatus, Passage, Story
from qa.webapp import render
from qa.webapp.examples import GENERIC, example_questions, examples_from
from qa.webapp.service import (
    MAX_QUESTION_CHARS,
    ChatService,
    ProgressEmbedder,
    answer_from_dict,
    load_turns,
    save_turns,
)
from qa.webapp.uploads import (
    UploadRejected,
    sanitize_name,
    save_uploads,
    validate,
    write_atomically,
)
from tests.conftest import SEED, story, write
from tests.fakes import PhraseReader

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "**bold** ${alert(1)} {{value}} &amp;",
]


def tags(markup: str) -> set[str]:
    return {name.lower() for name in re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", markup)}


# -- render -------------------------------------------------------------------------------------------------------
def citation(sentence: str, answer: str, *, offset: int = 100, article_id: str = "a.txt", **extra) -> Citation:
    at = sentence.index(answer)
    return Citation(
        article_id=article_id, title=extra.pop("title", "Title"), start=offset + at, end=offset + at + len(answer),
        sentence=sentence, sentence_start=offset, sentence_end=offset + len(sentence), **extra,
    )


def test_highlight_escapes_each_slice_and_marks_exactly_the_span():
    text = "a <b> & 12 suspected members & <i>"
    start = text.index("12")
    out = render.highlight(text, start, start + len("12 suspected members"))
    assert out == "a &lt;b&gt; &amp; <mark>12 suspected members</mark> &amp; &lt;i&gt;"


@pytest.mark.parametrize("start,end", [(-5, 3), (3, 1), (2, 999), (999, 1000)])
def test_highlight_survives_offsets_outside_the_text(start, end):
    out = render.highlight("hello", start, end)
    assert html.unescape(re.sub(r"</?mark>", "", out)) == "hello"


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_text_is_inert_in_answers_citations_passages_and_viewer(payload):
    sentence = f"Before {payload} the ferry Blue Heron sailed."
    cite = citation(
        sentence, "Blue Heron", title=f"Title {payload}", author=payload, date=payload, article_id=f"{payload}.txt"
    )
    passage = Passage(f"{payload}.txt", f"T {payload}", sentence, 100, 100 + len(sentence), 0.5, author=payload)
    answer = Answer(f"Q {payload}", f"A {payload}", True, 0.9, [cite], [], [passage])
    missing = Answer(f"Q {payload}", "The articles don't say.", False, 0.1, [], [answer], [passage])
    stories = [Story(f"S {payload}", 0.8, [cite], (f"{payload}.txt", "b.txt"), title=payload, date=payload)] * 5
    several = Answer(payload, f"Several {payload}", True, 0.8, stories=stories, focus=(f"{payload}.txt",),
                     understood_as=f"U {payload}", follow_up=True)
    article = Article(f"{payload}.txt", "x" * 100 + sentence, title=payload, url="javascript:alert(1)", author=payload)
    pieces = [
        render.conversation_html([{"question": payload, "answer": answer}, {"question": payload, "answer": missing}]),
        render.conversation_html([{"question": payload, "answer": several, "about": payload}]),
        render.conversation_html([{"question": payload, "answer": several}], {"ids": [payload], "title": payload}),
        render.header_html(payload, 3) + render.banner_html(payload, starting=True) + render.note_html(payload),
        render.passages_html(payload, [passage]),
        render.article_html(article, cite.start, cite.end, cite.sentence_start, cite.sentence_end),
        render.status_html(IndexStatus(payload, True, embedder=payload), reader=payload, articles_dir=payload),
        render.log_html([payload]),
    ]
    for markup in pieces:
        assert html.escape(payload) in markup  # shown literally
        assert not tags(markup) & {"script", "img", "a", "iframe", "svg"}
        assert 'href="' not in markup
    ids = re.search(r'data-ids="([^"]*)"', render.answer_html(several)).group(1)
    assert json.loads(html.unescape(ids)) == [f"{payload}.txt", "b.txt"]  # the ids survive the attribute intact


def test_found_answer_shows_words_percent_sources_and_agreement():
    first = citation("At least 12 suspected members were arrested.", "12 suspected members", article_id="a.txt")
    second = citation("Police said 12 suspected members were held.", "12 suspected members", article_id="b.txt")
    answer = Answer("who?", "12 suspected members", True, 0.91, [first, second])
    out = render.answer_html(answer)
    assert "Very likely" in out and "91% confidence" in out and "found in 2 articles" in out
    assert "&gt;99% confidence" in render.answer_html(Answer("who?", "x", True, 0.9996, [first]))
    assert out.count("<mark") == 2 and "<mark class=\"span\">12 suspected members</mark>" in out
    assert 'data-article="a.txt"' in out and f'data-start="{first.start}"' in out


def test_a_sentence_told_from_the_story_shows_no_confidence():
    # "tell me more": the story's next sentence, quoted whole; no span was chosen, so no percent is claimed
    sentence = "Ryanair said the new planes would help it to cut operating costs further."
    told = render.answer_html(Answer("tell me more", sentence, True, 1.0, [citation(sentence, sentence)]))
    assert "Quoted" in told and "the story's own sentence" in told and "% confidence" not in told
    assert 'class="answer found told"' in told
    # an answer that only is its sentence's start is scored as usual
    span = render.answer_html(Answer("who?", "Ryanair", True, 1.0, [citation(sentence, "Ryanair")]))
    assert "Very likely" in span and "% confidence" in span and "told" not in span


def test_the_same_sentence_in_two_articles_is_no_agreement():
    # politics/069 and politics/311 are the same story filed twice: "found in 2 articles" claimed agreement
    first = citation("Talks are at Labour's conference in Gateshead.", "Gateshead", article_id="politics/069.txt")
    copy = citation("Talks are at  Labour's conference in Gateshead.", "Gateshead", article_id="politics/311.txt")
    out = render.answer_html(Answer("where?", "Gateshead", True, 0.6, [first, copy]))
    assert "found in" not in out and out.count("cite-sentence") == 2  # both are still quoted
    other = citation("The unions meet in Gateshead on Friday.", "Gateshead", article_id="politics/070.txt")
    assert "found in 2 articles" in render.answer_html(Answer("where?", "Gateshead", True, 0.6, [first, copy, other]))


def test_a_sentence_that_opens_with_its_own_quotation_mark_gets_no_second_one():
    said = citation('"This is the first time," Yevgeny Li told Caravanserai.', "Yevgeny Li")
    out = render.answer_html(Answer("who said that?", "Yevgeny Li", True, 0.7, [said]))
    assert '<span class="cite-sentence">&quot;This is the first time,&quot;' in out and "“&quot;" not in out
    plain = citation("At least 12 suspected members were arrested.", "12 suspected members")
    assert '<span class="cite-sentence">“At least' in render.answer_html(Answer("who?", "12", True, 0.7, [plain]))


def test_one_article_does_not_claim_agreement_and_same_sentence_is_quoted_once():
    one = citation("the KNB reported November 3.", "KNB")
    other = citation("the KNB reported November 3.", "the KNB")
    out = render.answer_html(Answer("who?", "KNB", True, 0.7, [one, other]))
    assert "found in" not in out and out.count("cite-sentence") == 1 and "Likely" in out


@pytest.mark.parametrize(
    "confidence,found,words",
    [
        (0.99, True, "Very likely"),
        (0.85, True, "Very likely"),
        (0.6, True, "Likely"),
        (0.4, True, "Possibly"),
        (0.9, False, "Not found"),
    ],
)
def test_confidence_words(confidence, found, words):
    assert render.confidence_words(confidence, found) == words


def test_not_found_is_unmistakable_and_keeps_guess_and_closest_passages():
    passages = [Passage("a.txt", "T", f"passage {i}", 0, 9, 0.3 - i / 10) for i in range(5)]
    guess = Answer("q", "maybe", False, 0.3, [citation("It was maybe so.", "maybe")], [], passages)
    out = render.answer_html(Answer("q", "The articles don't say.", False, 0.3, [], [guess], passages))
    assert 'class="answer not-found"' in out and "The articles don&#x27;t say." in out and "Not found" in out
    assert "Closest guess" in out and "maybe" in out
    assert out.count('class="passage open-source"') == render.CLOSEST_PASSAGES
    hopeless = Answer("q", "The articles don't say.", False, 0.01, [], [Answer("q", "x", False, 0.01)], passages)
    assert "Closest guess" not in render.answer_html(hopeless) and "Closest passages" in render.answer_html(hopeless)


def test_an_answer_cited_in_many_articles_shows_a_few_quotes_and_the_rest_one_click_away():
    cites = [citation(f"Chancellor Gordon Brown spoke in town {i}.", "Chancellor", article_id=f"{i}.txt")
             for i in range(5)]
    out = render.answer_html(Answer("who is Gordon Brown?", "Chancellor", True, 0.87, cites))
    assert "found in 5 articles" in out
    shown, more = out.split('<details class="more-sources">')
    assert shown.count("cite-sentence") == render.SOURCES_SHOWN == 3
    assert "<summary>Show 2 more sources</summary>" in more and more.count("cite-sentence") == 2
    assert "more-sources" not in render.answer_html(Answer("q", "Chancellor", True, 0.87, cites[:3]))


def test_a_reply_to_small_talk_is_plain_text_not_a_failed_answer():
    out = render.answer_html(Answer("thanks", "You're welcome.", False, 0.0, small_talk=True))
    assert 'class="answer small-talk"' in out and "You&#x27;re welcome." in out
    assert "Not found" not in out and "not-found" not in out
    # as the browser keeps it and sends it back
    kept = answer_from_dict(Answer("thanks", "You're welcome.", False, 0.0, small_talk=True).to_dict())
    assert kept.small_talk


def test_a_follow_up_its_story_does_not_answer_offers_every_article():
    declined = Answer('how many "tickets"?', "The articles don't say.", False, 0.1, follow_up=True, elsewhere=13)
    out = render.answer_html(declined)
    assert "No sentence in the story this chat is about answers this" in out  # not "in the articles": others may
    assert "13 other articles hold its words." in out
    assert "No sentence in the articles answers this" in render.answer_html(replace(declined, follow_up=False))
    assert '<button type="button" class="ask-everywhere" data-question="how many &quot;tickets&quot;?">' in out
    assert "1 other article holds its words" in render.answer_html(replace(declined, elsewhere=1))
    assert "ask-everywhere" not in render.answer_html(replace(declined, elsewhere=0))


def test_a_decline_for_a_figure_no_article_mentions_says_so():
    declined = Answer("who won the 2010 world cup?", "The articles don't say.", False, 0.0, unwritten=("2010",))
    assert "None of the closest articles mentions 2010." in render.answer_html(declined)
    assert "with enough confidence" not in render.answer_html(declined)
    in_story = render.answer_html(replace(declined, follow_up=True))
    assert "The story this chat is about never mentions 2010." in in_story
    assert answer_from_dict(declined.to_dict()).unwritten == ("2010",)  # as the browser keeps it and sends it back


def test_a_yes_or_no_question_is_declined_saying_answers_are_quoted_words():
    declined = Answer("has it been pulled?", "The articles don't say.", False, 0.0, yes_no=True)
    out = render.answer_html(declined)
    assert "never a yes or no" in out and "with enough confidence" not in out
    assert answer_from_dict(declined.to_dict()).yes_no  # as the browser keeps it and sends it back


def test_alternatives_are_shown_unless_they_repeat_the_answer():
    quote = citation("At least 12 suspected members.", "12 suspected members")
    alt = Answer("q", "12 suspected members", True, 0.5, [quote])
    echo = Answer("q", "the KNB", True, 0.9, [citation("the KNB said.", "the KNB")])
    out = render.answer_html(Answer("q", "KNB", True, 0.95, [citation("the KNB said.", "KNB")], [echo, alt]))
    assert "Other possible answers" in out and "12 suspected members" in out and "the KNB</span>" not in out


def test_article_view_marks_the_span_inside_its_sentence_and_links_only_http():
    text = "Title\n\nFirst <b>sentence</b>. At least 12 suspected members were arrested. Last."
    start = text.index("12 suspected")
    s0 = text.index("At least")
    article = Article("a.txt", text, title="Title", url="https://example.org/x?a=1&b=2")
    out = render.article_html(article, start, start + 20, s0, text.index(" Last"))
    marked = '<mark class="hit" id="hit">12 suspected members</mark>'
    assert f'<span class="sentence">At least {marked} were arrested.</span>' in out
    assert "&lt;b&gt;sentence&lt;/b&gt;" in out
    assert 'href="https://example.org/x?a=1&amp;b=2"' in out and 'rel="noopener noreferrer nofollow"' in out
    assert "href" not in render.article_html(Article("a.txt", text, url="javascript:alert(1)"), 0, 1)
    assert "no longer in the index" in render.article_html(None, article_id="gone.txt")
    # the title is the header; the text's own title line is not shown a second time, unless the quote is in it
    body = out.split('<div class="article-body">')[1]
    assert "Title" not in body and body.startswith("First ")
    headline = render.article_html(article, 0, 5, 0, 5).split('<div class="article-body">')[1]
    assert headline.startswith('<span class="sentence"><mark class="hit" id="hit">Title</mark>')


def test_empty_chat_welcomes_and_pending_turn_says_so():
    assert "Ask a question" in render.conversation_html([])
    assert "Searching the articles" in render.conversation_html([{"question": "q", "answer": None}])
    assert "Could not answer" in render.conversation_html([{"question": "q", "answer": None, "error": "no index"}])


def a_story(text: str, sentence: str, article_id: str, title: str, confidence: float = 0.8, date=None) -> Story:
    return Story(text, confidence, [citation(sentence, text, article_id=article_id, title=title)], (article_id,),
                 title=title, date=date)


STORIES = [
    a_story("12 suspected members", "At least 12 suspected members were arrested.", "kz.txt", "Kazakhstan busts suspects",
          0.9, "2017-11-20"),
    a_story("Yoshiaki Tsutsumi", "Yoshiaki Tsutsumi was arrested on Thursday.", "business/037.txt",
          "Japanese mogul arrested for fraud", 0.7),
    a_story("Nick Griffin", "Nick Griffin was arrested on Tuesday.", "politics/074.txt", "BNP leader Nick Griffin arrested",
          0.5),
    a_story("Twenty-eight people", "Twenty-eight people have been arrested.", "tech/120.txt", "Dozens held", 0.4),
    a_story("Nicholas Lee Jacobsen", "Nicholas Lee Jacobsen was arrested in October.", "tech/271.txt", "US hacker", 0.3),
]


def test_several_stories_show_the_best_as_cards_and_the_rest_one_click_away():
    answer = Answer("who was arrested?", "Several stories answer this (5).", True, 0.9, stories=STORIES)
    out = render.answer_html(answer)
    assert "Several stories answer this (5)" in out
    shown, more = out.split('<details class="more-stories">')
    assert shown.count('class="story"') == render.STORY_CARDS == 4 and "<summary>Show 1 more</summary>" in more
    assert more.count('class="story"') == 1 and "Nicholas Lee Jacobsen" in more
    first = shown.split('class="story"')[1]
    for part in ("12 suspected members", "Kazakhstan busts suspects", "2017-11-20", "very likely, 90%",
                 '<mark class="span">12 suspected members</mark>', 'data-article="kz.txt"', "Follow this story"):
        assert part in first, part
    assert 'data-ids="[&quot;kz.txt&quot;]"' in first and 'data-title="Kazakhstan busts suspects"' in first
    assert "likely, 70%" in shown and "possibly, 50%" in shown  # each story says how sure it is
    assert out.count(">Several stories answer this") == 1  # the answer says it; the cards do not repeat it
    unsaid = render.answer_html(Answer("who?", "Three answers.", True, 0.9, stories=STORIES[:3]))
    assert "Several stories answer this (3)" in unsaid and "<details" not in unsaid


def test_a_focus_shows_one_about_line_that_only_the_latest_turn_can_clear():
    first = Answer("who was arrested?", "12 suspected members", True, 0.9,
                   [citation("At least 12 suspected members.", "12 suspected members", article_id="kz.txt")],
                   focus=("kz.txt",))
    second = Answer("in which cities?", "Astana and Almaty", True, 0.8,
                    [citation("In Astana and Almaty.", "Astana and Almaty", article_id="kz.txt")], focus=("kz.txt",))
    turns = [{"question": "who?", "answer": first, "about": "Kazakhstan busts"},
             {"question": "where?", "answer": second, "about": "Kazakhstan busts"}]
    out = render.conversation_html(turns)
    assert out.count("about: <span class=\"about-title\">Kazakhstan busts</span>") == 2
    assert out.count('class="focus-clear"') == 1 and out.rindex("focus-clear") > out.index("Astana and Almaty")
    chosen = render.conversation_html(turns, {"ids": ["tech/120.txt"], "title": "Dozens held"})
    assert "about: <span class=\"about-title\">Dozens held</span>" in chosen and "chosen for your next question" in chosen
    cleared = render.conversation_html(turns, {"ids": []})
    assert "about: any article" in cleared and cleared.count("Kazakhstan busts") == 1
    unfocused = Answer("q", "x", True, 0.9, [citation("x y.", "x")])
    assert "about:" not in render.conversation_html([{"question": "q", "answer": unfocused, "about": "T"}])


def test_the_about_line_names_the_stories_until_one_is_picked_and_stays_while_the_focus_does():
    from qa.webapp.app import about_title

    def title_of(ids):
        return f"title of {ids[0]}"

    ids = tuple(a for s in STORIES for a in s.article_ids)
    several = Answer("who was arrested?", "Several stories answer this (5).", True, 0.9, stories=STORIES, focus=ids)
    about = about_title(several, None, title_of)
    assert about == "the 5 stories above (pick one, or ask and each answers)"
    # a follow-up none of them answered keeps the chat about all of them, and the line says so again
    declined = Answer("how old is he?", "The articles don't say.", False, 0.1, focus=ids)
    assert about_title(declined, {"answer": several, "about": about}, title_of) == about
    assert about_title(declined, None, title_of) == f"title of {ids[0]}"  # (without the earlier turn to go by)
    one = Answer("q", "x", True, 0.9, [citation("x y.", "x", article_id="kz.txt")], focus=("kz.txt",))
    assert about_title(one, {"answer": several, "about": about}, title_of) == "Title"  # its citation's title
    assert about_title(Answer("q", "x", True, 0.9), None, title_of) == ""


def test_the_about_line_names_the_article_the_answer_quotes_of_a_focus_of_several():
    from qa.webapp.app import about_title

    def title_of(ids):
        return f"title of {ids[0]}"

    focus = ("sport/062.txt", "sport/060.txt")  # a race preview and its report both named the winner
    preview = citation("McIlroy will run.", "McIlroy", article_id="sport/062.txt", title="Preview")
    report = citation("McIlroy won in 1:47.97.", "1:47.97", article_id="sport/060.txt", title="Report")
    first = Answer("who won?", "McIlroy", True, 0.9, [preview, report], focus=focus)
    assert about_title(first, None, title_of) == "Preview"
    time = Answer("what was his time?", "1:47.97", True, 0.9, [report], focus=focus)
    assert about_title(time, {"answer": first, "about": "Preview"}, title_of) == "Report"  # not the preview again
    declined = Answer("how old is he?", "The articles don't say.", False, 0.1, focus=focus)
    assert about_title(declined, {"answer": time, "about": "Report"}, title_of) == "Report"  # the story stays


def test_a_story_card_choice_shows_about_even_when_the_answer_had_no_focus():
    answer = Answer("who was arrested?", "Several stories answer this (5).", True, 0.9, stories=STORIES)
    out = render.conversation_html([{"question": "who?", "answer": answer}], {"ids": ["kz.txt"], "title": "Kazakhstan"})
    assert "about: <span class=\"about-title\">Kazakhstan</span>" in out
    assert out.count('class="story chosen"') == 1 and out.count("Following this story") == 1
    assert "<details" in out and '<details class="more-stories" open>' not in out  # kz.txt is among the best four
    later = render.conversation_html([{"question": "who?", "answer": answer}], {"ids": ["tech/271.txt"], "title": "US"})
    assert '<details class="more-stories" open>' in later  # the chosen story stays in view after the re-render
    assert 'aria-pressed="true"' in later.split("<details")[1]


def test_the_story_card_a_chat_went_on_with_stays_marked_after_the_next_turn():
    from qa.webapp.service import mark_followed

    several = Answer("who was arrested?", "Several stories answer this (5).", True, 0.9, stories=STORIES)
    one = Answer("in which cities?", "Astana", True, 0.9, [citation("In Astana.", "Astana", article_id="kz.txt")],
                 focus=("kz.txt",))
    turns = [{"question": "who was arrested?", "answer": several, "about": "the 5 stories above"},
             {"question": "in which cities?", "answer": one, "about": "Kazakhstan"}]
    mark_followed(turns[:1], ["kz.txt"], "Kazakhstan busts suspects")
    out = render.conversation_html(turns)
    first = out.split('<div class="turn">')[1]
    # the cards' turn names the story followed, not "the 5 stories above", and its card stays marked
    assert 'about: <span class="about-title">Kazakhstan busts suspects</span>' in first
    assert "the 5 stories above" not in first and first.count("Following this story") == 1
    assert "clear" not in first.split("about:")[1]  # only the latest turn's focus can be cleared
    back = load_turns(json.loads(json.dumps(save_turns(turns))))  # and so after a reload
    assert render.conversation_html(back) == out
    mark_followed(turns, ["nowhere.txt"], "x")  # a story no turn showed marks nothing
    assert render.conversation_html(turns) == out


def test_copy_button_carries_the_answer_and_its_quoted_source():
    cite = citation("At least 12 <suspected> members were arrested.", "12 <suspected> members", article_id="kz.txt",
                    title="Kazakhstan")
    out = render.answer_html(Answer("who?", "12 <suspected> members", True, 0.9, [cite]))
    copied = html.unescape(re.search(r'data-copy="([^"]*)"', out).group(1))
    assert copied == "12 <suspected> members\n“At least 12 <suspected> members were arrested.” (Kazakhstan, kz.txt)"
    several = render.answer_html(Answer("who?", "Several stories answer this (5).", True, 0.9, stories=STORIES))
    assert "Kazakhstan busts suspects" in html.unescape(re.search(r'data-copy="([^"]*)"', several).group(1))


def test_a_follow_up_says_how_it_was_read():
    answer = Answer("in which cities?", "Astana", True, 0.9, [citation("In Astana.", "Astana")],
                    understood_as="in which cities were the 12 suspected members arrested?", follow_up=True)
    assert "Read as: “in which cities were the 12 suspected members arrested?”" in render.answer_html(answer)
    same = Answer("who?", "x", True, 0.9, [citation("x y.", "x")], understood_as="who?", follow_up=False)
    assert "Read as" not in render.answer_html(same)
    # a new question read another way says so too
    moved = Answer("the guy auctioning his forehead, how many bids has he had", "39", True, 0.5,
                   [citation("39 bids.", "39")],
                   understood_as="how many bids has he had? (the guy auctioning his forehead)")
    assert "Read as: “how many bids has he had? (the guy auctioning his forehead)”" in render.answer_html(moved)


def test_status_keeps_last_sync_and_shows_the_last_check_and_activity():
    status = IndexStatus("/idx", True, generation=3, articles=5, chunks=40, last_sync="2026-11-30T10:00:00+00:00",
                         embedder="minilm", dimension=384)
    out = render.status_html(status, reader="r", articles_dir="/a", activity="Syncing: embedding 3 of 9 passages…",
                             last_check="2026-11-30T11:30:00+00:00", last_outcome="no changes")
    assert "<dt>Last sync</dt><dd>2026-11-30 10:00 UTC</dd>" in out
    assert "<dt>Last check</dt><dd>2026-11-30 11:30 UTC (no changes)</dd>" in out
    assert "embedding 3 of 9 passages" in out
    assert "5 articles in" in render.header_html("/a", 5) and "1 article in" in render.header_html("/a", 1)
    assert render.banner_html("", starting=True) == ""
    assert "as soon as the index is ready" in render.banner_html("Loading the models…", starting=True)
    assert "from the current index" in render.banner_html("Syncing: embedding 3 of 9 passages…", starting=False)


def test_viewer_has_a_way_back_to_the_answer():
    out = render.article_html(Article("a.txt", "Some text here.", title="T"), 0, 4)
    assert 'class="back-to-chat"' in out


# -- example questions ----------------------------------------------------------------------------------------------
class TwoArticles:
    """A fake engine holding two made-up articles: the examples must come from them, newest first."""

    ARTICLES: ClassVar[dict[str, Article]] = {
        "ferry.txt": Article("ferry.txt", "Harbour gets a floating library\n\nThe harbour council opened a floating "
                             "library on the old ferry Blue Heron, the mayor said on Monday. Volunteers were hired "
                             "for the summer season.", title="Harbour gets a floating library", date="2025-06-01"),
        "zoo.txt": Article("zoo.txt", "Zoo keeper rescues penguin\n\nA zoo keeper was injured in Bristol while "
                           "rescuing a penguin from the frozen pond on Sunday morning, staff said.",
                           title="Zoo keeper rescues penguin", date="2025-07-15"),
    }

    def article_ids(self):
        return list(self.ARTICLES)

    def article(self, article_id):
        return self.ARTICLES.get(article_id)


def test_examples_are_made_from_the_articles_given_newest_first():
    questions = examples_from(TwoArticles())
    assert questions == [
        "Who was injured?",  # zoo.txt is newer: its lead sentence first
        "Who opened a floating library on the old ferry Blue Heron?",
        "Who was hired for the summer season?",  # then the next question of each article's lead in turn
    ]
    text = " ".join(a.text for a in TwoArticles.ARTICLES.values())
    assert all(q.split()[1] in text for q in questions)  # every verb comes from the articles
    # a headline's question ("Who rescues penguin?") only when the leads run short
    assert examples_from(TwoArticles(), n=4)[-1] == "Who rescues penguin?"
    # with the models loaded, only questions the articles answer are shown
    asked = []

    def answered(question):
        asked.append(question)
        return question != "Who was injured?"

    assert examples_from(TwoArticles(), answered=answered) == [
        "Who opened a floating library on the old ferry Blue Heron?", "Who was hired for the summer season?",
        "Who rescues penguin?"]
    assert asked[0] == "Who was injured?"


@pytest.mark.parametrize(
    "title, question",
    [("Japanese mogul arrested for fraud", "Who was arrested for fraud?"),
     ("US hacker breaks into T-Mobile", "Who breaks into T-Mobile?"),
     ("Tsunami 'to hit Sri Lanka banks'", None)],  # was "Who hit Sri Lanka banks?": answered with a banker's name
)
def test_a_headline_becomes_a_question_when_it_says_who_did_what(title, question):
    from qa.webapp.examples import title_question

    assert title_question(title) == question


def test_examples_fall_back_to_generic_questions_without_articles():
    class Empty:
        def article_ids(self):
            raise QAError("no index yet")

    assert examples_from(Empty()) == list(GENERIC)
    assert example_questions([]) == list(GENERIC)


def test_examples_of_the_seed_ask_what_its_lead_says():
    from qa.ingest.articles import parse_source

    seed = parse_source(SEED.name, SEED.read_bytes()).articles[0]
    assert example_questions([seed]) == [
        "Who dismantled a crime ring selling illegal drugs online?",
        "When did the KNB report the news?",  # "..., the KNB reported November 3."; not "this", which names nothing
        "Who was arrested?",
    ]


# -- uploads ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "original,safe",
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\me\\notes.MD", "notes.md"),
        (".hidden.md", "hidden.md"),
        ("my file (1).txt", "my-file-1.txt"),
        ("résumé été.html", "resume-ete.html"),
        ("<script>alert(1)</script>.txt", "script.txt"),  # the "/" makes a folder: only "script>.txt" is a name
        ("x <img src=x onerror=alert(1)>.md", "x-img-src-x-onerror-alert-1.md"),
        ("....txt", "article.txt"),
        ("a" * 300 + ".jsonl", "a" * 80 + ".jsonl"),
    ],
)
def test_sanitize_name(original, safe):
    assert sanitize_name(original) == safe


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("run.exe", b"MZ", "only .txt"),
        ("notes.pdf", b"%PDF", "only .txt"),
        ("empty.txt", b"", "empty"),
        ("big.txt", b"x" * 2001, "limit"),
        ("binary.txt", b"abc\x00def", "binary"),
        ("bad.jsonl", b"not json\n", "no article"),
    ],
)
def test_validate_rejects_with_a_reason(name, data, reason):
    with pytest.raises(UploadRejected, match=reason):
        validate(name, data, max_bytes=2000)


def test_validate_accepts_articles_the_sync_can_read():
    assert validate("story.TXT", b"Title\n\nBody text.") == "story.txt"
    assert validate("wire.jsonl", b'{"text": "Body", "title": "T"}\n') == "wire.jsonl"
    page = b"<html><body><article><p>" + b"Some article text. " * 20 + b"</p></article></body></html>"
    assert validate("page.html", page) == "page.html"


def test_save_uploads_writes_atomically_and_reports_each_file(tmp_path):
    folder = tmp_path / "articles"
    incoming = tmp_path / "incoming"
    good = write(incoming, "Good Story.txt", story("Good story", "The ferry was named Blue Heron."))
    bad = write(incoming, "virus.exe", "MZ")
    saved, rejected = save_uploads(folder, [("Good Story.txt", good), ("virus.exe", bad)])
    assert [s.name for s in saved] == ["Good-Story.txt"] and not saved[0].replaced
    assert len(rejected) == 1 and "virus.exe" in rejected[0]
    assert sorted(p.name for p in folder.iterdir()) == ["Good-Story.txt"]  # no temporary file left behind
    saved, _ = save_uploads(folder, [("Good Story.txt", good)])
    assert saved[0].replaced
    with pytest.raises(UploadRejected):
        write_atomically(folder, "../escape.txt", b"x")


# -- the service --------------------------------------------------------------------------------------------------
class SlowEmbedder(HashingEmbedder):
    """Holds a sync inside embedding until released, to ask questions meanwhile."""

    def __init__(self):
        super().__init__(dimension=64)
        self.entered, self.release = threading.Event(), threading.Event()

    def embed(self, texts, **kwargs):
        self.entered.set()
        assert self.release.wait(10)
        return super().embed(texts, **kwargs)


PHRASES = {"At least 12 suspected members of the groups": 6.0, "Blue Heron": 6.0}


@pytest.fixture
def service(settings, articles):
    shutil.copy(SEED, articles / "kazakhstan.txt")
    engine = Engine(settings=settings, embedder=HashingEmbedder(64), reader=PhraseReader(PHRASES))
    writer = Engine(settings=settings, embedder=HashingEmbedder(64))
    svc = ChatService(settings, engine=engine, writer=writer)
    svc.sync()
    return svc


def test_service_answers_and_refuses_empty_questions(service):
    answer = service.ask("who was arrested?")
    assert answer.found and answer.citations[0].article_id == "kazakhstan.txt"
    with pytest.raises(QAError, match="type a question"):
        service.ask("   ")


def test_service_adds_files_then_answers_from_them_and_removes_them(service, tmp_path):
    upload = write(tmp_path / "in", "ferry news.txt", story("Ferry news", "The new ferry is named Blue Heron."))
    outcome = service.add_files([("ferry news.txt", upload)])
    assert outcome.ok and outcome.lines[0] == "Added ferry-news.txt (uploaded as ferry news.txt)"
    assert "1 added" in outcome.lines[1]
    assert service.ask("what is the ferry called?").citations[0].article_id == "ferry-news.txt"
    assert "ferry-news.txt" in service.article_ids()
    outcome = service.remove("ferry-news.txt")
    assert outcome.ok and not (service.articles_dir / "ferry-news.txt").exists()
    assert service.article_ids() == ["kazakhstan.txt"]
    assert not service.remove("missing.txt").ok and not service.remove(None).ok


def test_questions_are_answered_from_the_previous_generation_during_a_sync(settings, articles):
    shutil.copy(SEED, articles / "kazakhstan.txt")
    engine = Engine(settings=settings, embedder=HashingEmbedder(64), reader=PhraseReader(PHRASES))
    slow = SlowEmbedder()
    svc = ChatService(settings, engine=engine, writer=Engine(settings=settings, embedder=slow))
    slow.release.set()
    svc.sync()
    slow.release.clear()
    write(articles, "ferry.txt", story("Ferry", "The new ferry is named Blue Heron."))
    syncing = threading.Thread(target=svc.sync)
    syncing.start()
    try:
        assert slow.entered.wait(10)
        answer = svc.ask("who was arrested?")  # while the writer is stuck mid-sync
        assert answer.found and answer.citations[0].article_id == "kazakhstan.txt"
        with pytest.raises(IndexBusy):
            svc.sync()
        assert not svc.resync().ok
        assert svc.activity
    finally:
        slow.release.set()
        syncing.join(10)
    assert "ferry.txt" in svc.article_ids() and svc.activity == ""


def test_service_passes_the_focus_through_to_the_engine(service, monkeypatch):
    calls = []
    real = service.engine.ask
    monkeypatch.setattr(service.engine, "ask", lambda q, history=None, *, focus=None: calls.append(focus) or real(
        q, history, focus=focus))
    service.ask("who was arrested?")
    service.ask("who was arrested?", focus=["kazakhstan.txt"])
    service.ask("who was arrested?", focus=())
    assert calls == [None, ("kazakhstan.txt",), ()]  # None: from the history; ids: chosen; (): cleared


def test_a_question_over_the_limit_is_refused_not_cut(service):
    with pytest.raises(QAError, match=f"{MAX_QUESTION_CHARS + 1} characters long; the limit is {MAX_QUESTION_CHARS}"):
        service.ask("x" * (MAX_QUESTION_CHARS + 1))


def test_a_question_asked_during_the_first_build_waits_for_the_index(settings, articles):
    shutil.copy(SEED, articles / "kazakhstan.txt")
    engine = Engine(settings=settings, embedder=HashingEmbedder(64), reader=PhraseReader(PHRASES))
    svc = ChatService(settings, engine=engine, writer=Engine(settings=settings, embedder=HashingEmbedder(64)))
    svc.preparing.set()
    svc.prepared.clear()  # as svc.start() leaves it while the start-up sync runs
    result = {}
    asking = threading.Thread(target=lambda: result.update(answer=svc.ask("who was arrested?")))
    asking.start()
    time.sleep(0.3)
    assert asking.is_alive() and not result  # waiting, not failing with "still being built"
    svc.sync()
    svc.preparing.clear()
    svc.prepared.set()
    asking.join(10)
    assert result["answer"].found

    empty = settings.replace(index_dir=settings.index_dir.parent / "empty-index")
    svc = ChatService(empty, engine=Engine(settings=empty, embedder=HashingEmbedder(64), reader=PhraseReader({})))
    svc.preparing.set()
    svc.prepared.clear()
    started = time.monotonic()
    with pytest.raises(QAError, match="still being built"):  # the wait is bounded
        svc.ask("who was arrested?", wait_s=0.2)
    assert 0.2 <= time.monotonic() - started < 5


def test_a_sync_that_finds_nothing_new_moves_the_last_check_not_the_last_sync(service):
    before = service.status().last_sync
    assert service.last_outcome.startswith("1 added")
    service.sync()
    assert service.status().last_sync == before and service.last_check and service.last_outcome == "no changes"


def test_the_writer_reports_embedding_progress_in_plain_words(settings):
    seen = []
    embedder = ProgressEmbedder(HashingEmbedder(64), lambda done, total: seen.append((done, total)))
    embedder.embed(["a b", "c d", "e f"], batch_size=2)
    assert seen[0] == (0, 3) and seen[-1] == (3, 3) and embedder.dimension == 64
    svc = ChatService(settings, engine=Engine(settings=settings, embedder=HashingEmbedder(64)))
    svc._label = "Syncing"
    svc._embedding(120, 815)
    assert svc.activity == "Syncing: embedding 120 of 815 passages…"


def test_remove_choices_show_titles_with_the_file_name(service):
    assert service.article_choices() == [
        ("Kazakhstan busts suspects accused of trafficking drugs on 'dark web' (kazakhstan.txt)", "kazakhstan.txt")
    ]
    assert service.title(["gone.txt", "kazakhstan.txt"]).startswith("Kazakhstan busts suspects")


def test_the_chat_kept_in_the_browser_comes_back_whole(service):
    answer = service.ask("who was arrested?")
    several = Answer("who?", "Several stories answer this (5).", True, 0.9, stories=STORIES, focus=("kz.txt",),
                     understood_as="who was arrested?", follow_up=True, elsewhere=4)
    turns = [{"question": "who was arrested?", "answer": answer, "error": None, "about": "K"},
             {"question": "who?", "answer": several, "error": None, "about": "K"},
             {"question": "x", "answer": None, "error": "no index", "about": ""},
             {"question": "pending", "answer": None, "error": None}]
    saved = json.loads(json.dumps(save_turns(turns)))  # what localStorage holds
    back = load_turns(saved)
    assert [t["question"] for t in back] == ["who was arrested?", "who?", "x"]
    assert back[0]["answer"] == answer and back[1]["answer"] == several and back[2]["error"] == "no index"
    assert render.conversation_html(back) == render.conversation_html(turns[:3])
    assert load_turns([{"question": "q", "answer": {"found": True}}, "junk", None]) == [] and load_turns("x") == []


def test_no_index_gives_a_clear_message(settings):
    svc = ChatService(settings, engine=Engine(settings=settings, embedder=HashingEmbedder(64), reader=PhraseReader({})))
    with pytest.raises(QAError, match="no index yet"):
        svc.ask("who?")
    assert svc.article_ids() == [] and svc.article("a.txt") is None


# -- the Gradio app and its API, with the same fakes ----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_api_ask_and_search_through_gradio_client(service):
    gradio_client = pytest.importorskip("gradio_client")
    from qa.webapp.app import build_app

    demo = build_app(service.engine, service.settings, service=service)
    demo.queue()
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, ssr_mode=False, quiet=True)
    try:
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        answer = client.predict("who was arrested?", [], api_name="/ask")
        assert answer["found"] and answer["text"] == "At least 12 suspected members of the groups"
        assert answer["citations"][0]["article_id"] == "kazakhstan.txt"
        passages = client.predict("who was arrested?", 3, api_name="/search")
        assert len(passages) == 3 and {"article_id", "start", "end", "score", "text"} <= set(passages[0])
        text = SEED.read_text()
        assert all(text[p["start"] : p["end"]] == p["text"] for p in passages)
        with pytest.raises(Exception, match="type a question"):
            client.predict("  ", [], api_name="/ask")
        focused = client.predict("who was arrested?", [], ["kazakhstan.txt"], api_name="/ask")
        assert focused["citations"][0]["article_id"] == "kazakhstan.txt"
    finally:
        demo.close()
    time.sleep(0.1)


def test_closest_passages_show_by_similarity_and_a_story_filed_twice_once():
    def passage(article_id, text, score):
        return Passage(article_id, "T", text, 0, len(text), score)

    fused = [  # the reader's order: the fused ranking
        passage("tech/301.txt", "Rivals of the Mac mini.", 0.76),
        passage("tech/300.txt", "Mac mini gets warm welcome.", 0.81),
        passage("tech/044.txt", "Apple attacked over sources.", 0.22),
        passage("tech/324.txt", "Apple  attacked over sources.", 0.22),  # the same story filed twice
    ]
    shown = render.closest_passages(fused, count=3)
    assert [p.article_id for p in shown] == ["tech/300.txt", "tech/301.txt", "tech/044.txt"]


def test_the_about_line_says_when_the_chat_went_on_to_another_story():
    from qa.webapp.app import moved_story

    weir = Answer("which club is robbie weir joining", "Sunderland", True, 0.6, focus=("sport/130.txt",))
    chip = Answer("what is the cell chip", "The articles don't say.", False, 0.1, focus=("tech/320.txt",))
    age = Answer("how old is he", "17", True, 0.7, focus=("sport/130.txt",))
    assert moved_story(chip, {"answer": weir}) and not moved_story(age, {"answer": weir})
    assert not moved_story(weir, None)  # the chat's first story is no move
    thanks = Answer("thanks", "You're welcome.", False, 0.0, focus=("sport/130.txt",), small_talk=True)
    assert not moved_story(thanks, {"answer": chip})
    turns = [{"question": weir.question, "answer": weir, "about": "Weir poised for Sunderland move"},
             {"question": chip.question, "answer": chip, "about": "Cell chip", "moved": True}]
    html = render.conversation_html(turns)
    assert html.count("a new story") == 1 and "Cell chip</span><span class=\"about-note\">a new story" in html
    assert load_turns(json.loads(json.dumps(save_turns(turns))))[1]["moved"] is True  # and so after a reload


def test_start_up_works_out_the_examples_so_the_first_page_waits_for_none(service, monkeypatch):
    service._prepare()  # what start() runs in the background: sync, load the models, then the examples
    assert service.engine.reader_loaded
    monkeypatch.setattr(service.engine, "ask", lambda *a, **k: pytest.fail("the page's refresh asked a question"))
    assert service.examples()  # kept from start-up: nothing is asked when the first page opens


def test_service_examples_are_questions_the_articles_answer_once_the_models_are_loaded(service, monkeypatch):
    from qa.ingest.articles import parse_source
    from qa.webapp.examples import example_questions

    seed = parse_source(SEED.name, SEED.read_bytes()).articles[0]
    first = example_questions([seed])
    declined = first[0]
    real_ask = service.engine.ask
    monkeypatch.setattr(service.engine, "ask", lambda q, *a, **k: replace(real_ask(q, *a, **k), found=q != declined))
    monkeypatch.setattr(type(service.engine), "reader_loaded", property(lambda self: False))
    assert service.examples() == first  # the models still loading: the rules' first questions, unchecked
    monkeypatch.setattr(type(service.engine), "reader_loaded", property(lambda self: True))
    checked = service.examples()  # recomputed, not the unchecked ones kept
    assert declined not in checked and checked[: len(first) - 1] == first[1:]
