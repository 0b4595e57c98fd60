"""The page's CSS and the two small scripts: citation clicks, and scrolling the viewer to the highlight."""

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

# The chat block also scrolls its own box so the latest question sits at the top, its answer below.
CHAT_JS = CITE_JS + """
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
watch('value', () => requestAnimationFrame(scrollToLatest));
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

/* chat */
#chat { min-height: 440px; }
#ask-row { align-items: stretch; gap: 10px; }
#ask-row textarea { font-size: 1rem; }
.chat { display: flex; flex-direction: column; gap: 22px; padding: 6px 4px 10px; }
.chat.empty .welcome { text-align: center; padding: 72px 24px; border: 1px dashed var(--border-color-primary);
  border-radius: 14px; color: var(--body-text-color-subdued); }
.chat.empty h3 { margin: 0 0 6px; font-size: 1.15rem; color: var(--body-text-color); }
.turn { display: flex; flex-direction: column; gap: 10px; }
.question { align-self: flex-end; max-width: 85%; background: var(--color-accent-soft); padding: 9px 15px;
  border-radius: 16px 16px 4px 16px; white-space: pre-wrap; overflow-wrap: anywhere; }
.answer { border: 1px solid var(--border-color-primary); border-radius: 14px; padding: 16px 18px;
  background: var(--background-fill-primary); box-shadow: 0 1px 2px rgba(0,0,0,.04); }
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
button.open-source:hover, button.open-source:focus-visible { border-color: var(--color-accent);
  box-shadow: 0 0 0 3px var(--color-accent-soft); outline: none; }
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

/* examples */
#examples { gap: 6px; align-items: center; flex-wrap: wrap; }
#examples button { flex: 0 1 auto !important; min-width: 0 !important; }

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
.panel-title { font-weight: 650; margin: 0; }
#remove { color: #b91c1c; border-color: #fecaca; }
#remove:hover { background: #fef2f2; }
"""
