"""Cells written to a CSV file that staff open in a spreadsheet.

Text from the store (SKUs, names, reasons) that a spreadsheet would run as a formula gets a leading
quote, so it opens as text. Spreadsheets skip leading spaces, tabs, line breaks and other control
characters before deciding, so the check looks past them too: " =1+1" and "\\n=1+1" are neutralised."""
import unicodedata

FORMULA_STARTS = ("=", "+", "-", "@")


def _leading_ignorable(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def spreadsheet_cell(value):
    """`value` as written to the CSV: None is empty, numbers are left as they are, and text that would
    start a formula (after any leading whitespace or control characters) is prefixed with a quote."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    start = 0
    while start < len(value) and _leading_ignorable(value[start]):
        start += 1
    # A leading tab, line break or other control character is refused outright, as before any formula.
    if value[start:].startswith(FORMULA_STARTS) or any(ch != " " for ch in value[:start]):
        return "'" + value
    return value
