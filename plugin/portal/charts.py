"""The dashboard's 30-day charts, drawn here as inline SVG: readable without JavaScript, no library, and
colours from CSS classes (itbc.css), since the Content-Security-Policy refuses style attributes. Each
bar carries a <title> (the browser shows it on hover) and each chart a text summary for screen readers."""
from dataclasses import dataclass
from html import escape

from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

BAR_WIDTH = 8
BAR_STEP = 10
HEIGHT = 40


@dataclass
class Segment:
    value: float
    css: str


def _bars(days, segments_of, title_of, *, height: int = HEIGHT) -> str:
    """One bar per day, stacked from `segments_of(day)` (value, css class), scaled to the tallest day.
    Plain string building (numbers and fixed class names; the titles escaped): a page draws thousands."""
    totals = [sum(segment.value for segment in segments_of(day)) for day in days]
    tallest = max(totals, default=0) or 1
    shapes = []
    for index, day in enumerate(days):
        x = index * BAR_STEP
        top = float(height)
        shapes.append(f"<g><title>{escape(title_of(day))}</title>")
        for segment in segments_of(day):
            if segment.value <= 0:
                continue
            size = max(1.0, segment.value / tallest * (height - 2))
            top -= size
            shapes.append(f'<rect x="{x}" y="{top:.1f}" width="{BAR_WIDTH}" height="{size:.1f}" '
                          f'class="{segment.css}"></rect>')
        # A full-height transparent target so the day's title shows on hover even for an empty day.
        shapes.append(f'<rect x="{x}" y="0" width="{BAR_STEP}" height="{height}" class="chart-hover"></rect></g>')
    return "".join(shapes)


def _svg(label: str, bars: str, days: int, *, height: int = HEIGHT) -> SafeString:
    width = days * BAR_STEP
    return mark_safe(  # noqa: S308 - the bars are built above from numbers, class names and escaped titles
        f'<svg class="itbc-chart" viewBox="0 0 {width} {height + 1}" width="{width}" height="{height + 1}" '
        f'role="img" aria-label="{escape(label)}"><line x1="0" y1="{height}" x2="{width}" y2="{height}" '
        f'class="chart-axis"></line>{bars}</svg>'
    )


def _day(day) -> str:
    return day.day.strftime("%a %Y-%m-%d")


def _seconds(value) -> str:
    if value is None:
        return "-"
    if value < 60:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


def runs_chart(days) -> SafeString:
    total = {name: sum(getattr(day, name) for day in days) for name in ("succeeded", "partial", "failed")}
    label = (f"Runs per day over {len(days)} days: {total['succeeded']} succeeded, {total['partial']} partial, "
             f"{total['failed']} failed")
    bars = _bars(
        days,
        lambda day: [Segment(day.succeeded, "chart-succeeded"), Segment(day.partial, "chart-partial"),
                     Segment(day.failed, "chart-failed")],
        lambda day: f"{_day(day)}: {day.succeeded} succeeded, {day.partial} partial, {day.failed} failed",
    )
    return _svg(label, bars, len(days))


def items_chart(days) -> SafeString:
    label = f"Items sent to the store per day over {len(days)} days: {sum(day.items_sent for day in days):,} in all"
    bars = _bars(days, lambda day: [Segment(day.items_sent, "chart-items")],
                 lambda day: f"{_day(day)}: {day.items_sent:,} items sent")
    return _svg(label, bars, len(days))


def drift_chart(days) -> SafeString:
    found = [day.drift for day in days if day.drift is not None]
    label = (f"Drift found per End of Day over {len(days)} days: "
             + (f"{len(found)} End of Day dry runs, {sum(found):,} items drifted" if found else "no dry run"))
    bars = _bars(days, lambda day: [Segment(day.drift or 0, "chart-drift")],
                 lambda day: f"{_day(day)}: " + (f"{day.drift:,} items drifted" if day.drift is not None
                                                 else "no End of Day dry run"))
    return _svg(label, bars, len(days))


def durations_chart(days) -> SafeString:
    longest = max((day.seconds_max for day in days if day.seconds_max is not None), default=None)
    label = f"Run durations per day over {len(days)} days: the longest {_seconds(longest)}"
    bars = _bars(days, lambda day: [Segment(day.seconds_avg or 0, "chart-duration")],
                 lambda day: f"{_day(day)}: average {_seconds(day.seconds_avg)}, longest {_seconds(day.seconds_max)}")
    return _svg(label, bars, len(days))


CHARTS = [
    ("Runs by outcome", runs_chart),
    ("Items sent", items_chart),
    ("Drift found (End of Day)", drift_chart),
    ("Run duration (average)", durations_chart),
]


def store_charts(days) -> SafeString:
    """The four charts of a store, each with its caption."""
    return format_html_join(
        "", '<figure class="itbc-chart-figure"><figcaption class="small text-muted">{}</figcaption>{}</figure>',
        ((caption, draw(days)) for caption, draw in CHARTS),
    )
