"""The portal's onboarding (/portal/onboarding/): the partner's content pages (Getting Started first, then the FAQ for
its tier and kind, then the others) and the user's onboarding tracks, walked step by step with a question box on every
step. Scoped by ``portal.selectors.portal_member``: a page not meant for the partner, a track outside its audience,
another user's progress or a step of another track is a 404 on every verb. Form → service → redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from library.markdown import render_markdown
from library.models import ContentPage, Step
from library.onboarding_forms import AcknowledgeForm, AskForm, QuizForm, UploadForm
from library.onboarding_selectors import (
    asked_by,
    member_tracks,
    page_get_for_member,
    pages_for,
    progress_get_for_member,
    step_questions,
    step_rows,
    tracks_for,
)
from library.onboarding_services import (
    progress_start,
    question_ask,
    quiz_answer,
    step_complete,
    upload_max_bytes,
    upload_submit,
)
from portal.selectors import portal_member
from service.attachments import megabytes


def _render(request, template, context, status=200):
    response = render(request, template, context, status=status)
    add_never_cache_headers(response)  # progress changes: the back button must not show a stale walk
    return response


@login_required
@require_http_methods(["GET", "HEAD"])
def home(request):
    """The partner's pages and the user's tracks with progress bars. Queries: session, user, membership, the pages,
    the tracks (with step counts), the user's progress rows, the bell's count (7)."""
    member = portal_member(request)
    pages = pages_for(partner=member.partner)
    tracks = member_tracks(member=member)
    return _render(request, "portal/onboarding/home.html", {"member": member, "pages": pages, "tracks": tracks})


@login_required
@require_http_methods(["GET", "HEAD"])
def start(request):
    """The portal navigation's "Getting started": the partner's Getting Started page, else the onboarding home."""
    member = portal_member(request)
    page = next((p for p in pages_for(partner=member.partner) if p.kind == ContentPage.Kind.GETTING_STARTED), None)
    if page is None:
        return redirect("onboarding:home")
    return redirect("onboarding:page", pk=page.pk)


@login_required
def page_detail(request, pk):
    """One content page (Markdown rendered sanitised). Queries: session, user, membership, the partner's pages, the
    page, the bell (6)."""
    member = portal_member(request)
    page, pages = page_get_for_member(member, pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _render(request, "portal/onboarding/page.html", {
        "member": member, "page": page, "pages": pages, "body": render_markdown(page.body),
    })


@login_required
def track_start(request, pk):
    """POST: start (or continue) a track of the partner's audience; then its first open step."""
    member = portal_member(request)
    track = get_object_or_404(tracks_for(partner=member.partner), pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        progress = progress_start(member=member, track=track)
    except ValidationError:
        raise Http404("not a track for this partner") from None
    return redirect("onboarding:progress", pk=progress.pk)


@login_required
def progress_detail(request, pk):
    """A walk: the track's steps with their state, the progress bar, the celebration once complete. Queries:
    session, user, membership, the progress with its track, the steps, the user's records, the bell (7)."""
    member = portal_member(request)
    progress = progress_get_for_member(member, pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    rows = step_rows(progress=progress)
    return _render(request, "portal/onboarding/progress.html", {
        "member": member, "progress": progress, "track": progress.track, "rows": rows,
        "next_row": next((r for r in rows if r.state in ("open", "failed", "rejected")), None),
    })


def _step_context(request, member, progress, step_pk):
    rows = step_rows(progress=progress)
    index = next((i for i, r in enumerate(rows) if r.step.pk == step_pk), None)
    if index is None:
        raise Http404("not a step of this track")
    row = rows[index]
    step = row.step
    return {
        "member": member, "progress": progress, "track": progress.track, "rows": rows, "row": row, "step": step,
        "position": index + 1, "previous_row": rows[index - 1] if index else None,
        "next_row": rows[index + 1] if index + 1 < len(rows) else None,
    }


def _fill(context, step, user_id, *, quiz_form=None, upload_form=None, ack_form=None, ask_form=None):
    """Everything the step page shows, loaded before rendering (no queries in the template)."""
    if step.kind == Step.Kind.QUIZ:
        questions = step_questions(step=step)
        context["quiz_form"] = quiz_form or QuizForm(questions=questions)
    if step.kind == Step.Kind.UPLOAD:
        context["upload_form"] = upload_form or UploadForm()
        context["upload_limit"] = megabytes(upload_max_bytes())
    if step.kind == Step.Kind.ACKNOWLEDGE:
        context["ack_form"] = ack_form or AcknowledgeForm()
    if step.kind == Step.Kind.PAGE and step.page_id:
        page = ContentPage.objects.filter(pk=step.page_id).first()
        context["page_body"] = render_markdown(page.body) if page else ""
        context["page_title"] = page.title if page else ""
    if step.kind in (Step.Kind.RESOURCE, Step.Kind.VIDEO) and step.resource_id:
        resource = step.resource
        context["resource"] = resource
        context["resource_link"] = _resource_link(resource.pk)
        url = resource.url or ""
        context["video_url"] = url if url.lower().startswith(("https://", "http://")) else ""
    context["ask_form"] = ask_form or AskForm()
    context["asked"] = asked_by(user_id=user_id, step=step)
    return context


def _resource_link(resource_id: int) -> str:
    """The library's page of a resource (the library decides whether this partner may see it)."""
    return reverse("library:resource", args=[resource_id])


@login_required
def step_detail(request, pk, step_pk):
    """One step of the user's walk. Queries: session, user, membership, the progress, the steps, the records, what
    the step shows (a quiz's questions and choices, a page, a resource), the user's questions, the bell."""
    member = portal_member(request)
    progress = progress_get_for_member(member, pk)
    context = _step_context(request, member, progress, step_pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _render(request, "portal/onboarding/step.html", _fill(context, context["step"], member.user_id))


def _step_post(request, pk, step_pk):
    member = portal_member(request)
    progress = progress_get_for_member(member, pk)
    context = _step_context(request, member, progress, step_pk)
    if request.method != "POST":
        raise _NotAllowed
    return member, progress, context


class _NotAllowed(Exception):
    pass


def _after(request, progress, outcome, step):
    if outcome.completed_track:
        messages.success(request, f"Congratulations — you completed “{progress.track.name}”!")
        return redirect("onboarding:progress", pk=progress.pk)
    following = step_rows(progress=progress)
    nxt = next((r for r in following if r.state in ("open", "failed", "rejected") and r.step.pk != step.pk), None)
    if nxt is not None:
        return redirect("onboarding:step", pk=progress.pk, step_pk=nxt.step.pk)
    return redirect("onboarding:progress", pk=progress.pk)


def _errors(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [m for messages_ in error.message_dict.values() for m in messages_]
    return list(error.messages)


@login_required
def step_complete_view(request, pk, step_pk):
    """POST: "I have read it" / "I have watched it" / acknowledge."""
    try:
        member, progress, context = _step_post(request, pk, step_pk)
    except _NotAllowed:
        return HttpResponseNotAllowed(["POST"])
    step = context["step"]
    ack_form = None
    if step.kind == Step.Kind.ACKNOWLEDGE:
        ack_form = AcknowledgeForm(request.POST)
        if not ack_form.is_valid():
            return _render(request, "portal/onboarding/step.html",
                           _fill(context, step, member.user_id, ack_form=ack_form), status=400)
    try:
        outcome = step_complete(progress=progress, step=step, by=request.user,
                                acknowledged=ack_form is not None and ack_form.cleaned_data["acknowledged"])
    except ValidationError as error:
        for text in _errors(error):
            messages.error(request, text)
        return redirect("onboarding:step", pk=progress.pk, step_pk=step.pk)
    return _after(request, progress, outcome, step)


@login_required
def step_quiz_view(request, pk, step_pk):
    """POST: a quiz attempt (failed: the score and a retry; passed: the next step)."""
    try:
        member, progress, context = _step_post(request, pk, step_pk)
    except _NotAllowed:
        return HttpResponseNotAllowed(["POST"])
    step = context["step"]
    if step.kind != Step.Kind.QUIZ:
        raise Http404("not a quiz")
    form = QuizForm(request.POST, questions=step_questions(step=step))
    if not form.is_valid():
        return _render(request, "portal/onboarding/step.html",
                       _fill(context, step, member.user_id, quiz_form=form), status=400)
    try:
        outcome = quiz_answer(progress=progress, step=step, by=request.user, answers=form.answers())
    except ValidationError as error:
        for text in _errors(error):
            form.add_error(None, text)
        return _render(request, "portal/onboarding/step.html",
                       _fill(context, step, member.user_id, quiz_form=form), status=400)
    if not outcome.passed:
        messages.error(request, f"{outcome.score} of {outcome.needed} needed answers were right. Have another look "
                                "and try again.")
        return redirect("onboarding:step", pk=progress.pk, step_pk=step.pk)
    messages.success(request, f"Passed: {outcome.score} right answers.")
    return _after(request, progress, outcome, step)


@login_required
def step_upload_view(request, pk, step_pk):
    """POST: a document for review (checked by type and size)."""
    try:
        member, progress, context = _step_post(request, pk, step_pk)
    except _NotAllowed:
        return HttpResponseNotAllowed(["POST"])
    step = context["step"]
    if step.kind != Step.Kind.UPLOAD:
        raise Http404("not an upload step")
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            upload_submit(progress=progress, step=step, by=request.user, upload=form.cleaned_data["file"])
        except ValidationError as error:
            form.add_error("file" if hasattr(error, "error_dict") and "file" in error.error_dict else None,
                           _errors(error))
        else:
            messages.success(request, "Thank you: your document was sent for review. You can go on meanwhile.")
            following = step_rows(progress=progress)
            nxt = next((r for r in following if r.state in ("open", "failed", "rejected")), None)
            if nxt is not None:
                return redirect("onboarding:step", pk=progress.pk, step_pk=nxt.step.pk)
            return redirect("onboarding:progress", pk=progress.pk)
    return _render(request, "portal/onboarding/step.html",
                   _fill(context, step, member.user_id, upload_form=form), status=400)


@login_required
def step_ask_view(request, pk, step_pk):
    """POST: a question on this step for the partner's rep."""
    try:
        member, progress, context = _step_post(request, pk, step_pk)
    except _NotAllowed:
        return HttpResponseNotAllowed(["POST"])
    step = context["step"]
    form = AskForm(request.POST)
    if form.is_valid():
        try:
            question_ask(progress=progress, step=step, by=request.user, text=form.cleaned_data["text"])
        except ValidationError as error:
            form.add_error("text", _errors(error))
        else:
            messages.success(request, "Your question was sent to your partner manager. The answer will come to your "
                                      "notifications and appear here.")
            return redirect(reverse("onboarding:step", args=[progress.pk, step.pk]) + "#questions")
    return _render(request, "portal/onboarding/step.html",
                   _fill(context, step, member.user_id, ask_form=form), status=400)

