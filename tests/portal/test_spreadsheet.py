import pytest

from plugin.portal.spreadsheet import spreadsheet_cell


@pytest.mark.parametrize("value", [
    "=1+1", "+1", "-1+2", "@SUM(A1)", " =1+1", "  +cmd", "\n=1+1", "\r\n@x", "\t=1", "\x00=1", "\u00a0=1",
    "\u200b=HYPERLINK()", "\tplain", "\rplain",
])
def test_text_a_spreadsheet_would_run_opens_as_text(value):
    assert spreadsheet_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["SKU-1", "a=b", "", " plain", "1+1", "caf\u00e9"])
def test_other_text_is_unchanged(value):
    assert spreadsheet_cell(value) == value


@pytest.mark.parametrize("value,expected", [(None, ""), (-5, -5), (3, 3), (1.5, 1.5)])
def test_empty_and_numbers(value, expected):
    assert spreadsheet_cell(value) == expected
