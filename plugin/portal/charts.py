"""The dashboard's 30-day chart of a store, drawn here as one inline SVG of four bands (runs by outcome,
items sent, drift found by End of Day, run duration): readable without JavaScript, no library, and
colours from CSS classes (itbc.css), since the Content-Security-Policy refuses style attributes. Each
day is a column whose <title> (the browser shows it on hover) gives all its figures; the SVG's label
sums the month up for screen readers.

Built as plain strings (numbers, fixed class names and escaped text): a page of 50 stores draws
thousands of shapes, and format_html per shape would cost more than the page's queries."""
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

DAY_WIDTH = 10
BAR_WIDTH = 8
LABEL_HEIGHT = 11
GAP = 5


@dataclass
class Band:
    label: str
    height: int
    segments: object  # day -> [(value, css class)]


def _seconds(value) -> str:
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


def _day_title(day) -> str:
    drift = f"{day.drift:,} items out of sync at End of Day" if day.drift is not None else "no End of Day"
    return (f"{day.day:%a %Y-%m-%d}: {day.succeeded} succeeded, {day.partial} partial, {day.failed} failed; "
            f"{day.items_sent:,} items sent; {drift}; duration average {_seconds(day.seconds_avg)}, "
            f"longest {_seconds(day.seconds_max)}")


BANDS = [
    Band("Runs by outcome", 40, lambda day: [(day.succeeded, "chart-succeeded"), (day.partial, "chart-partial"),
                                             (day.failed, "chart-failed")]),
    Band("Items sent", 22, lambda day: [(day.items_sent, "chart-items")]),
    Band("Drift found (End of Day)", 22, lambda day: [(day.drift or 0, "chart-drift")]),
    Band("Run duration (average)", 22, lambda day: [(day.seconds_avg or 0, "chart-duration")]),
]


def _summary(days) -> str:
    succeeded, partial, failed = (sum(getattr(day, name) for day in days) for name in ("succeeded", "partial", "failed"))
    drifts = [day.drift for day in days if day.drift is not None]
    longest = max((day.seconds_max for day in days if day.seconds_max is not None), default=None)
    return (f"The last {len(days)} days: {succeeded} runs succeeded, {partial} partial, {failed} failed; "
            f"{sum(day.items_sent for day in days):,} items sent; "
            + (f"{len(drifts)} End of Day runs found {sum(drifts):,} items out of sync; " if drifts else "")
            + f"the longest run took {_seconds(longest)}.")


def store_chart(days) -> SafeString:
    """The store's chart: one column per day, four bands, each scaled to its own largest day."""
    width = len(days) * DAY_WIDTH
    parts, tops = [], []
    y = 0
    for band in BANDS:
        parts.append(f'<text x="0" y="{y + LABEL_HEIGHT - 2}" class="chart-label">{escape(band.label)}</text>')
        top = y + LABEL_HEIGHT
        bottom = top + band.height
        parts.append(f'<line x1="0" y1="{bottom}" x2="{width}" y2="{bottom}" class="chart-axis"></line>')
        tops.append((band, bottom, max((sum(value for value, _ in band.segments(day)) for day in days), default=0) or 1))
        y = bottom + GAP
    height = y
    for index, day in enumerate(days):
        x = index * DAY_WIDTH
        parts.append(f"<g><title>{escape(_day_title(day))}</title>")
        for band, bottom, tallest in tops:
            level = float(bottom)
            for value, css in band.segments(day):
                if value <= 0:
                    continue
                size = max(1.0, value / tallest * (band.height - 2))
                level -= size
                parts.append(f'<rect x="{x}" y="{level:.1f}" width="{BAR_WIDTH}" height="{size:.1f}" class="{css}"></rect>')
        # A full-height transparent column so the day's title shows on hover, even for an empty day.
        parts.append(f'<rect x="{x}" y="0" width="{DAY_WIDTH}" height="{height}" class="chart-hover"></rect></g>')
    return mark_safe(  # numbers, fixed class names and escaped text only
        f'<svg class="itbc-chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(_summary(days))}">{"".join(parts)}</svg>'
    )
