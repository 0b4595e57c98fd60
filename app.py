"""Start the web chat: `python app.py [--host HOST] [--port PORT] [--articles DIR] [--index DIR]`.

Host and port default to QA_HOST/QA_PORT, else 127.0.0.1:7860; the page syncs the articles folder on start.
"""

from __future__ import annotations

import argparse
import os


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Chat with the articles in a web page.")
    parser.add_argument("--host", default=None, help="interface to bind (default: QA_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default: QA_PORT or 7860)")
    parser.add_argument("--articles", default=None, help="articles folder (default: QA_ARTICLES_DIR or seeds/)")
    parser.add_argument("--index", default=None, help="index folder (default: QA_INDEX_DIR or indexes/default)")
    args = parser.parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

    from qa.errors import QAError
    from qa.settings import Settings
    from qa.webapp.app import launch

    try:
        settings = Settings.from_env(host=args.host, port=args.port, articles_dir=args.articles, index_dir=args.index)
    except QAError as exc:
        parser.exit(2, f"error: {exc}\n")
    launch(settings)


if __name__ == "__main__":
    main()
