"""Included under /insights/ (URL names ``insights:…``): reactions to an insight. Being written (issue 12)."""

app_name = "insights"

urlpatterns: list = []
