"""Plotly figures of the team dashboard, as plain dicts for ``json_script`` (drawn by static/js/team.js with the vendored
plotly.js). Figures only: the numbers come from ``insights.team``. Legible on a 360 px phone like the trendline
(business/charts.py): 12 px text, 11 px ticks, the legend under the plot, margins that grow to fit, no mode bar."""

import html

AXIS = {"tickfont": {"size": 11}, "automargin": True}


def _layout(title: str, **extra) -> dict:
    return {
        "title": {"text": html.escape(title), "x": 0, "xanchor": "left", "font": {"size": 14}},
        "font": {"size": 12},
        "legend": {"orientation": "h", "x": 0, "y": -0.2, "yanchor": "top"},
        "margin": {"l": 40, "r": 8, "t": 36, "b": 8},
        "height": 280,
        "autosize": True,
        **extra,
    }


CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False, "scrollZoom": False}


def coverage_figure(*, labels: list[str], percents: list[float | None], title: str) -> dict:
    """Coverage (% engaged within the tier's frequency) per tier, as bars from 0 to 100."""
    return {
        "data": [{"type": "bar", "x": [html.escape(label) for label in labels], "y": percents,
                  "marker": {"color": "#1f5eff"}, "hovertemplate": "%{x}: %{y} %<extra></extra>"}],
        "layout": _layout(title, xaxis={"type": "category", **AXIS},
                          yaxis={"range": [0, 100], "ticksuffix": " %", **AXIS}, dragmode=False),
        "config": CONFIG,
    }


def inactive_figure(*, labels: list[str], inactive: list[int], went: list[int], title: str,
                    inactive_name: str, went_name: str) -> dict:
    """Partners inactive at each month's end (line) and those that became inactive in the month (bars)."""
    return {
        "data": [
            {"type": "bar", "name": html.escape(went_name), "x": labels, "y": went, "marker": {"color": "#f79009"},
             "hovertemplate": "%{x}: %{y}<extra></extra>"},
            {"type": "scatter", "mode": "lines+markers", "name": html.escape(inactive_name), "x": labels,
             "y": inactive, "line": {"color": "#b42318"}, "hovertemplate": "%{x}: %{y}<extra></extra>"},
        ],
        "layout": _layout(title, xaxis={"type": "category", "nticks": 6, "tickangle": 0, **AXIS},
                          yaxis={"rangemode": "tozero", "tickformat": "~s", **AXIS,
                                 # a few partners: whole numbers only (not "500m", half a partner)
                                 **({"dtick": 1} if max([*inactive, *went, 0]) < 5 else {})},
                          dragmode=False),
        "config": CONFIG,
    }


def attainment_figure(*, tiers: list[str], series: list[tuple[str, list[float | None]]], title: str) -> dict:
    """Attainment (% of target) per tier: one bar group per tier, one bar per period (``series``: name, values)."""
    colours = ["#1f5eff", "#7a9cff", "#aebfff", "#d5deff"]
    return {
        "data": [
            {"type": "bar", "name": html.escape(name), "x": [html.escape(t) for t in tiers], "y": values,
             "marker": {"color": colours[index % len(colours)]}, "hovertemplate": "%{x}: %{y} %<extra></extra>"}
            for index, (name, values) in enumerate(series)
        ],
        "layout": _layout(title, barmode="group", xaxis={"type": "category", **AXIS},
                          yaxis={"rangemode": "tozero", "ticksuffix": " %", **AXIS}, dragmode=False),
        "config": CONFIG,
    }
