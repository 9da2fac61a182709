"""Re-evaluate one partner's insights when its activities, leads or figures change (connected in
``InsightsConfig.ready``).

Activities, leads and business sit below insights (shared/DESIGN.md): they cannot call the evaluation. So this app
listens to their models' ``post_save``/``post_delete`` and, once the transaction commits, enqueues
``insights.tasks.evaluate_partner_insights`` for the partner (``prm.tasks.enqueue_on_commit``: a broker outage is
logged, never breaks the request; the nightly run catches up). The lower apps stay unaware of insights.

What a signal cannot see — set-based writes (``QuerySet.update``, ``bulk_create``, COPY: uploads, the metrics, the
inactivity tagging) — is caught by the nightly evaluation (insights.tasks.evaluate_insights, 01:45).
"""

from prm.tasks import enqueue_on_commit


def partner_changed(sender, instance, raw=False, **kwargs):
    """A row carrying ``partner_id`` (or a partner itself) was saved or deleted: re-evaluate that partner after
    commit. Fixture loading (``raw``) is skipped."""
    if raw:
        return
    if sender._meta.label == "partners.Partner":
        partner_id = instance.pk
    elif sender._meta.label == "service.Ticket":  # the partner that brought the ticket's customer (one small query)
        partner_id = type(instance.customer).objects.filter(pk=instance.customer_id).values_list(
            "partner_id", flat=True).first()
    else:
        partner_id = getattr(instance, "partner_id", None)
    if partner_id is None:
        return
    from insights.tasks import evaluate_partner_insights  # noqa: PLC0415 (tasks import the evaluation: load lazily)

    enqueue_on_commit(evaluate_partner_insights, partner_id)


# (app label, model): the rows whose change can create or resolve an insight of their partner.
WATCHED = (
    ("activities", "Activity"),  # engagement due, no next engagement, inactivity risk, lead follow-up
    ("leads", "Lead"),  # lead follow-up (a stage change saves the lead)
    ("business", "Achievement"),  # business drop, target at risk (a single save: admin, API)
    ("business", "Target"),  # target at risk
    ("partners", "Partner"),  # tier, assignee, status
    ("service", "Ticket"),  # ticket breach: resolved, paused or re-prioritised (its customer's partner)
)
