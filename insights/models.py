"""Insights: what a rep should do next, from rules a manager configures; and the tiers' expected business bands.

Layer 4 (shared/DESIGN.md): may import partners, notifications, activities, leads and business; dashboard composes it.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from prm.choices import ChoiceDisplayMixin


class Rule(ChoiceDisplayMixin, models.Model):
    """One kind of insight, configured in the admin. The codes are created by data migrations; the evaluation
    of each is set-based SQL in ``insights.evaluate``. Which fields a rule reads is said in its ``help`` (admin)."""

    class Code(models.TextChoices):
        ENGAGEMENT_DUE = "engagement_due", "Engagement overdue or due soon"
        BUSINESS_DROP = "business_drop", "Business drop"
        TARGET_AT_RISK = "target_at_risk", "Target at risk (pacing)"
        NO_NEXT_ENGAGEMENT = "no_next_engagement", "No next engagement planned"
        INACTIVITY_RISK = "inactivity_risk", "About to be tagged inactive"
        LEAD_FOLLOW_UP = "lead_follow_up", "Lead without follow-up"
        TIER_REVIEW = "tier_review", "Tier review (promote/demote)"
        TICKET_BREACH = "ticket_breach", "Customer ticket past its resolution time"  # issue 13 (service tickets)

    class Action(models.TextChoices):
        SCHEDULE_MEETING = "schedule_meeting", "Schedule a meeting"
        SCHEDULE_CALL = "schedule_call", "Schedule a call"
        LOG_CALL = "log_call", "Call now"
        PLAN_PUSH = "plan_push", "Plan a push"
        FOLLOW_UP_LEAD = "follow_up_lead", "Follow up the lead"
        REVIEW_TIER = "review_tier", "Review the tier"

    code = models.CharField(max_length=30, choices=Code.choices, unique=True)
    enabled = models.BooleanField(default=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    tiers = models.ManyToManyField("partners.Tier", blank=True, help_text="Only partners of these tiers; none = all.")
    parameter = models.ForeignKey(
        "business.Parameter", on_delete=models.PROTECT, null=True, blank=True,
        help_text="The business parameter the rule looks at (business drop, target at risk, tier review); none = all "
                  "active parameters.",
    )
    threshold_percent = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Business drop: the fall that counts (e.g. 30 = down ≥ 30 %). Target at risk: pacing below this % "
                  "of the expected share. Tier review: % outside the tier's band.",
    )
    periods = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(24)],
        help_text="Business drop: the previous N full periods averaged. Tier review: N periods in a row.",
    )
    days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(365)],
        help_text="Engagement due: days before the due date that count as 'about to be'. Lead follow-up: days "
                  "without an activity. Inactivity risk: days before the inactivity rules would tag the partner.",
    )
    minimum = models.DecimalField(
        max_digits=18, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))],
        help_text="Business drop: ignore partners whose baseline average is below this. Target at risk: ignore "
                  "targets below this.",
    )
    suppression_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="A dismissed insight stays hidden this long.",
    )
    weight = models.PositiveSmallIntegerField(
        default=50, validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Importance in the ranking (0–100); the score also grows with the tier and how far off it is.",
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold_percent__isnull=True) | Q(threshold_percent__gte=0, threshold_percent__lte=100),
                name="insight_rule_threshold_range",
            ),
            models.CheckConstraint(condition=Q(weight__lte=100), name="insight_rule_weight_range"),
            models.CheckConstraint(condition=Q(minimum__isnull=True) | Q(minimum__gte=0),
                                   name="insight_rule_minimum_not_negative"),
        ]

    def __str__(self):
        return self.get_code_display()


class Insight(ChoiceDisplayMixin, models.Model):
    """One suggestion for one partner. ``fingerprint`` (rule, partner, subject, period) makes evaluation idempotent:
    re-evaluating refreshes the same row. ``evidence`` holds the numbers the sentence is rendered from."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved (the cause is gone)"

    # No single-column indexes on the two FKs: insight_rule_state_idx and insight_partner_state_idx lead with them
    # and serve their lookups and CASCADE deletes (one index fewer to write per insight each).
    # No foreign-key constraints in the database either (db_constraint=False): an insight is derived data, written
    # only by insights.evaluate, whose finders select existing partners and rules in the same statement; a
    # constraint's per-row check at commit (two lookups + a FOR KEY SHARE lock on the partner row per insight) was
    # 5.7 s of an 18 s first nightly run at 100k partners (docs/benchmarks.md). Partners are never deleted (they stay
    # for good), rules only through the ORM, whose CASCADE still removes their insights.
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="insights", db_index=False,
                             db_constraint=False)
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="insights",
                                db_index=False, db_constraint=False)
    subject = models.CharField(max_length=100, blank=True,
                               help_text="What the insight is about within the partner: a parameter code, 'leads', "
                                         "or '' (the partner itself).")
    period_start = models.DateField(null=True, blank=True)
    fingerprint = models.CharField(max_length=200)  # unique: insight_fingerprint_unique (no extra _like index)
    evidence = models.JSONField(default=dict)
    score = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_seen_at = models.DateTimeField(help_text="When an evaluation last found the cause still there.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateField(null=True, blank=True)
    suppressed_until = models.DateTimeField(null=True, blank=True, help_text="Dismissed: hidden until then.")
    dismiss_reason = models.CharField(max_length=200, blank=True)
    reacted_by = models.ForeignKey(  # indexed only where set (insight_reacted_by_idx): the evaluation inserts NULLs
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    reacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score", "-id"]
        indexes = [
            models.Index(fields=["partner", "state", "-score"], name="insight_partner_state_idx"),
            # A manager's Today ranks every open insight by (score, id): the index has both, so the walk stops after
            # a page (with score alone PostgreSQL sorted each score's ties in parallel workers: 9-35 ms).
            models.Index(fields=["state", "-score", "-id"], condition=Q(state="open"), name="insight_open_score_idx"),
            models.Index(fields=["rule", "state"], name="insight_rule_state_idx"),
            models.Index(fields=["reacted_by"], condition=Q(reacted_by__isnull=False), name="insight_reacted_by_idx"),
        ]
        # A constraint, not unique=True: the same unique index (ON CONFLICT (fingerprint) infers it) without the
        # varchar_pattern_ops "_like" index Django adds for unique text fields, which no query uses.
        constraints = [models.UniqueConstraint(fields=["fingerprint"], name="insight_fingerprint_unique")]

    def __str__(self):
        return f"{self.rule} · {self.partner_id}"


class TierBand(models.Model):
    """The business a partner of a tier is expected to bring per period of a parameter ("tentative business
    opportunity"): shown on the card next to the partner's own figures, the default target for a new partner of the
    tier, and what the tier-review rule compares with."""

    tier = models.ForeignKey("partners.Tier", on_delete=models.CASCADE, related_name="bands")
    parameter = models.ForeignKey("business.Parameter", on_delete=models.CASCADE, related_name="tier_bands")
    low = models.DecimalField(max_digits=18, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    high = models.DecimalField(max_digits=18, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ["tier__rank", "parameter__order"]
        constraints = [
            models.UniqueConstraint(fields=["tier", "parameter"], name="tier_band_unique"),
            models.CheckConstraint(condition=Q(low__lte=models.F("high")), name="tier_band_low_le_high"),
            models.CheckConstraint(condition=Q(low__gte=0), name="tier_band_low_not_negative"),
        ]

    def __str__(self):
        return f"{self.tier} · {self.parameter}: {self.low}–{self.high}"

    def clean(self):
        """The constraints' rules, with messages naming the field (the admin and ``insights.tier_review``)."""
        super().clean()
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValidationError({"high": f"The high end ({self.high}) must not be below the low end ({self.low})."})


# --- The team dashboard's pre-aggregates (/team/, insights.team) ------------------------------------------------------
# Summing 1.4M target rows and 400k achievements live took 0.6 s at 100k partners (EXPLAIN ANALYZE, see
# insights/team.py), so attainment and movers are computed by ``insights.team.team_figures_refresh`` (nightly, after
# the metrics) and the page reads these few thousand rows. A cache: rebuilt whole each run, so CASCADE is harmless.


class TeamAttainment(models.Model):
    """Targets and generated values of partners that have a target, summed per rep, tier, parameter and period
    (the current period and the last full ones)."""

    computed_at = models.DateTimeField()
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+")
    tier = models.ForeignKey("partners.Tier", on_delete=models.CASCADE, null=True, related_name="+")
    parameter = models.ForeignKey("business.Parameter", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    partners = models.PositiveIntegerField()
    target = models.DecimalField(max_digits=24, decimal_places=4)
    generated = models.DecimalField(max_digits=24, decimal_places=4)

    class Meta:
        indexes = [models.Index(fields=["assigned_to"], name="team_attainment_rep_idx")]

    def __str__(self):
        return f"{self.assigned_to_id} · {self.tier_id} · {self.parameter_id} · {self.period_start}"


class TeamMover(models.Model):
    """One of each rep's ten largest drops or rises of the main parameter: the last full period against the average
    of the three before it. The ten of a whole team are among the union of its reps' ten."""

    class Direction(models.TextChoices):
        DROP = "drop", "Drop"
        RISE = "rise", "Rise"

    computed_at = models.DateTimeField()
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+")
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    parameter = models.ForeignKey("business.Parameter", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField(help_text="The last full period.")
    direction = models.CharField(max_length=4, choices=Direction.choices)
    last_value = models.DecimalField(max_digits=24, decimal_places=4)
    previous_average = models.DecimalField(max_digits=24, decimal_places=4)
    change = models.DecimalField(max_digits=24, decimal_places=4)

    class Meta:
        indexes = [models.Index(fields=["assigned_to", "direction"], name="team_mover_rep_idx")]

    def __str__(self):
        return f"{self.partner_id} {self.direction} {self.change}"
