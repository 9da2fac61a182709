from tests.smtp import refused_smtp, smtp_server  # noqa: F401 (fixtures for this directory's tests)
