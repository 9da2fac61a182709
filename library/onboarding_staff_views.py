"""Staff onboarding pages (/onboarding/, URL names ``onboarding_staff:…``).

- The progress report (``home``): per track, the partners that started it (paginated, by name) with their users
  started / completed and average percent — aggregates only (library.onboarding_selectors), a rep seeing their own
  partners; one partner's users (``partner``); the steps where partners stall (``stalls``).
- The questions partner users asked (unanswered first) with an answer form; documents waiting for review.
- Managers only (``partners.selectors.user_sees_all_partners``; a 404 for anyone else): tracks and their steps
  (create, edit, order, quiz questions) and content pages.
Form → service → redirect; every id outside what the user may see is a 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from library.markdown import render_markdown
from library.models import ContentPage, QuizQuestion, Step, Track
from library.onboarding_forms import (
    AnswerForm,
    ContentPageForm,
    QuizQuestionForm,
    ReviewForm,
    StepForm,
    TrackForm,
)
from library.onboarding_selectors import (
    partner_progress,
    partner_report_page,
    question_get_for_user,
    questions_page,
    reviews_page,
    staff_tracks,
    stall_report,
    step_questions,
    track_totals,
    upload_get_for_user,
)
from library.onboarding_services import (
    question_answer,
    quiz_question_add,
    quiz_question_delete,
    step_delete,
    step_move,
    step_save,
    track_save,
    upload_review,
)
from library.page_services import content_page_save
from partners.selectors import partner_get_for_user, user_sees_all_partners
from service.attachments import KINDS as FILE_KINDS


def _manager_only(user) -> None:
    if not user_sees_all_partners(user):
        raise Http404


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _chosen_track(tracks: list[Track], value) -> Track | None:
    try:
        wanted = int(value)
    except (TypeError, ValueError):
        wanted = None
    chosen = next((t for t in tracks if t.pk == wanted), None)
    return chosen or next((t for t in tracks if t.published), None) or (tracks[0] if tracks else None)


# --- Report -----------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def home(request):
    """The progress report of one track (``?track=``, default the first published) per partner. Queries: session,
    user, the manager check, the tracks, the track's totals (one aggregate), the page of partners, their aggregates
    (GROUP BY partner) (7)."""
    is_manager = user_sees_all_partners(request.user)
    tracks = staff_tracks()
    track = _chosen_track(tracks, request.GET.get("track"))
    query = (request.GET.get("q") or "").strip()[:100]
    totals = page = None
    if track is not None:
        totals = track_totals(track=track, user=request.user)
        page = partner_report_page(track=track, user=request.user, page=request.GET.get("page"), query=query)
    return render(request, "onboarding/report.html", {
        "section": "onboarding", "tracks": tracks, "track": track, "totals": totals, "page": page, "q": query,
        "is_manager": is_manager,
    })


@login_required
@require_http_methods(["GET", "HEAD"])
def partner(request, partner_pk):
    """One partner's users on every track. Queries: session, user, the manager check, the partner, its progress rows
    with users, tracks and current steps (5)."""
    found = partner_get_for_user(request.user, partner_pk)
    return render(request, "onboarding/partner.html", {
        "section": "onboarding", "partner": found, "rows": partner_progress(partner=found),
    })


@login_required
@require_http_methods(["GET", "HEAD"])
def stalls(request):
    """Where partners stop: per step of a track, the users whose current step it is, and how many of them are idle.
    Queries: session, user, the manager check, the tracks, the steps, one GROUP BY current step (6)."""
    tracks = staff_tracks()
    track = _chosen_track(tracks, request.GET.get("track"))
    rows = stall_report(track=track, user=request.user) if track else []
    return render(request, "onboarding/stalls.html", {
        "section": "onboarding", "tracks": tracks, "track": track, "rows": rows,
        "peak": max((r.stopped for r in rows), default=0),
    })


# --- Questions and reviews --------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def questions(request):
    """Questions asked by partner users (unanswered first). Queries: session, user, the manager check, the page of
    questions with asker, partner, step and track (4)."""
    open_only = request.GET.get("open") == "1"
    page = questions_page(user=request.user, page=request.GET.get("page"), open_only=open_only)
    return render(request, "onboarding/questions.html", {
        "section": "onboarding", "page": page, "open_only": open_only, "answer_form": AnswerForm(),
    })


@login_required
def question_answer_view(request, pk):
    question = question_get_for_user(request.user, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            question_answer(question=question, by=request.user, answer=form.cleaned_data["answer"])
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Answer sent to {question.user.get_full_name() or question.user.username}.")
            return redirect("onboarding_staff:questions")
    return render(request, "onboarding/answer.html", {"section": "onboarding", "question": question, "form": form},
                  status=400)


@login_required
@require_http_methods(["GET", "HEAD"])
def reviews(request):
    """Documents waiting for review, oldest first. Queries: session, user, the manager check, the page (4)."""
    page = reviews_page(user=request.user, page=request.GET.get("page"))
    return render(request, "onboarding/reviews.html", {"section": "onboarding", "page": page, "form": ReviewForm()})


@login_required
@require_http_methods(["GET", "HEAD"])
def review_file(request, pk):
    """The uploaded document, always as an attachment (never rendered by the browser), of a partner the user sees."""
    done = upload_get_for_user(request.user, pk)
    extension = done.upload.name.rsplit(".", 1)[-1].lower()
    kind = FILE_KINDS.get(extension)
    try:
        handle = default_storage.open(done.upload.name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404("file missing") from None
    response = FileResponse(handle, as_attachment=True, filename=done.upload_name or f"document.{extension}",
                            content_type=kind.content_type if kind else "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def review_decide(request, pk):
    done = upload_get_for_user(request.user, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose accept or ask again (a note is at most 1,000 characters).")
        return redirect("onboarding_staff:reviews")
    accept = form.cleaned_data["decision"] == "accept"
    if upload_review(step_done=done, by=request.user, accept=accept, note=form.cleaned_data["note"]):
        messages.success(request, "Document accepted." if accept else "Asked to upload it again.")
    else:
        messages.info(request, "This document was already reviewed.")
    return redirect("onboarding_staff:reviews")


# --- Tracks and steps (managers) --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def track_list(request):
    _manager_only(request.user)
    return render(request, "onboarding/tracks.html", {"section": "onboarding", "tracks": staff_tracks()})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def track_edit(request, pk=None):
    _manager_only(request.user)
    track = get_object_or_404(Track, pk=pk) if pk else None
    form = TrackForm.for_track(track, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = track_save(track=track, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Track “{saved.name}” saved.")
            return redirect("onboarding_staff:track", pk=saved.pk)
    return render(request, "onboarding/track_form.html", {"section": "onboarding", "track": track, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "HEAD"])
def track_detail(request, pk):
    """A track's steps (with their quiz questions) and where to add one. Queries: session, user, the manager check,
    the track, its steps with resource and page, the quiz questions and choices (6)."""
    _manager_only(request.user)
    track = get_object_or_404(Track.objects.select_related("tier"), pk=pk)
    steps = list(Step.objects.filter(track=track).select_related("resource", "page").prefetch_related(
        "questions__choices").order_by("order", "id"))
    return render(request, "onboarding/track.html", {"section": "onboarding", "track": track, "steps": steps})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def step_edit(request, track_pk, pk=None):
    _manager_only(request.user)
    track = get_object_or_404(Track, pk=track_pk)
    step = get_object_or_404(Step, pk=pk, track=track) if pk else None
    form = StepForm.for_step(step, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = step_save(step=step, track=track, kind=data["kind"], title=data["title"],
                              resource=data["resource"], page=data["page"], statement=data["statement"],
                              pass_mark=data["pass_mark"] or 0)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Step “{saved.title}” saved.")
            if saved.kind == Step.Kind.QUIZ and step is None:
                return redirect("onboarding_staff:quiz", pk=saved.pk)
            return redirect("onboarding_staff:track", pk=track.pk)
    return render(request, "onboarding/step_form.html", {
        "section": "onboarding", "track": track, "step": step, "form": form,
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def step_move_view(request, pk):
    _manager_only(request.user)
    step = get_object_or_404(Step, pk=pk)
    direction = request.POST.get("direction")
    if direction in ("up", "down"):
        step_move(step=step, direction=direction)
    return redirect(reverse("onboarding_staff:track", args=[step.track_id]) + f"#step-{step.pk}")


@login_required
@require_POST
def step_delete_view(request, pk):
    _manager_only(request.user)
    step = get_object_or_404(Step, pk=pk)
    track_id = step.track_id
    step_delete(step=step)
    messages.success(request, "Step removed; everyone's progress on the track was recomputed.")
    return redirect("onboarding_staff:track", pk=track_id)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def quiz(request, pk):
    """A quiz step's questions and the form to add one."""
    _manager_only(request.user)
    step = get_object_or_404(Step.objects.select_related("track"), pk=pk, kind=Step.Kind.QUIZ)
    form = QuizQuestionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            quiz_question_add(step=step, text=form.cleaned_data["text"], choices=form.choice_texts(),
                              correct=form.correct_indexes())
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, "Question added.")
            return redirect("onboarding_staff:quiz", pk=step.pk)
    return render(request, "onboarding/quiz.html", {
        "section": "onboarding", "step": step, "track": step.track, "questions": step_questions(step=step),
        "form": form,
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def quiz_question_delete_view(request, pk):
    _manager_only(request.user)
    question = get_object_or_404(QuizQuestion, pk=pk)
    step_id = question.step_id
    quiz_question_delete(question=question)
    messages.success(request, "Question removed.")
    return redirect("onboarding_staff:quiz", pk=step_id)


# --- Content pages (managers) -----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def page_list(request):
    _manager_only(request.user)
    pages = list(ContentPage.objects.select_related("tier").defer("body").order_by("kind", "order", "title"))
    return render(request, "onboarding/pages.html", {"section": "onboarding", "pages": pages})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def page_edit(request, pk=None):
    _manager_only(request.user)
    page = get_object_or_404(ContentPage, pk=pk) if pk else None
    form = ContentPageForm.for_page(page, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = content_page_save(page=page, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Page “{saved.title}” saved.")
            return redirect("onboarding_staff:pages")
    preview = render_markdown(page.body) if page is not None else ""
    return render(request, "onboarding/page_form.html", {
        "section": "onboarding", "page": page, "form": form, "preview": preview,
    }, status=400 if form.errors else 200)
