"""Demo data of the resource library (issue 15): a few categories (one level of subcategories), tags of the three
kinds and a dozen resources — articles, links, videos and two small files — for everyone, for a tier, for
individuals. Written through ``library.services`` (so the search documents and checks are the real ones), published
silently (``tell=False``: a demo's 600 partner users are not notified of a dozen documents).

Runs at the end of ``devtools.demo.demo_seed`` (``manage.py seed_demo``); does nothing when the library already has
categories, so it is safe to run twice. Files go to the default storage (MEDIA_ROOT in development).
"""

import io
import zipfile

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from library import services
from library.models import Category, Resource, Tag
from partners.models import Partner, Tier

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

CATEGORIES = {
    "Getting started": ["Programme basics", "Portal how-tos"],
    "Selling": ["Deal registration", "Playbooks"],
    "Marketing": ["Co-marketing", "Brand assets"],
    "Products": [],
}
TAGS = {
    Tag.Kind.PROGRAM_STEP: ["Onboarding", "Deal registration", "Co-marketing"],
    Tag.Kind.INDUSTRY: ["Retail", "Manufacturing", "Agriculture"],
    Tag.Kind.DOCUMENT_TYPE: ["Guide", "Price list", "Video", "Template"],
}


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
    return buffer.getvalue()


# title, category (parent/child or top), kind, tag names, audience, extra fields
RESOURCES = [
    ("Welcome to the partner programme", "Getting started/Programme basics", "article", ["Onboarding", "Guide"], "all",
     {"description": "What the programme gives you and what we expect, in five minutes.",
      "body": "# Welcome\n\nThis portal is where you **register deals**, take the leads we share and find everything "
              "you need to sell.\n\n## Your first week\n\n1. Complete your company profile.\n2. Read the deal "
              "registration guide.\n3. Book your onboarding call with your channel manager.\n"}),
    ("How to register a deal", "Selling/Deal registration", "article", ["Deal registration", "Guide"], "all",
     {"description": "Protection, extensions and conflicts explained.", "version": "2.0",
      "body": "# Registering a deal\n\nRegister early: the first complete registration of a prospect wins "
              "**protection** for the days of your tier.\n\n| Tier | Days |\n|---|---|\n| Platinum | 120 |\n"
              "| Gold | 90 |\n| Silver | 60 |\n\nYou can ask for one extension.\n"}),
    ("Deal registration walkthrough", "Selling/Deal registration", "video", ["Deal registration", "Video"], "all",
     {"url": "https://videos.example.com/deal-registration", "description": "A six-minute screen recording."}),
    ("Partner programme guide (PDF)", "Getting started/Programme basics", "file", ["Onboarding", "Guide"], "all",
     {"file": ("partner-programme-guide.pdf", PDF), "version": "2026.2",
      "description": "The full programme guide: tiers, benefits, obligations."}),
    ("Gold price list", "Products", "file", ["Price list"], "tier:Gold",
     {"file": ("gold-price-list.xlsx", _xlsx()), "version": "Q1",
      "description": "List and partner prices for Gold partners."}),
    ("Platinum price list", "Products", "file", ["Price list"], "tier:Platinum",
     {"file": ("platinum-price-list.xlsx", _xlsx()), "version": "Q1",
      "description": "List and partner prices for Platinum partners."}),
    ("Retail playbook", "Selling/Playbooks", "article", ["Retail", "Guide"], "all",
     {"description": "Who buys, why, and how to run the first meeting.",
      "body": "# Retail playbook\n\nStart with the store manager, not head office.\n\n- Ask about shrinkage\n"
              "- Ask about peak staffing\n"}),
    ("Manufacturing playbook", "Selling/Playbooks", "article", ["Manufacturing", "Guide"], "all",
     {"body": "# Manufacturing playbook\n\nDowntime is the language of the plant manager.\n"}),
    ("Co-marketing fund rules", "Marketing/Co-marketing", "article", ["Co-marketing", "Guide"], "tiers:Gold,Platinum",
     {"description": "How to claim your co-marketing money.",
      "body": "# Co-marketing funds\n\nSubmit your plan **before** the campaign; claims need proof of execution.\n"}),
    ("Campaign brief template", "Marketing/Co-marketing", "link", ["Co-marketing", "Template"], "all",
     {"url": "https://docs.example.com/templates/campaign-brief"}),
    ("Logo and brand guidelines", "Marketing/Brand assets", "link", ["Template"], "all",
     {"url": "https://brand.example.com/partners"}),
    ("Selling as an independent agent", "Getting started/Portal how-tos", "article", ["Onboarding", "Guide"],
     "kind:individual",
     {"body": "# For independent agents\n\nYour commission statements are in the portal every month.\n"}),
]


def library_seed(*, progress=None) -> int:
    """Create the demo library (once). Returns how many resources were created."""
    progress = progress or (lambda message: None)
    if Category.objects.exists():
        progress("library: already there")
        return 0
    with transaction.atomic():
        categories = {}
        for order, (top_name, children) in enumerate(CATEGORIES.items()):
            top = services.category_save(category=None, name=top_name, order=order)
            categories[top_name] = top
            for child_order, child_name in enumerate(children):
                categories[f"{top_name}/{child_name}"] = services.category_save(
                    category=None, name=child_name, parent=top, order=child_order)
        tags = {name: services.tag_save(tag=None, kind=kind, name=name) for kind, names in TAGS.items()
                for name in names}
        tiers = {tier.name: tier for tier in Tier.objects.all()}
        manager = get_user_model().objects.filter(username="manager").first()
        for title, category, kind, tag_names, audience, extra in RESOURCES:
            extra = dict(extra)
            audience_kwargs = {"to_all": audience == "all"}
            if audience.startswith("tier:") or audience.startswith("tiers:"):
                names = audience.split(":", 1)[1].split(",")
                audience_kwargs["tiers"] = [tiers[name] for name in names if name in tiers]
                audience_kwargs["to_all"] = not audience_kwargs["tiers"]
            elif audience.startswith("kind:"):
                audience_kwargs["kinds"] = [Partner.Kind(audience.split(":", 1)[1])]
            file = extra.pop("file", None)
            upload = SimpleUploadedFile(file[0], file[1]) if file else None
            services.resource_save(
                resource=None, by=manager, kind=Resource.Kind(kind), title=title, category=categories[category],
                tags=[tags[name] for name in tag_names], upload=upload, publish=True, tell=False,
                **audience_kwargs, **extra,
            )
    progress(f"library: {len(categories)} categories, {len(tags)} tags, {len(RESOURCES)} resources")
    return len(RESOURCES)
