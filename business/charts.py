"""Plotly figures, as plain dicts for ``json_script`` (the page draws them with the vendored plotly.js).

Figures only: what to show is decided by the selectors (business.selectors), which hand in the values.
"""

import html
from decimal import Decimal

from business.models import Frequency, Parameter


def trend_figure(
    *, parameter: Parameter, labels: list[str], targets: list[Decimal | None], generated: list[Decimal | None]
) -> dict:
    """Target (dashed line) vs generated (bars) of one parameter over ``labels`` (period labels, oldest first)."""
    # Plotly reads trace names and titles as a small subset of HTML: escape what admins typed so it shows as text.
    unit = html.escape(parameter.unit)
    name = html.escape(parameter.name)
    frequency = "quarterly" if parameter.frequency == Frequency.QUARTERLY else "monthly"
    return {
        "data": [
            {"type": "bar", "name": "Generated", "x": labels, "y": [_num(v) for v in generated],
             "marker": {"color": "#1f5eff"}, "hovertemplate": f"%{{x}}: %{{y:,}} {unit}<extra>Generated</extra>"},
            {"type": "scatter", "mode": "lines+markers", "name": "Target", "x": labels,
             "y": [_num(v) for v in targets], "connectgaps": False, "line": {"color": "#b42318", "dash": "dash"},
             "hovertemplate": f"%{{x}}: %{{y:,}} {unit}<extra>Target</extra>"},
        ],
        # Legible on a 360px phone: 12px text (11px ticks), the title left-aligned above the plot, the legend under
        # the axis, compact y ticks ("500k"), margins that grow to fit the labels (automargin), the chart's width
        # following its box (responsive). static/js/trendline.js hides the mode bar and thins the ticks on phones.
        "layout": {
            "title": {"text": f"{name} ({unit}), {frequency}", "x": 0, "xanchor": "left", "font": {"size": 14}},
            "font": {"size": 12},
            "xaxis": {"type": "category", "tickfont": {"size": 11}, "automargin": True},
            "yaxis": {"rangemode": "tozero", "title": {"text": unit}, "tickformat": "~s", "tickfont": {"size": 11},
                      "automargin": True},
            "legend": {"orientation": "h", "x": 0, "y": -0.18, "yanchor": "top"},
            "margin": {"l": 40, "r": 8, "t": 36, "b": 8},
            "height": 320,
            "autosize": True,
        },
        "config": {"displaylogo": False, "responsive": True, "displayModeBar": "hover",
                   "modeBarButtonsToRemove": ["sendDataToCloud", "select2d", "lasso2d"]},
    }


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
