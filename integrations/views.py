"""/settings/crm/: managers and admins see the CRM connections, their status, last sync, runs and sync log, and can
"Sync now"; admins add connections, replace credentials (never shown again), edit a field mapping with the remote
fields from the describe call, preview the change on 20 records, and resync. Reps: 404 on every page and verb.
Form → integrations.services → page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from integrations import services, tasks
from integrations.connectors import ConnectorError, connector_for
from integrations.crypto import CredentialsUnreadable, decrypt
from integrations.forms import ConnectionForm, CredentialsForm, MappingAddForm, MappingForm
from integrations.models import FieldMapping
from integrations.selectors import (
    connection_get_for_user,
    connection_page,
    connections_of,
    mappable_objects,
    mapping_get_for_user,
    mapping_is_default,
    mapping_local_choices,
    mapping_values,
    may_edit,
    may_view,
)
from integrations.specs import SPECS
from prm.tasks import enqueue_on_commit


def _viewers_only(user) -> None:
    if not may_view(user):
        raise Http404


def _editors_only(user) -> None:
    if not may_edit(user):
        raise Http404


def _form_errors(form, error: ValidationError) -> None:
    for field, errors in getattr(error, "message_dict", {None: error.messages}).items():
        form.add_error(field if field in form.fields else None, errors)


def _no_cache(response):
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def connection_list(request):
    """Queries for GET: the session, the user, the manager check, the connections (4)."""
    _viewers_only(request.user)
    form, status = None, 200
    if request.method == "POST":
        _editors_only(request.user)
        form = ConnectionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                connection = services.connection_create(
                    name=data["name"], instance_url=data["instance_url"],
                    credentials={"client_id": data["client_id"], "client_secret": data["client_secret"]})
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, f"Connection {connection.name} added with the default mappings.")
                return redirect("crm:detail", connection.pk)
        status = 400
    elif may_edit(request.user):
        form = ConnectionForm()
    return _no_cache(render(request, "integrations/list.html", {
        "connections": connections_of(user=request.user), "form": form, "may_edit": may_edit(request.user),
    }, status=status))


def _detail(request, connection, *, credentials_form=None, status=200):
    return _no_cache(render(request, "integrations/detail.html", {
        "connection": connection,
        **connection_page(connection=connection, page=request.GET.get("page")),
        "mappable_objects": mappable_objects(),
        "credentials_form": credentials_form or (CredentialsForm() if may_edit(request.user) else None),
        "may_edit": may_edit(request.user),
    }, status=status))


@login_required
@require_http_methods(["GET", "HEAD"])
def connection_detail(request, pk):
    """Queries: the session, the user, the manager check, the connection, its mappings, runs, one log page (7)."""
    return _detail(request, connection_get_for_user(user=request.user, pk=pk))


@login_required
@require_POST
def connection_credentials(request, pk):
    connection = connection_get_for_user(user=request.user, pk=pk)
    _editors_only(request.user)
    form = CredentialsForm(request.POST)
    if not form.is_valid():
        return _detail(request, connection, credentials_form=form, status=400)
    services.connection_set_credentials(connection=connection, credentials=form.cleaned_data)
    messages.success(request, "Credentials saved. The connection will sync again.")
    return redirect("crm:detail", connection.pk)


@login_required
@require_POST
def connection_sync(request, pk):
    connection = connection_get_for_user(user=request.user, pk=pk)
    enqueue_on_commit(tasks.crm_pull, connection.pk)
    messages.success(request, "A sync was requested; its run appears below when it starts.")
    return redirect("crm:detail", connection.pk)


@login_required
@require_POST
def connection_resync(request, pk):
    connection = connection_get_for_user(user=request.user, pk=pk)
    _editors_only(request.user)
    services.connection_resync(connection=connection)
    enqueue_on_commit(tasks.crm_pull, connection.pk)
    messages.success(request, "Everything will be read again from the CRM; unchanged values are not rewritten.")
    return redirect("crm:detail", connection.pk)


def _remote_choices(connection, spec):
    """(connector, the remote fields as (name, label) choices, a problem) — the describe call; when the CRM cannot be
    asked, no choices and the problem (the API name is typed)."""
    try:
        connector = connector_for(connection, decrypt(connection.credentials_encrypted))
        remote = connector.describe(spec.remote)
    except (ConnectorError, CredentialsUnreadable) as exc:
        return None, None, f"The CRM could not be asked for its fields ({exc}); type the field's API name."
    return connector, sorted(((f.name, f"{f.label} ({f.name})") for f in remote.values()),
                             key=lambda c: c[1].lower()), ""


def _mapping_page(request, mapping, form, connector, problem, *, saved: str):
    """The mapping form: POST with ``preview`` shows what it would do to 20 records (nothing saved); with ``save``
    saves it and returns to the connection."""
    connection = mapping.connection
    preview = None
    if request.method == "POST" and form.is_valid():
        if "save" in request.POST:
            try:
                services.mapping_save(mapping=form.instance)
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, saved)
                return redirect("crm:detail", connection.pk)
        elif connector is not None:
            try:
                preview = services.mapping_preview(mapping=form.instance, connector=connector)
            except ConnectorError as exc:
                problem = f"The preview could not read the CRM: {exc}"
    return _no_cache(render(request, "integrations/mapping.html", {
        "connection": connection, "mapping": mapping, "form": form, "preview": preview, "problem": problem,
        "detail_url": SPECS[mapping.object].detail_url, "adding": mapping.pk is None, "deletable": mapping.pk is not None and not mapping_is_default(mapping),
    }, status=400 if form.errors else 200))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def mapping_edit(request, pk, mapping_pk):
    """GET: the form, its remote field choices from the describe call. POST: preview or save (_mapping_page)."""
    mapping = mapping_get_for_user(user=request.user, connection_pk=pk, pk=mapping_pk)
    _editors_only(request.user)
    spec = SPECS[mapping.object]
    connector, choices, problem = _remote_choices(mapping.connection, spec)
    form = MappingForm(request.POST or None, instance=mapping, remote_choices=choices, values=mapping_values(mapping))
    return _mapping_page(request, mapping, form, connector, problem,
                         saved="Mapping saved. Use “Resync” to apply it to records already synced.")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def mapping_add(request, pk, object):
    """A new mapping of ``object`` in one step: a PRM field not mapped yet (a partner's profile fields included) ↔ a
    CRM field from the describe call (custom fields included), with preview."""
    connection = connection_get_for_user(user=request.user, pk=pk)
    _editors_only(request.user)
    if object not in dict(mappable_objects()):
        raise Http404
    connector, choices, problem = _remote_choices(connection, SPECS[object])
    mapping = FieldMapping(connection=connection, object=object)
    form = MappingAddForm(request.POST or None, instance=mapping, remote_choices=choices,
                          local_choices=mapping_local_choices(connection=connection, object=object))
    return _mapping_page(request, mapping, form, connector, problem,
                         saved="Mapping added. Use “Resync” to fill it in for records already synced.")


@login_required
@require_POST
def mapping_delete(request, pk, mapping_pk):
    mapping = mapping_get_for_user(user=request.user, connection_pk=pk, pk=mapping_pk)
    _editors_only(request.user)
    try:
        services.mapping_delete(mapping=mapping)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("crm:mapping", pk, mapping_pk)
    messages.success(request, f"Mapping of {mapping.local_field} deleted: that field is no longer synced.")
    return redirect("crm:detail", pk)
