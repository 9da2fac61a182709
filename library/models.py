"""The partner's passive communication (issue 15): a resource library (categories no deeper than one subcategory, tags
of three kinds, an audience per resource), content pages per tier and partner kind, and onboarding tracks walked by
each partner user, with their progress, quiz answers, uploads and questions.

Writes go through ``library.services`` (and ``library.onboarding_services``); what a partner user may see is decided
in one selector, ``library.selectors.resources_visible_to``.
"""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from partners.models import Partner, Tier
from prm.choices import ChoiceDisplayMixin


class Audience(models.Model):
    """Who may see a row: everyone, or the partners matching any of the chosen tiers, partner kinds or partners."""

    to_all = models.BooleanField(default=True, help_text="Every partner (the choices below are ignored).")
    kinds = models.JSONField(default=list, blank=True, help_text='Partner kinds, e.g. ["organisation"].')

    class Meta:
        abstract = True


class Category(models.Model):
    """A shelf of the library: a top category or one of its subcategories (never deeper: library.services)."""

    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        help_text="Empty for a top category; a top category for a subcategory (no third level).",
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_name_unique", nulls_distinct=False),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="category_not_own_parent"),
        ]

    def __str__(self):
        return self.name


class Tag(ChoiceDisplayMixin, models.Model):
    class Kind(models.TextChoices):
        PROGRAM_STEP = "program_step", "Program step"
        INDUSTRY = "industry", "Industry"
        DOCUMENT_TYPE = "document_type", "Document type"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="tag_kind_name_unique")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.name}"


class Resource(ChoiceDisplayMixin, Audience):
    class Kind(models.TextChoices):
        FILE = "file", "File"
        LINK = "link", "Link"
        VIDEO = "video", "Video link"
        ARTICLE = "article", "Article"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="resources")
    tags = models.ManyToManyField(Tag, blank=True, related_name="resources")
    file = models.FileField(upload_to="library/%Y/%m/", blank=True, max_length=300)
    file_name = models.CharField(max_length=255, blank=True, help_text="The uploaded file's own name (downloads).")
    file_size = models.PositiveBigIntegerField(default=0)
    url = models.URLField(blank=True, max_length=1000, help_text="Links and videos: http(s) only.")
    body = models.TextField(blank=True, max_length=200_000, help_text="Articles: Markdown (sanitised on render).")
    version = models.CharField(max_length=30, blank=True)
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    tiers = models.ManyToManyField(Tier, blank=True, related_name="+")
    partners = models.ManyToManyField(Partner, blank=True, related_name="+")
    download_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Full-text search over title (A), description (B) and article text (C), kept by library.services on save.
    search = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["title", "id"]
        indexes = [
            GinIndex(fields=["search"], name="resource_search_idx"),
            models.Index(fields=["category", "title"], condition=Q(published=True), name="resource_category_idx"),
            models.Index(fields=["-published_at"], condition=Q(published=True), name="resource_published_idx"),
        ]

    def __str__(self):
        return self.title


class ContentPage(ChoiceDisplayMixin, models.Model):
    """A page staff write (Markdown, sanitised on render) for an audience: the portal shows each partner the most
    specific page of each kind (tier + partner kind, then tier, then kind, then everyone)."""

    class Kind(models.TextChoices):
        GETTING_STARTED = "getting_started", "Getting Started"
        FAQ = "faq", "FAQ"
        OTHER = "other", "Other"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=200_000, help_text="Markdown.")
    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                             help_text="Empty: every tier.")
    partner_kind = models.CharField(max_length=20, choices=Partner.Kind.choices, blank=True,
                                    help_text="Empty: every kind.")
    order = models.PositiveSmallIntegerField(default=0)
    published = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "title"]

    def __str__(self):
        return self.title


class Track(models.Model):
    """An onboarding track for an audience (tier and/or partner kind, or everyone): ordered steps."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    partner_kind = models.CharField(max_length=20, choices=Partner.Kind.choices, blank=True)
    published = models.BooleanField(default=False)
    stall_days = models.PositiveSmallIntegerField(default=7, help_text="Remind a user after this many idle days.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Step(ChoiceDisplayMixin, models.Model):
    class Kind(models.TextChoices):
        RESOURCE = "resource", "Read a resource"
        VIDEO = "video", "Watch a video"
        PAGE = "page", "Read a page"
        ACKNOWLEDGE = "acknowledge", "Acknowledge a statement"
        QUIZ = "quiz", "Answer a quiz"
        UPLOAD = "upload", "Upload a document for review"

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = models.CharField(max_length=200)
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    page = models.ForeignKey(ContentPage, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    statement = models.TextField(blank=True, max_length=5000, help_text="Acknowledge: the statement.")
    pass_mark = models.PositiveSmallIntegerField(default=0, help_text="Quiz: correct answers needed to pass.")

    class Meta:
        ordering = ["track", "order"]
        constraints = [models.UniqueConstraint(fields=["track", "order"], name="step_order_unique")]

    def __str__(self):
        return f"{self.track_id}.{self.order} {self.title}"


class QuizQuestion(models.Model):
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["step", "order", "id"]

    def __str__(self):
        return self.text


class QuizChoice(models.Model):
    question = models.ForeignKey(QuizQuestion, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(max_length=300)
    correct = models.BooleanField(default=False)

    def __str__(self):
        return self.text


class Progress(models.Model):
    """One partner user's walk through one track (denormalised: percent, current step, completed at)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="progress")
    current_step = models.ForeignKey(Step, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    steps_done = models.PositiveSmallIntegerField(default=0)
    percent = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, help_text="Stall reminder claim (conditional UPDATE).")

    class Meta:
        verbose_name_plural = "progress"
        constraints = [models.UniqueConstraint(fields=["user", "track"], name="progress_once_per_user")]
        indexes = [
            models.Index(fields=["track", "partner"], name="progress_track_partner_idx"),
            models.Index(fields=["updated_at"], condition=Q(completed_at__isnull=True), name="progress_stalled_idx"),
        ]

    def __str__(self):
        return f"{self.user_id} on {self.track_id}: {self.percent}%"


class StepDone(ChoiceDisplayMixin, models.Model):
    """A step a user completed (or submitted: an upload waits for review; a failed quiz is recorded, not done)."""

    class Review(models.TextChoices):
        NONE = "", "No review"
        PENDING = "pending", "Waiting for review"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    progress = models.ForeignKey(Progress, on_delete=models.CASCADE, related_name="done")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    passed = models.BooleanField(default=True)
    answers = models.JSONField(default=dict, blank=True, help_text="Quiz: {question id: choice id}.")
    score = models.PositiveSmallIntegerField(default=0)
    upload = models.FileField(upload_to="onboarding/%Y/%m/", blank=True, max_length=300)
    upload_name = models.CharField(max_length=255, blank=True)
    review = models.CharField(max_length=10, choices=Review.choices, blank=True, default="")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["progress", "step"], name="step_done_once")]
        indexes = [models.Index(fields=["step", "passed"], name="step_done_step_idx")]

    def __str__(self):
        return f"{self.progress_id}: step {self.step_id}"


class StepQuestion(models.Model):
    """A question a partner user asks on a step; it reaches the partner's rep, the answer comes back notified."""

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="asked")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(max_length=2000)
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(blank=True, max_length=5000)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-asked_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "-asked_at"], name="step_question_partner_idx"),
            models.Index(fields=["asked_at"], condition=Q(answered_at__isnull=True), name="step_question_open_idx"),
        ]

    def __str__(self):
        return self.text[:50]
