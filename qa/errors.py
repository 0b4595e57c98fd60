"""Domain errors: each message says what is wrong and how to fix it. The CLI prints them as one line."""


class QAError(Exception):
    """Base class for errors a user should see as a clean message, not a traceback."""


class ConfigError(QAError):
    pass


class IndexNotFound(QAError):
    pass


class IndexBusy(QAError):
    pass


class EmbedderMismatch(QAError):
    pass


class IndexCorrupt(QAError):
    pass


def generation_damaged(path, problem: str) -> IndexCorrupt:
    """The one wording for a generation that fails a check; damage_detail() in qa.store.generations reads it back."""
    return IndexCorrupt(
        f"index generation {path.name} in {path.parent} is damaged ({problem}); repair it with `qa index` "
        "(or `qa index --rebuild`), and see `qa status --verify`"
    )


class ArticlesNotFound(QAError):
    pass


class IndexWriteFailed(QAError):
    """A new generation could not be written (a full disk, a read-only folder); the previous one stays live."""


class StoreUnavailable(QAError):
    """An external vector store (a Milvus server) cannot be reached or refused a request."""
