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


class ArticlesNotFound(QAError):
    pass
