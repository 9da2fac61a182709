"""The page of a list that shows no total: its rows, its number and whether a next page exists (read one row more
than shown). Used by the feeds and lists that need no count (messages, the library, the onboarding reports)."""

from dataclasses import dataclass

MAX_PAGE = 10_000  # a bigger ?page= is treated as this one


@dataclass
class Page:
    rows: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def page_number(value: object) -> int:
    """``?page=`` as a number from 1 to MAX_PAGE; anything else is page 1."""
    try:
        return min(max(int(value), 1), MAX_PAGE)
    except (TypeError, ValueError):
        return 1
