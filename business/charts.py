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
        "layout": {
            "title": {"text": f"{name} ({unit}), {frequency}"},
            "xaxis": {"type": "category"},
            "yaxis": {"rangemode": "tozero", "title": {"text": unit}},
            "legend": {"orientation": "h"},
            "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
            "height": 320,
        },
        "config": {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]},
    }


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
