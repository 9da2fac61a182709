"""Demo data of content pages and onboarding (issue 15): a Getting Started page for everyone (and one for Platinum
partners), an FAQ per tier, two other pages, and one published track for everyone with a step of every kind (read a
resource, watch a video, read a page, acknowledge a statement, a three-question quiz, upload a document). Written
through ``library.page_services`` and ``library.onboarding_services``.

Runs at the end of ``devtools.demo.demo_seed`` (``manage.py seed_demo``), after the library's demo resources (the
track's reading and video steps use two of them when they are there); does nothing when a track exists already, so it
is safe to run twice.
"""

from collections.abc import Callable

from django.db import transaction

from library.models import ContentPage, Resource, Step, Track
from library.onboarding_services import quiz_question_add, step_save, track_save
from library.page_services import content_page_save
from partners.models import Partner, Tier

GETTING_STARTED = """# Welcome to the partner portal

Everything you need to work with us is here:

1. **Register your deals** (*Deals*): the first complete registration of a prospect is protected.
2. **Take the leads we share** (*Leads*): accept or decline within the deadline.
3. **Read the library** (*Library*): guides, price lists, videos.
4. **Walk your onboarding track** (*Getting started → Onboarding*): about twenty minutes, at your own pace.

Questions? Ask them on any onboarding step: your partner manager answers.
"""

PLATINUM_START = """# Welcome, Platinum partner

As a Platinum partner you get **priority review** of deal registrations, the longest protection and a named
partner manager. Start with your onboarding track, then book a planning call.
"""

FAQ = """# Frequently asked questions — {tier} partners

**How long is a registered deal protected?**
{days} days from approval; you may ask once for an extension.

**Who reviews my registrations?**
Your partner manager, usually within two working days.

**Where are the price lists?**
In the *Library*, under *Selling*.
"""

OTHERS = [
    ("Co-marketing funds", "# Co-marketing funds\n\nAsk your partner manager for the yearly co-marketing budget "
                           "of your tier, and find the templates in the library."),
    ("Support and contacts", "# Support\n\n- Partner desk: partners@example.com\n- Deal desk: deals@example.com\n"),
]
DAYS = {"Platinum": 120, "Gold": 90, "Silver": 60}


def _resource(kinds: tuple[str, ...], *, title: str = "") -> Resource | None:
    found = Resource.objects.filter(published=True, kind__in=kinds)
    return (found.filter(title=title).first() if title else None) or found.order_by("id").first()


def onboarding_seed(*, progress: Callable[[str], None] | None = None) -> int:
    """Create the demo pages and track (once). Returns how many steps were created."""
    progress = progress or (lambda message: None)
    if Track.objects.exists():
        progress("onboarding: already there")
        return 0
    with transaction.atomic():
        tiers = {tier.name: tier for tier in Tier.objects.all()}
        content_page_save(page=None, by=None, kind=ContentPage.Kind.GETTING_STARTED, title="Getting started",
                          body=GETTING_STARTED)
        if "Platinum" in tiers:
            content_page_save(page=None, by=None, kind=ContentPage.Kind.GETTING_STARTED,
                              title="Getting started (Platinum)", body=PLATINUM_START, tier=tiers["Platinum"])
        content_page_save(page=None, by=None, kind=ContentPage.Kind.FAQ, title="FAQ",
                          body=FAQ.format(tier="all", days=90))
        for name, tier in tiers.items():
            content_page_save(page=None, by=None, kind=ContentPage.Kind.FAQ, title=f"FAQ for {name} partners",
                              body=FAQ.format(tier=name, days=DAYS.get(name, 90)), tier=tier)
        content_page_save(page=None, by=None, kind=ContentPage.Kind.FAQ, title="FAQ for individual partners",
                          body=FAQ.format(tier="individual", days=60), partner_kind=Partner.Kind.INDIVIDUAL)
        rules = None
        for order, (title, body) in enumerate(OTHERS, 1):
            rules = rules or content_page_save(page=None, by=None, kind=ContentPage.Kind.OTHER, title=title,
                                               body=body, order=order)
            if rules.title != title:
                content_page_save(page=None, by=None, kind=ContentPage.Kind.OTHER, title=title, body=body,
                                  order=order)

        track = track_save(track=None, name="Welcome aboard", published=True, stall_days=7,
                           description="Your first steps as a partner: twenty minutes, at your own pace.")
        steps = 0
        guide = _resource(("article", "file", "link"), title="Welcome to the partner programme")
        if guide is not None:
            step_save(step=None, track=track, kind=Step.Kind.RESOURCE, title="Read the programme welcome",
                      resource=guide)
            steps += 1
        video = _resource(("video",), title="Deal registration walkthrough")
        if video is not None:
            step_save(step=None, track=track, kind=Step.Kind.VIDEO, title="Watch the deal registration walkthrough",
                      resource=video)
            steps += 1
        step_save(step=None, track=track, kind=Step.Kind.PAGE, title="Read about co-marketing funds", page=rules)
        step_save(step=None, track=track, kind=Step.Kind.ACKNOWLEDGE, title="Our code of conduct",
                  statement="I will register only real opportunities, keep customer data confidential and follow "
                            "the programme's brand guidelines.")
        quiz = step_save(step=None, track=track, kind=Step.Kind.QUIZ, title="A short quiz", pass_mark=2)
        quiz_question_add(step=quiz, text="When should you register a deal?",
                          choices=["As early as possible", "After the customer signed", "Never"], correct=[0])
        quiz_question_add(step=quiz, text="Who reviews your deal registrations?",
                          choices=["Your partner manager", "Another partner", "Nobody"], correct=[0])
        quiz_question_add(step=quiz, text="Can a protection be extended?",
                          choices=["Yes, once, on request", "No", "Yes, forever"], correct=[0])
        step_save(step=None, track=track, kind=Step.Kind.UPLOAD, title="Upload your signed partner agreement")
        steps += 4
    progress(f"onboarding: {ContentPage.objects.count()} pages, a track of {steps} steps")
    return steps
