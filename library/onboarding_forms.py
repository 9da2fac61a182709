"""Forms of onboarding (portal and staff pages). They validate input only: the writes are
``library.onboarding_services`` and ``library.page_services``, called by the views with ``cleaned_data``."""

from django import forms

from library.models import ContentPage, Resource, Step, Track
from library.onboarding_services import MAX_CHOICES, UPLOAD_ACCEPT
from partners.models import Partner, Tier

KIND_CHOICES = [("", "Every kind"), *Partner.Kind.choices]


# --- Portal -----------------------------------------------------------------------------------------------------------


class AcknowledgeForm(forms.Form):
    acknowledged = forms.BooleanField(required=True, label="I have read and accept this statement",
                                      error_messages={"required": "Tick the box to acknowledge the statement."})


class UploadForm(forms.Form):
    file = forms.FileField(label="Your document", widget=forms.ClearableFileInput(attrs={"accept": UPLOAD_ACCEPT}))


class AskForm(forms.Form):
    text = forms.CharField(label="Your question", max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
                           help_text="Your partner manager answers; the answer comes to your notifications.")


class QuizForm(forms.Form):
    """One radio group per question (``q<question id>``: the choice id)."""

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for number, question in enumerate(questions, 1):
            self.fields[f"q{question.pk}"] = forms.TypedChoiceField(
                label=f"{number}. {question.text}", coerce=int, widget=forms.RadioSelect,
                choices=[(c.pk, c.text) for c in question.choices.all()],
                error_messages={"required": "Choose an answer."},
            )

    def answers(self) -> dict[int, int]:
        return {q.pk: self.cleaned_data[f"q{q.pk}"] for q in self.questions if f"q{q.pk}" in self.cleaned_data}


# --- Staff ------------------------------------------------------------------------------------------------------------


class ContentPageForm(forms.Form):
    kind = forms.ChoiceField(choices=ContentPage.Kind.choices)
    title = forms.CharField(max_length=200)
    body = forms.CharField(max_length=200_000, widget=forms.Textarea(attrs={"rows": 14}),
                           help_text="Markdown: # headings, **bold**, lists, [links](https://…). HTML is not kept.")
    tier = forms.ModelChoiceField(queryset=Tier.objects.order_by("rank", "name"), required=False,
                                  empty_label="Every tier")
    partner_kind = forms.ChoiceField(choices=KIND_CHOICES, required=False, label="Partner kind")
    order = forms.IntegerField(min_value=0, max_value=32767, initial=0, required=False)
    published = forms.BooleanField(required=False, initial=True)

    @classmethod
    def for_page(cls, page: ContentPage | None, data=None):
        initial = {} if page is None else {
            "kind": page.kind, "title": page.title, "body": page.body, "tier": page.tier_id,
            "partner_kind": page.partner_kind, "order": page.order, "published": page.published,
        }
        return cls(data, initial=initial)


class TrackForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    tier = forms.ModelChoiceField(queryset=Tier.objects.order_by("rank", "name"), required=False,
                                  empty_label="Every tier")
    partner_kind = forms.ChoiceField(choices=KIND_CHOICES, required=False, label="Partner kind")
    stall_days = forms.IntegerField(min_value=0, max_value=365, initial=7, label="Remind after idle days",
                                    help_text="0: no reminders.")
    published = forms.BooleanField(required=False, help_text="Partners of the audience see it.")

    @classmethod
    def for_track(cls, track: Track | None, data=None):
        initial = {"stall_days": 7} if track is None else {
            "name": track.name, "description": track.description, "tier": track.tier_id,
            "partner_kind": track.partner_kind, "stall_days": track.stall_days, "published": track.published,
        }
        return cls(data, initial=initial)


class StepForm(forms.Form):
    kind = forms.ChoiceField(choices=Step.Kind.choices)
    title = forms.CharField(max_length=200)
    resource = forms.ModelChoiceField(
        queryset=Resource.objects.order_by("title", "id").only("id", "title", "kind"), required=False,
        help_text="“Read a resource” and “Watch a video”: the library's resource (a video link for a video).",
    )
    page = forms.ModelChoiceField(queryset=ContentPage.objects.order_by("kind", "title").only("id", "title", "kind"),
                                  required=False, help_text="“Read a page”: the content page.")
    statement = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                help_text="“Acknowledge a statement”: what the partner user accepts.")
    pass_mark = forms.IntegerField(min_value=0, max_value=100, required=False, initial=1,
                                   help_text="Quiz: correct answers needed to pass.")

    @classmethod
    def for_step(cls, step: Step | None, data=None):
        initial = {"pass_mark": 1} if step is None else {
            "kind": step.kind, "title": step.title, "resource": step.resource_id, "page": step.page_id,
            "statement": step.statement, "pass_mark": step.pass_mark,
        }
        return cls(data, initial=initial)


class QuizQuestionForm(forms.Form):
    text = forms.CharField(max_length=500, label="Question")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(1, MAX_CHOICES + 1):
            self.fields[f"choice_{n}"] = forms.CharField(max_length=300, required=False, label=f"Choice {n}")
        self.fields["correct"] = forms.MultipleChoiceField(
            choices=[(str(n), f"Choice {n}") for n in range(1, MAX_CHOICES + 1)],
            widget=forms.CheckboxSelectMultiple, label="Correct choices",
        )

    def choice_texts(self) -> list[str]:
        return [self.cleaned_data.get(f"choice_{n}", "") for n in range(1, MAX_CHOICES + 1)]

    def correct_indexes(self) -> list[int]:
        return [int(n) - 1 for n in self.cleaned_data.get("correct", [])]


class AnswerForm(forms.Form):
    answer = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3, "maxlength": 5000}))


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Ask again")])
    note = forms.CharField(max_length=1000, required=False, label="Note to the partner user")
