"""Plotly figures, as plain dicts for ``json_script`` (the page draws them with the vendored plotly.js).

Figures only: what to show is decided by the selectors (business.selectors), which hand in the values — except the
partner page's leads chart, whose one read (``partner_leads_trend``) has nothing to decide and sits next to its figure.
"""

import html
from datetime import date
from decimal import Decimal

from business import periods
from business.models import Achievement, Frequency, Parameter


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
                      "automargin": True, **whole_ticks(generated, targets)},
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


# --- Leads chart of the partner page (issue 13) -----------------------------------------------------------------------
# Its one read sits here with its figure, as a pair: what the leads chart shows is fixed (the two system parameters),
# there is nothing for a selector to choose.


def partner_leads_trend(
    *, partner_id: int, parameters: list[Parameter], today: date | None = None, count: int = 12
) -> dict | None:
    """Leads generated and converted by the partner per period over the last ``count`` periods (the current one
    included), from the Achievement rows of the two system parameters ``leads_generated`` and ``leads_converted``
    (written nightly by business.metrics): one query. ``parameters``: the active parameters the page already loaded
    (business.selectors.partner_business_context's ``trend_parameters``), so the two are found without a query.

    Returns a dict — ``figure`` (for ``json_script``), ``periods`` (labels, oldest first), ``frequency`` ("monthly"
    or "quarterly") — or None when either parameter is inactive, their frequencies differ, or the partner has no lead
    in these periods. A computed parameter's missing row is 0; an uploaded value with no row is a gap (None), as on
    the trendline."""
    by_code = {p.code: p for p in parameters}
    generated_p, converted_p = by_code.get(Parameter.LEADS_GENERATED), by_code.get(Parameter.LEADS_CONVERTED)
    if generated_p is None or converted_p is None or generated_p.frequency != converted_p.frequency:
        return None
    frequency = generated_p.frequency
    starts = periods.last_periods(frequency, count, today or periods.org_today())
    rows = Achievement.objects.filter(
        partner_id=partner_id, parameter_id__in=[generated_p.pk, converted_p.pk],
        period_start__gte=starts[0], period_start__lte=starts[-1],
    ).order_by().values_list("parameter_id", "period_start", "value")
    values = {(parameter_id, start): value for parameter_id, start, value in rows}

    def series(parameter):
        missing = Decimal(0) if parameter.source == Parameter.Source.COMPUTED else None
        return [values.get((parameter.pk, start), missing) for start in starts]

    generated, converted = series(generated_p), series(converted_p)
    if not any(generated) and not any(converted):
        return None
    labels = [periods.label(start, frequency) for start in starts]
    return {
        "figure": leads_trend_figure(labels=labels, generated=generated, converted=converted),
        "periods": labels,
        "frequency": "quarterly" if frequency == Frequency.QUARTERLY else "monthly",
    }


def conversion_rates(generated: list[Decimal | None], converted: list[Decimal | None]) -> list[Decimal | None]:
    """Per period, converted ÷ generated × 100, rounded to one decimal; None when nothing was generated (or a value is
    unknown). Leads are counted in the period they were converted in, not the one they came in: a period can convert
    more leads than it generated (over 100 %)."""
    rates = []
    for made, won in zip(generated, converted, strict=True):
        if not made or won is None:
            rates.append(None)
        else:
            rates.append((Decimal(won) * 100 / Decimal(made)).quantize(Decimal("0.1")))
    return rates


def whole_ticks(*series: list) -> dict:
    """Axis options for small whole numbers (a partner's few leads a month): ticks at 0, 1, 2, … — left to Plotly, a
    range of 0–3 gets ticks every 0.5, shown as "500m" (half a lead, in SI notation). Nothing for other values."""
    values = [v for values in series for v in values if v is not None]
    if values and all(v == int(v) for v in values) and max(values) <= 10:
        return {"dtick": 1}
    return {}


def leads_trend_figure(*, labels: list[str], generated: list[Decimal | None], converted: list[Decimal | None]) -> dict:
    """Leads generated and converted (grouped bars, left axis) and the conversion rate (a line, right axis in %) over
    ``labels`` (oldest first)."""
    rates = conversion_rates(generated, converted)
    return {
        "data": [
            {"type": "bar", "name": "Generated", "x": labels, "y": [_num(v) for v in generated],
             "marker": {"color": "#1f5eff"}, "hovertemplate": "%{x}: %{y:,} leads<extra>Generated</extra>"},
            {"type": "bar", "name": "Converted", "x": labels, "y": [_num(v) for v in converted],
             "marker": {"color": "#12805c"}, "hovertemplate": "%{x}: %{y:,} leads<extra>Converted</extra>"},
            {"type": "scatter", "mode": "lines+markers", "name": "Conversion rate", "x": labels,
             "y": [_num(v) for v in rates], "yaxis": "y2", "connectgaps": False,
             "line": {"color": "#b54708"}, "marker": {"size": 7},
             "hovertemplate": "%{x}: %{y}% converted ÷ generated<extra>Conversion rate</extra>"},
        ],
        # As the trendline's layout (legible on a 360px phone); the rate's axis on the right, in whole percents with
        # ticks of its own (not synced to the leads' gridlines: 22.59 %). The page's heading is the title.
        "layout": {
            "font": {"size": 12},
            "barmode": "group",
            "xaxis": {"type": "category", "tickfont": {"size": 11}, "automargin": True},
            "yaxis": {"rangemode": "tozero", "title": {"text": "leads"}, "tickformat": "~s", "tickfont": {"size": 11},
                      "automargin": True, **whole_ticks(generated, converted)},
            "yaxis2": {"overlaying": "y", "side": "right", "rangemode": "tozero", "ticksuffix": "%", "showgrid": False,
                       "tickmode": "auto", "nticks": 5, "tickformat": "~r", "tickfont": {"size": 11},
                       "automargin": True},
            "legend": {"orientation": "h", "x": 0, "y": -0.18, "yanchor": "top"},
            "margin": {"l": 40, "r": 8, "t": 16, "b": 8},
            "height": 320,
            "autosize": True,
        },
        "config": {"displaylogo": False, "responsive": True, "displayModeBar": "hover",
                   "modeBarButtonsToRemove": ["sendDataToCloud", "select2d", "lasso2d"]},
    }
