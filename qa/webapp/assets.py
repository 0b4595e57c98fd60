"""The page's CSS and its small scripts: citation clicks, story choices, copying, the question's character count,
the skip link, and scrolling the viewer to the highlight."""

# Runs once per HTML block (the chat and the Sources list). Delegated, so it survives every re-render.
# `trigger('cite', ...)` fires the block's custom "cite" event with the clicked source's offsets.
CITE_JS = """
element.addEventListener('click', (event) => {
  const source = event.target.closest('.open-source');
  if (!source || !element.contains(source)) return;
  document.querySelectorAll('.open-source.active').forEach((el) => el.classList.remove('active'));
  source.classList.add('active');
  const d = source.dataset;
  trigger('cite', {article: d.article, start: Number(d.start), end: Number(d.end),
                   sentence_start: Number(d.sstart), sentence_end: Number(d.send), kind: d.kind});
});
"""

# The chat block also: follows or clears a story (the custom "follow" event), asks a question again of every article
# (the custom "everywhere" event, from a follow-up its story did not answer), copies an answer with its source,
# announces each new answer to screen readers (#announce is aria-live) and scrolls its own box so the latest
# question sits at the top, its answer below.
CHAT_JS = CITE_JS + """
element.addEventListener('click', (event) => {
  const follow = event.target.closest('.follow-story');
  if (follow && element.contains(follow)) {
    let ids = [];
    try { ids = JSON.parse(follow.dataset.ids || '[]'); } catch (e) { ids = []; }
    trigger('follow', {ids: ids, title: follow.dataset.title || ''});
    return;
  }
  if (event.target.closest('.focus-clear')) { trigger('follow', {ids: [], title: ''}); return; }
  const everywhere = event.target.closest('.ask-everywhere');
  if (everywhere && element.contains(everywhere)) {
    trigger('everywhere', {question: everywhere.dataset.question || ''});
    return;
  }
  const copy = event.target.closest('.copy-answer');
  if (!copy || !element.contains(copy)) return;
  const text = copy.dataset.copy || '';
  const done = () => { copy.textContent = 'Copied'; setTimeout(() => { copy.textContent = 'Copy'; }, 1500); };
  const fallback = () => {
    const area = document.createElement('textarea');
    area.value = text; area.setAttribute('readonly', ''); area.style.position = 'fixed'; area.style.opacity = '0';
    document.body.appendChild(area); area.select();
    try { document.execCommand('copy'); done(); } finally { area.remove(); }
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, fallback);
  else fallback();
});
let answered = element.querySelectorAll('.turn .answer:not(.pending)').length;
const announce = () => {
  const done = element.querySelectorAll('.turn .answer:not(.pending)');
  if (done.length > answered) {
    const last = done[done.length - 1];
    const text = (last.querySelector('.answer-text') || last).textContent.trim();
    const how = last.querySelector('.confidence');
    const live = document.getElementById('announce');
    if (live) live.textContent = 'Answer: ' + text + (how ? ' (' + how.textContent.trim() + ')' : '');
  }
  answered = done.length;
};
""" + """
const scrollToLatest = () => {
  const turns = element.querySelectorAll('.turn');
  const last = turns[turns.length - 1];
  let box = last && last.parentElement;
  while (box && box !== document.body) {
    if (/(auto|scroll)/.test(getComputedStyle(box).overflowY) && box.scrollHeight > box.clientHeight) break;
    box = box.parentElement;
  }
  if (!last || !box || box === document.body) return;
  box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
};
// After "Follow this story" the confirmation under the answer is what to see, not the top of the turn.
const showChosen = () => {
  const chosen = element.querySelector('.turn:last-child .about.chosen');
  if (chosen) chosen.scrollIntoView({block: 'nearest'});
  return Boolean(chosen);
};
watch('value', () => requestAnimationFrame(() => { if (!showChosen()) scrollToLatest(); announce(); }));
"""

# The header's skip link: straight to the latest answer's first quote (or story), else to the question box.
HEADER_JS = """
element.addEventListener('click', (event) => {
  if (!event.target.closest('.skip-link')) return;
  const turns = document.querySelectorAll('#chat .turn');
  const last = turns[turns.length - 1];
  const target = (last && (last.querySelector('.open-source') || last.querySelector('.follow-story')))
    || document.querySelector('#question textarea');
  if (target) { target.focus(); target.scrollIntoView({block: 'center'}); }
});
"""

# Once for the page: Gradio's upload area is labelled "Click to upload or drop files" while it shows "Drop File
# Here - or - Click to Upload"; a name that differs from the visible words confuses voice control, so the visible
# words name it. The area is re-created when its tab is shown, hence the observer.
PAGE_JS = """
() => {
  const fix = () => document.querySelectorAll('.upload-container[aria-label]').forEach((el) => {
    el.removeAttribute('aria-label');
  });
  fix();
  new MutationObserver(fix).observe(document.body, {childList: true, subtree: true});
}
"""

# Counts the question's characters once it nears the limit; past it, says so (the question is not cut).
COUNTER_JS = """
const out = element.querySelector('.q-count');
let shown = -1;
setInterval(() => {
  const box = document.querySelector('#question textarea');
  const n = box ? box.value.trim().length : 0;
  if (!out || n === shown) return;
  shown = n;
  out.classList.toggle('over', n > MAX_CHARS);
  out.textContent = n > MAX_CHARS ? `${n} / MAX_CHARS characters: shorten the question to ask it`
    : n > MAX_CHARS * 0.8 ? `${n} / MAX_CHARS characters` : '';
}, 300);
"""

# Scrolls the article body (not the page) so the marked span sits a third of the way down. The viewer may be
# in a tab that is still being shown, so it retries until the body has a height.
VIEWER_JS = """
const reveal = () => {
  const body = element.querySelector('.article-body');
  const hit = element.querySelector('#hit');
  if (!body || !hit || body.clientHeight === 0) return false;
  body.scrollTop = Math.max(0, hit.offsetTop - body.clientHeight / 3);
  const box = body.getBoundingClientRect();
  // Off screen, as in narrow layouts where the panel sits below the chat: bring it into view.
  if (box.top > window.innerHeight || box.bottom < 0) body.scrollIntoView({block: 'nearest'});
  return true;
};
// "Back to the answer": on a phone the article opens below the chat; this returns to the quote that opened it.
element.addEventListener('click', (event) => {
  if (!event.target.closest('.back-to-chat')) return;
  const quote = document.querySelector('#chat .open-source.active, #sources .open-source.active')
    || document.querySelector('#chat .turn:last-child .answer');
  if (!quote) return;
  quote.scrollIntoView({block: 'center'});
  if (quote.focus) quote.focus({preventScroll: true});
});
watch('value', () => {
  let tries = 0;
  const timer = setInterval(() => { if (reveal() || ++tries > 40) clearInterval(timer); }, 50);
});
"""

CSS = """
.gradio-container { max-width: 1320px !important; margin: 0 auto; }
#header { padding: 6px 2px 2px; }
#header h1 { font-size: 1.55rem; font-weight: 700; margin: 0; letter-spacing: -0.01em; }
#header p { margin: 4px 0 0; color: var(--body-text-color-subdued); }
#header code { font-size: .9em; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.skip-link { position: absolute; left: 8px; top: -60px; z-index: 100; padding: 8px 14px; border-radius: 8px;
  background: #312e81; color: #fff; font: inherit; border: 0; cursor: pointer; }
.skip-link:focus { top: 8px; }
#live { position: absolute; }

/* chat */
#chat { min-height: 380px; }
#ask-row { align-items: stretch; gap: 10px; }
#ask-row textarea { font-size: 1rem; }
.chat { display: flex; flex-direction: column; gap: 22px; padding: 6px 4px 10px; }
.chat.empty .welcome { text-align: center; padding: 72px 24px; border: 1px dashed var(--border-color-primary);
  border-radius: 14px; color: var(--body-text-color-subdued); }
.chat.empty h2 { margin: 0 0 6px; font-size: 1.15rem; color: var(--body-text-color); }
.turn { display: flex; flex-direction: column; gap: 10px; }
.question { align-self: flex-end; max-width: 85%; background: var(--color-accent-soft); padding: 9px 15px;
  border-radius: 16px 16px 4px 16px; white-space: pre-wrap; overflow-wrap: anywhere; }
.answer { border: 1px solid var(--border-color-primary); border-radius: 14px; padding: 16px 18px;
  background: var(--background-fill-primary); box-shadow: 0 1px 2px rgba(0,0,0,.04); }
.answer-head { display: flex; gap: 12px; align-items: flex-start; justify-content: space-between; }
.copy-answer { flex-shrink: 0; font: inherit; font-size: .8rem; padding: 3px 10px; border-radius: 8px; cursor: pointer;
  color: var(--body-text-color); background: var(--background-fill-secondary);
  border: 1px solid var(--border-color-primary); }
.copy-answer:hover { border-color: var(--color-accent); }
.understood { font-size: .85rem; color: var(--body-text-color-subdued); margin-top: 4px; overflow-wrap: anywhere; }
.about { font-size: .85rem; color: var(--body-text-color-subdued); padding: 0 6px; line-height: 1.7; }
.about > * { margin-left: 6px; }
.about-title { font-weight: 600; color: var(--body-text-color); overflow-wrap: anywhere; }
.about-note { font-style: italic; }
.focus-clear { font: inherit; font-size: .82rem; padding: 0 8px; border-radius: 6px; cursor: pointer;
  background: none; color: #3730a3; border: 1px solid var(--border-color-primary); }
.focus-clear:hover { background: var(--background-fill-secondary); }
.elsewhere { margin: 4px 0; font-size: .9rem; }
.ask-everywhere { font: inherit; font-size: .85rem; padding: 1px 10px; border-radius: 6px; cursor: pointer;
  background: none; color: #3730a3; border: 1px solid var(--border-color-primary); }
.ask-everywhere:hover { background: var(--background-fill-secondary); }
.stories { margin-top: 2px; }
.story-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 10px; }
.more-stories .story { margin-top: 10px; }
.story { display: flex; flex-direction: column; gap: 4px; padding: 12px 14px; border-radius: 12px;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); }
.story-answer { font-size: 1.1rem; font-weight: 650; overflow-wrap: anywhere; }
.story-meta { display: flex; flex-wrap: wrap; gap: 4px 10px; font-size: .82rem; color: var(--body-text-color-subdued); }
.story-title { font-weight: 600; color: var(--body-text-color); overflow-wrap: anywhere; }
.story button.open-source { margin-top: 4px; }
.story .cite-title { display: none; }  /* the card's own title is just above */
.follow-story { align-self: flex-start; margin-top: 6px; font: inherit; font-size: .85rem; font-weight: 600;
  padding: 5px 12px; border-radius: 8px; cursor: pointer; color: #fff; background: #4338ca; border: 0; }
.follow-story:hover { background: #3730a3; }
.story.chosen { border: 2px solid #4338ca; }
.story.chosen .follow-story { background: #166534; }
.more-stories summary, .more-sources summary { cursor: pointer; margin-top: 10px; font-weight: 600; color: #3730a3; }
.answer-text { font-size: 1.4rem; font-weight: 650; line-height: 1.35; overflow-wrap: anywhere; }
.answer-meta { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin: 8px 0 4px;
  font-size: .9rem; color: var(--body-text-color-subdued); }
.confidence { font-weight: 600; font-size: .82rem; padding: 2px 10px; border-radius: 999px; }
.conf-very-likely { background: #dcfce7; color: #166534; }
.conf-likely { background: #e0f2fe; color: #075985; }
.conf-possibly { background: #fef9c3; color: #854d0e; }
.conf-not-found { background: #fde68a; color: #7c2d12; }
.agree { font-weight: 600; color: var(--body-text-color); }
.answer.not-found { border: 1px solid #f59e0b; border-left: 5px solid #f59e0b; background: #fffbeb; }
.answer.not-found .answer-text { color: #7c2d12; }
.answer.error { border-color: #ef4444; background: #fef2f2; }
.answer.small-talk .answer-text { font-size: 1.05rem; font-weight: 500; }
.answer.told .answer-text { font-size: 1.05rem; font-weight: 500; }
.conf-quoted { background: #ede9fe; color: #4c1d95; }
.answer.error .answer-text { color: #991b1b; font-size: 1.1rem; }
.answer.pending { color: var(--body-text-color-subdued); font-style: italic; }
.guess { margin: 10px 0 2px; }
.alts { margin-top: 4px; }
.alt { margin-top: 8px; }
.alt-head { display: flex; gap: 10px; align-items: baseline; }
.alt-text { font-weight: 600; overflow-wrap: anywhere; }
.alt-head .percent { white-space: nowrap; flex-shrink: 0; }
.alt button.open-source { border-left-color: var(--border-color-primary); margin-top: 4px; }
.cites-label { text-transform: uppercase; letter-spacing: .06em; font-size: .72rem; font-weight: 600;
  color: var(--body-text-color-subdued); margin: 14px 0 4px; }

/* a quoted sentence or a passage: a button that opens the article */
button.open-source { display: flex; flex-direction: column; gap: 4px; width: 100%; margin: 8px 0 0;
  padding: 10px 14px; text-align: left; font: inherit; color: inherit; cursor: pointer;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary);
  border-left: 4px solid var(--color-accent); border-radius: 10px; transition: border-color .15s, box-shadow .15s; }
button.open-source:hover { border-color: var(--color-accent); box-shadow: 0 0 0 3px var(--color-accent-soft); }
/* keyboard focus is a ring anyone can see, not a tint */
button.open-source:focus-visible, .follow-story:focus-visible, .copy-answer:focus-visible, .focus-clear:focus-visible,
.ask-everywhere:focus-visible,
.back-to-chat:focus-visible, .skip-link:focus-visible, .more-stories summary:focus-visible,
.more-sources summary:focus-visible {
  outline: 3px solid #4338ca; outline-offset: 2px; }
button.open-source.active { box-shadow: 0 0 0 2px var(--color-accent); }
.cite-title { font-weight: 600; overflow-wrap: anywhere; }
.cite-meta { font-size: .82rem; color: var(--body-text-color-subdued); }
.cite-sentence, .passage-text { line-height: 1.55; overflow-wrap: anywhere; }
.cite-id { font-size: .75rem; font-family: var(--font-mono); color: var(--body-text-color-subdued);
  overflow-wrap: anywhere; }
.passage-head { display: flex; gap: 8px; align-items: baseline; }
.passage-head .cite-title { flex: 1; }
.rank { font-weight: 700; color: var(--color-accent); }
.score { font-size: .78rem; font-family: var(--font-mono); color: var(--body-text-color-subdued); white-space: nowrap; }
mark { background: #fde047; color: #1c1917; padding: 0 2px; border-radius: 3px; }

/* examples, New chat, the banner and the character count */
#examples { gap: 6px; align-items: center; flex-wrap: wrap; }
#examples button { flex: 0 1 auto !important; min-width: 0 !important; }
#examples-label { flex: 0 0 auto !important; min-width: 0 !important; width: auto !important; }
.examples-label { font-size: .8rem; font-weight: 600; text-transform: uppercase; letter-spacing: .06em;
  color: var(--body-text-color-subdued); }
#chat-tools { align-items: center; gap: 10px; flex-wrap: nowrap; }
#banner { flex: 1 1 auto; min-width: 0; }
#new-chat { flex: 0 0 auto; margin-left: auto; }
.banner { padding: 8px 12px; border-radius: 10px; background: #e0f2fe; color: #0c4a6e; font-size: .9rem; }
#q-count { min-height: 0; }
.q-count { font-size: .82rem; color: var(--body-text-color-subdued); }
.q-count.over { color: #991b1b; font-weight: 600; }
#question textarea::placeholder { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.back-to-chat { margin-bottom: 8px; font: inherit; font-size: .85rem; padding: 4px 12px; border-radius: 8px;
  cursor: pointer; background: var(--background-fill-secondary); color: var(--body-text-color);
  border: 1px solid var(--border-color-primary); }

/* side panel */
.placeholder { color: var(--body-text-color-subdued); padding: 40px 16px; text-align: center;
  border: 1px dashed var(--border-color-primary); border-radius: 12px; }
.viewer-head { padding-bottom: 10px; margin-bottom: 10px; border-bottom: 1px solid var(--border-color-primary); }
.viewer-title { font-size: 1.1rem; font-weight: 650; overflow-wrap: anywhere; }
.article-body { position: relative; max-height: 64vh; overflow-y: auto; white-space: pre-wrap;
  overflow-wrap: anywhere; line-height: 1.6; padding-right: 8px; }
.article-body .sentence { background: #fef9c3; color: #1c1917; }
.article-body mark.hit { background: #facc15; box-shadow: 0 0 0 2px #facc15; }
.article-body mark.hit.passage { background: #fef3c7; box-shadow: none; }
.sources-q { font-size: .85rem; color: var(--body-text-color-subdued); margin-bottom: 2px; overflow-wrap: anywhere; }

/* index panel */
.status dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; margin: 0; }
.status dt { color: var(--body-text-color-subdued); }
.status dd { margin: 0; font-weight: 500; overflow-wrap: anywhere; }
.status .activity { margin-bottom: 10px; padding: 6px 12px; border-radius: 8px; background: #e0f2fe; color: #075985; }
.log { margin: 8px 0 0; padding: 8px 12px 8px 28px; border-radius: 10px; font-size: .9rem; overflow-wrap: anywhere; }
.log.ok { background: #f0fdf4; color: #14532d; }
.log.bad { background: #fef2f2; color: #7f1d1d; }
.panel-note { color: var(--body-text-color-subdued); font-size: .88rem; margin: 2px 0 6px; }
.panel-title { font-weight: 650; margin: 0; font-size: 1rem; }
.note { margin: 4px 0 0; font-size: .9rem; }
.note.bad { color: #991b1b; font-weight: 600; }
#remove { color: #b91c1c; border-color: #fecaca; }
#remove:hover, #remove-yes:hover { background: #fef2f2; }
#remove-yes { color: #b91c1c; border-color: #fecaca; }

/* phones: the examples stay in view above the fold */
@media (max-width: 640px) {
  #header h1 { font-size: 1.25rem; }
  #header p { font-size: .85rem; }
  #chat { min-height: 0; }
  .chat.empty .welcome { padding: 14px 12px; }
  .chat.empty .welcome p { margin: 0; }
  .answer-text { font-size: 1.2rem; }
  .article-body { max-height: 60vh; }
}
"""
