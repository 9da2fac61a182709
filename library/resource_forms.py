"""The staff's forms of the resource library (library.staff_views). They only validate and convert; the views hand
``service_kwargs()`` to ``library.services`` (which checks everything again)."""

import re

from django import forms

from library.models import Category, Resource, Tag
from library.resource_files import ACCEPT
from library.services import (
    BODY_MAX,
    CATEGORY_NAME_MAX,
    DESCRIPTION_MAX,
    MAX_CHOSEN_PARTNERS,
    TAG_NAME_MAX,
    TITLE_MAX,
    URL_MAX,
    VERSION_MAX,
)
from partners.models import Partner, Tier


class CategoryChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return f"{obj.parent.name} › {obj.name}" if obj.parent_id else obj.name


def category_choices():
    return Category.objects.select_related("parent").order_by("parent__order", "parent__name", "order", "name")


class TagChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Tag) -> str:
        return f"{obj.get_kind_display()}: {obj.name}"


class ResourceForm(forms.Form):
    kind = forms.ChoiceField(choices=Resource.Kind.choices, label="What is it")
    title = forms.CharField(max_length=TITLE_MAX)
    description = forms.CharField(max_length=DESCRIPTION_MAX, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3, "maxlength": DESCRIPTION_MAX}))
    category = CategoryChoice(queryset=Category.objects.none(), empty_label="Choose…")
    version = forms.CharField(max_length=VERSION_MAX, required=False,
                              help_text="e.g. 2.1 or 2026-11. A new version of a published resource tells its "
                                        "audience again.")
    file = forms.FileField(required=False, label="File",
                           help_text="File resources: PDF, Word, Excel, PowerPoint, PNG, JPEG, text, CSV or MP4.",
                           widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}))
    url = forms.CharField(max_length=URL_MAX, required=False, label="Web address",
                          help_text="Links and videos: https://…",
                          widget=forms.URLInput(attrs={"inputmode": "url", "placeholder": "https://"}))
    body = forms.CharField(max_length=BODY_MAX, required=False, label="Article (Markdown)",
                           widget=forms.Textarea(attrs={"rows": 12}),
                           help_text="Articles: Markdown. HTML, scripts and frames are removed when shown.")
    tags = TagChoices(queryset=Tag.objects.none(), required=False, widget=forms.CheckboxSelectMultiple)
    to_all = forms.BooleanField(required=False, label="Every partner", initial=True)
    tiers = forms.ModelMultipleChoiceField(queryset=Tier.objects.none(), required=False,
                                           widget=forms.CheckboxSelectMultiple, help_text="Partners of these tiers…")
    kinds = forms.MultipleChoiceField(choices=Partner.Kind.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple, label="Partner kinds",
                                      help_text="…partners of these kinds…")
    partner_codes = forms.CharField(required=False, label="Chosen partners", max_length=20_000,
                                    help_text="…and these partners (codes, separated by commas or new lines).",
                                    widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, resource: Resource | None = None, **kwargs):
        if resource is not None and not kwargs.get("data"):
            kwargs["initial"] = {
                "kind": resource.kind, "title": resource.title, "description": resource.description,
                "category": resource.category_id, "version": resource.version, "url": resource.url,
                "body": resource.body, "tags": [t.pk for t in resource.tags.all()], "to_all": resource.to_all,
                "tiers": [t.pk for t in resource.tiers.all()], "kinds": resource.kinds,
                "partner_codes": ", ".join(p.code for p in resource.partners.all()),
            }
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = category_choices()
        self.fields["tags"].queryset = Tag.objects.order_by("kind", "name")
        self.fields["tiers"].queryset = Tier.objects.order_by("rank", "name")

    def clean_partner_codes(self) -> list[Partner]:
        codes = sorted({code.strip() for code in re.split(r"[,\n\r]+", self.cleaned_data["partner_codes"])
                        if code.strip()})
        if not codes:
            return []
        if len(codes) > MAX_CHOSEN_PARTNERS:
            raise forms.ValidationError(f"Choose at most {MAX_CHOSEN_PARTNERS} partners (or a tier or kind).")
        found = list(Partner.objects.filter(code__in=codes).only("code"))
        unknown = sorted(set(codes) - {partner.code for partner in found})
        if unknown:
            shown = ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else "")
            raise forms.ValidationError(f"No partner has the code {shown}.")
        return found

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"], "title": data["title"], "description": data["description"],
            "category": data["category"], "version": data["version"], "url": data["url"], "body": data["body"],
            "upload": data.get("file") or None, "tags": list(data["tags"]), "to_all": data["to_all"],
            "tiers": list(data["tiers"]), "kinds": data["kinds"], "partners": data["partner_codes"],
        }


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=CATEGORY_NAME_MAX)
    parent = forms.ModelChoiceField(queryset=Category.objects.none(), required=False, empty_label="— none (a top "
                                    "category) —", label="Inside", help_text="Leave empty for a top category.")
    order = forms.IntegerField(min_value=0, max_value=32767, initial=0, required=False)

    def __init__(self, *args, category: Category | None = None, **kwargs):
        if category is not None and not kwargs.get("data"):
            kwargs["initial"] = {"name": category.name, "parent": category.parent_id, "order": category.order}
        super().__init__(*args, **kwargs)
        tops = Category.objects.filter(parent__isnull=True).order_by("order", "name")
        if category is not None and category.pk:
            tops = tops.exclude(pk=category.pk)
        self.fields["parent"].queryset = tops

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"name": data["name"], "parent": data["parent"], "order": data.get("order") or 0}


class TagForm(forms.Form):
    kind = forms.ChoiceField(choices=Tag.Kind.choices)
    name = forms.CharField(max_length=TAG_NAME_MAX)

    def service_kwargs(self) -> dict:
        return {"kind": self.cleaned_data["kind"], "name": self.cleaned_data["name"]}


class StaffFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    category = CategoryChoice(queryset=Category.objects.none(), required=False, empty_label="All")
    kind = forms.ChoiceField(choices=[("", "All"), *Resource.Kind.choices], required=False)
    state = forms.ChoiceField(choices=[("", "All"), ("published", "Published"), ("draft", "Not published")],
                              required=False)
    tag = forms.ModelChoiceField(queryset=Tag.objects.none(), required=False, empty_label="All")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = category_choices()
        self.fields["tag"].queryset = Tag.objects.order_by("kind", "name")

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"q": data["q"], "category": data["category"].pk if data["category"] else None, "kind": data["kind"],
                "state": data["state"], "tag": data["tag"].pk if data["tag"] else None}
