"""The admin's upload pages for achievements and targets: django-import-export's look, our service underneath.

``ServiceImportMixin`` keeps import-export's URLs, templates, import form (file + format) and export, but replaces its
row-by-row import with ``business.imports.import_period_values``:

- ``import/`` (GET: the form; POST: store the file under MEDIA_ROOT/imports with a random name
  (``business.imports.upload_store``), run the service as a dry run, render the preview with every row's status and
  errors; a clean preview carries a signed reference to the stored file in the confirm form);
- ``process_import/`` (POST: check the signature, run the same service for real on the stored file, delete it).

Previews never confirmed are deleted by the task ``business.tasks.delete_stale_uploads`` (and on the next upload).

Only users with the import permission (the model's ``add`` permission: managers) reach either page; anyone else
logged in gets 403.
"""

from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from import_export.admin import ImportExportMixin, ImportMixin
from import_export.formats.base_formats import CSV, XLSX

from business.imports import (
    CONFIRM_MAX_AGE,
    import_period_values,
    too_large_message,
    upload_delete,
    upload_exists,
    upload_name_is_valid,
    upload_open,
    upload_store,
    uploads_delete_stale,
)

SIGNING_SALT = "business.import"


class ConfirmUploadForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)


class ServiceImportMixin(ImportExportMixin):
    """Mix into a ModelAdmin; set ``import_kind`` ("achievements" or "targets") and ``resource_classes``."""

    import_kind = None
    import_template_name = "admin/business/import.html"
    # Another app's import reuses these pages by overriding ``run_import`` (same arguments, an ImportResult back) and
    # naming its columns and help text (pricing.admin: price entries).
    import_columns: tuple[str, ...] = ("partner_code", "parameter", "period", "value")
    import_help = ""
    import_formats = [CSV, XLSX]
    export_formats = [CSV, XLSX]

    def get_urls(self):
        app_label, model_name = self.get_model_info()
        return [
            path("import/", self._import_view(self.import_action), name=f"{app_label}_{model_name}_import"),
            path(
                "process_import/",
                self._import_view(self.process_import),
                name=f"{app_label}_{model_name}_process_import",
            ),
            # ImportMixin's own import URLs are replaced by the two above; export and the ModelAdmin's stay.
            *super(ImportMixin, self).get_urls(),
        ]

    def _import_view(self, view):
        admin_view = self.admin_site.admin_view(view)

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            # A logged-in user without the permission gets 403 (not the admin's login page), staff or not.
            if request.user.is_authenticated and not self.has_import_permission(request):
                raise PermissionDenied
            return admin_view(request, *args, **kwargs)

        return wrapper

    def import_action(self, request, **kwargs):
        """Choose file and format, then preview: validated by the service in a dry run, nothing written."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        import_form = self.create_import_form(request)
        context = {}
        if request.method == "POST" and import_form.is_valid():
            upload = import_form.cleaned_data["import_file"]
            file_format = self.get_import_formats()[int(import_form.cleaned_data["format"])]().get_extension()
            if upload.size > settings.IMPORT_MAX_BYTES:
                import_form.add_error("import_file", too_large_message(upload.size))
            else:
                uploads_delete_stale()
                stored = upload_store(file=upload, file_format=file_format)
                with upload_open(name=stored) as file:
                    result = self.run_import(
                        file=file, file_name=upload.name, user=request.user, dry_run=True, file_format=file_format
                    )
                context["result"] = result
                if result.ok:
                    token = signing.dumps(
                        {"path": stored, "name": upload.name, "format": file_format}, salt=self._salt(request)
                    )
                    context["confirm_form"] = ConfirmUploadForm(initial={"token": token})
                else:
                    upload_delete(name=stored)
        return self._render(request, import_form, context)

    @method_decorator(require_POST)
    def process_import(self, request, **kwargs):
        """Confirm: the same service, not a dry run, on the file stored at the preview."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ConfirmUploadForm(request.POST)
        try:
            if not form.is_valid():
                raise signing.BadSignature("no token")
            upload = signing.loads(form.cleaned_data["token"], salt=self._salt(request), max_age=CONFIRM_MAX_AGE)
            if not upload_name_is_valid(upload["path"]):
                raise signing.BadSignature("bad path")
        except signing.BadSignature:
            messages.error(request, "This preview has expired or is not valid; please upload the file again.")
            return HttpResponseRedirect(self._url("import"))
        if not upload_exists(name=upload["path"]):
            messages.error(request, "This upload was already imported or has expired; please upload the file again.")
            return HttpResponseRedirect(self._url("import"))
        try:
            with upload_open(name=upload["path"]) as file:
                result = self.run_import(
                    file=file, file_name=upload["name"], user=request.user, dry_run=False, file_format=upload["format"]
                )
        finally:
            upload_delete(name=upload["path"])
        if not result.ok:
            return self._render(request, self._blank_import_form(request), {"result": result})
        messages.success(request, f"Import of {upload['name']} finished. {result.summary()}")
        return HttpResponseRedirect(self._url("changelist"))

    def run_import(self, *, file, file_name, user, dry_run, file_format):
        """The import service behind both pages (a dry run for the preview, the real one on confirm)."""
        return import_period_values(
            file=file, file_name=file_name, kind=self.import_kind, user=user, dry_run=dry_run, file_format=file_format
        )

    def _render(self, request, import_form, context):
        context.update(self.admin_site.each_context(request))
        context.update(
            {
                "title": f"Import {self.model._meta.verbose_name_plural}",
                "form": import_form,
                "opts": self.model._meta,
                "media": self.media + import_form.media,
                "fields_list": [("", list(self.import_columns))],
                "import_columns": self.import_columns,
                "import_help": self.import_help,
                "max_megabytes": settings.IMPORT_MAX_BYTES // (1024 * 1024),
            }
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)

    def _blank_import_form(self, request):
        form_class = self.get_import_form_class(request)
        return form_class(self.get_import_formats(), self.get_import_resource_classes(request))

    def _salt(self, request):
        return f"{SIGNING_SALT}:{self.import_kind}:{request.user.pk}"

    def _url(self, name):
        app_label, model_name = self.get_model_info()
        return reverse(f"admin:{app_label}_{model_name}_{name}", current_app=self.admin_site.name)

