"""Yes and no as people and files write them: "yes", "oui", "1", "true",
"on", "y" and their opposites, in any case, blanks around them ignored.

The one reading of such words for custom boolean fields, ODK answers,
settings from the environment and stored values shown on a page.
"""

YES_WORDS = frozenset({"1", "true", "yes", "on", "y", "oui"})
NO_WORDS = frozenset({"0", "false", "no", "off", "n", "non"})


def yes_no(value) -> bool | None:
    """True for a yes word, False for a no word, None for anything else
    (including nothing at all)."""
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    word = str(value).strip().lower()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    return None


def is_yes(value) -> bool:
    """Only a yes word is yes; a no word, nothing or anything else is no."""
    return yes_no(value) is True
